"""Running jobs: each task in a worker process of its own, off the server's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from fate_nb.flow import jobs
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.store import Task

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0
# Workers run in the home folder: nothing in the server's working directory can shadow a module.
WORKER_COMMAND = (sys.executable, "-m", "fate_nb.flow.worker")


class JobScheduler:
    """Starts jobs as they are submitted, at most ``max_concurrent_jobs`` at a time."""

    def __init__(self, config: FlowConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self._slots: asyncio.Semaphore | None = None
        self._runs: set[asyncio.Task[None]] = set()
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._standby: asyncio.Task[asyncio.subprocess.Process] | None = None

    def start(self, job_id: str) -> None:
        """Queue a job; it runs as soon as a slot is free. Call from the event loop."""
        run = asyncio.get_running_loop().create_task(self._run_job(job_id))
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)

    async def shutdown(self) -> None:
        """Stop every worker and mark what was cut short as failed."""
        for process in list(self._processes.values()):
            if process.returncode is None:
                process.terminate()
        if self._standby is not None:
            standby, self._standby = self._standby, None
            with contextlib.suppress(OSError):
                await self._stop(await standby)
        for run in list(self._runs):
            run.cancel()
        await asyncio.gather(*self._runs, return_exceptions=True)
        failed = await asyncio.to_thread(
            jobs.fail_interrupted_jobs, self.engine, "the server stopped"
        )
        if failed:
            log.warning("server stopping: jobs cut short and failed: %s", ", ".join(failed))

    async def _run_job(self, job_id: str) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.max_concurrent_jobs)
        async with self._slots:
            try:
                await asyncio.to_thread(jobs.update_job, self.engine, job_id, status=jobs.RUNNING)
                log.info("job %s started", job_id)
                status, error = await self._run_tasks(job_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job %s could not be run", job_id)
                status, error = jobs.FAILED, "the scheduler failed; the server log has the details"

            fields = {"status": status, "error": error}
            if status == jobs.SUCCESS:
                fields["progress"] = 100
            await asyncio.to_thread(jobs.update_job, self.engine, job_id, **fields)
            if error:
                log.warning("job %s ended: %s (%s)", job_id, status, error)
            else:
                log.info("job %s ended: %s", job_id, status)

    async def _run_tasks(self, job_id: str) -> tuple[str, str | None]:
        """Run the job's tasks one after another; stop at the first that fails."""
        tasks = await asyncio.to_thread(jobs.job_tasks, self.engine, job_id)
        for task in tasks:
            ended = await self._run_task(task)
            await asyncio.to_thread(
                jobs.update_job,
                self.engine,
                job_id,
                current_tasks=json.dumps([task.task_id]),
            )
            if ended.status != jobs.SUCCESS:
                return jobs.FAILED, f"{task.component_name}: {ended.error or ended.status}"
        return jobs.SUCCESS, None

    async def _run_task(self, task: Task) -> Task:
        """Start the worker for one task, wait for it, and return the task as it ended."""
        log_dir = self.config.job_log_dir(task.job_id) / task.role / task.party_id
        log_dir = log_dir / task.component_name
        await asyncio.to_thread(log_dir.mkdir, parents=True, exist_ok=True)

        spec = {
            "job_id": task.job_id,
            "task_id": task.task_id,
            "role": task.role,
            "party_id": task.party_id,
        }
        process = await self._hand_over(spec, log_dir / "std.log")
        self._processes[task.task_id] = process
        try:
            returncode = await process.wait()
        except asyncio.CancelledError:
            await self._stop(process)
            raise
        finally:
            self._processes.pop(task.task_id, None)

        ended = await asyncio.to_thread(
            jobs.get_task, self.engine, task.job_id, task.task_id, task.role, task.party_id
        )
        if ended.status not in jobs.END_STATUSES:
            reason = f"the worker process exited with code {returncode} before finishing"
            log.error("task %s: %s", task.task_id, reason)
            ended = await asyncio.to_thread(
                jobs.update_task, self.engine, ended, status=jobs.FAILED, error=reason
            )
        return ended

    def warm_up(self) -> None:
        """Start a standby worker now, so that the first task does not wait for imports."""
        if self._standby is None:
            self._standby = asyncio.get_running_loop().create_task(self._spawn_standby())

    async def _spawn_standby(self) -> asyncio.subprocess.Process:
        standby_log = self.config.logs_dir / "worker_standby.log"
        return await self._start_worker(["--standby"], asyncio.subprocess.PIPE, standby_log)

    async def _start_worker(
        self, args: list[str], stdin: int, log_path: Path
    ) -> asyncio.subprocess.Process:
        with open(log_path, "ab") as log_file:
            return await asyncio.create_subprocess_exec(
                *WORKER_COMMAND,
                *args,
                stdin=stdin,
                stdout=log_file,
                stderr=log_file,
                env={**os.environ, **self.config.worker_env()},
                cwd=self.config.home,
            )

    async def _hand_over(self, spec: dict[str, str], log_path: Path) -> asyncio.subprocess.Process:
        """Give a task to the standby worker (imports done) and start the next standby."""
        loop = asyncio.get_running_loop()
        standby = self._standby or loop.create_task(self._spawn_standby())
        self._standby = None
        self.warm_up()

        process = await standby
        if process.returncode is None and process.stdin is not None:
            try:
                process.stdin.write(json.dumps({**spec, "log_path": str(log_path)}).encode())
                process.stdin.write(b"\n")
                await process.stdin.drain()
                process.stdin.close()
                return process
            except (BrokenPipeError, ConnectionResetError):
                log.warning("the standby worker went away; starting a worker for the task")

        args = [f"--{key.replace('_', '-')}={value}" for key, value in spec.items()]
        return await self._start_worker(args, asyncio.subprocess.DEVNULL, log_path)

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_S)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
