"""Running jobs on the server's event loop: queue, DAG order, stop, timeout.

Every task runs in a worker process of its own, in a process group of its own, so that a stop
or a timeout can end it and whatever it started. The parties of a component run at the same
time (they talk to each other); a failed party stops its peers at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Engine

from fate_nb.federation.broker import Broker
from fate_nb.flow import jobs, models, plans
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.dsl import ComponentPlan
from fate_nb.flow.launcher import LauncherGone, Worker, WorkerLauncher, stop_worker
from fate_nb.flow.store import Task

log = logging.getLogger(__name__)

# A stopped worker gets this long to remove what it half-wrote before it is killed.
STOP_GRACE_S = 1.0


class JobScheduler:
    """Starts jobs as they are submitted, at most ``max_concurrent_jobs`` at a time."""

    def __init__(self, config: FlowConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self._slots: asyncio.Semaphore | None = None
        self._runs: dict[str, asyncio.Task[None]] = {}
        # Why a job's run was cancelled: (status for its running tasks, reason).
        self._stopping: dict[str, tuple[str, str]] = {}
        self._queued: list[str] = []
        self.launcher = WorkerLauncher(config)
        self.broker = Broker()

    def queue(self, job_ids: Iterable[str]) -> None:
        """Remember waiting jobs found at start-up; ``resume`` starts them on the event loop."""
        self._queued.extend(job_ids)

    def resume(self) -> None:
        """Start the jobs queued by ``queue``. Call from the event loop."""
        queued, self._queued = self._queued, []
        for job_id in queued:
            self.start(job_id)
        if queued:
            log.info("jobs waiting since the last shutdown queued again: %s", ", ".join(queued))

    def start(self, job_id: str) -> None:
        """Queue a job; it runs as soon as a slot is free. Call from the event loop."""
        self.resume()
        run = asyncio.get_running_loop().create_task(self._run_job(job_id))
        self._runs[job_id] = run
        run.add_done_callback(lambda _: self._runs.pop(job_id, None))

    async def stop(self, job_id: str, status: str, reason: str) -> None:
        """End a job's run: its workers are stopped and its unfinished tasks marked."""
        self._stopping[job_id] = (status, reason)
        run = self._runs.get(job_id)
        if run is not None:
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
        self._stopping.pop(job_id, None)
        await asyncio.to_thread(jobs.end_unfinished_tasks, self.engine, job_id, status, reason)

    async def shutdown(self) -> None:
        """Stop every worker; running jobs fail, waiting ones wait for the next start."""
        runs = list(self._runs.values())
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        await self.launcher.close()
        await self.broker.close()
        failed = await asyncio.to_thread(
            jobs.fail_running_jobs, self.engine, "the server stopped while the job ran"
        )
        if failed:
            log.warning("server stopping: jobs cut short and failed: %s", ", ".join(failed))

    async def _run_job(self, job_id: str) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.max_concurrent_jobs)
        async with self._slots:
            job = await asyncio.to_thread(jobs.get_job, self.engine, job_id)
            if job.status != jobs.WAITING:
                return
            await asyncio.to_thread(jobs.update_job, self.engine, job_id, status=jobs.RUNNING)
            log.info("job %s started", job_id)

            timeout = 0.0
            try:
                plan = plans.load_plan(job)
                timeout = plans.job_timeout(plan.job_parameters)
                status, error = await asyncio.wait_for(self._run_dag(job_id, plan), timeout)
            except asyncio.TimeoutError:
                status, error = (
                    jobs.TIMEOUT,
                    f"the job ran longer than its timeout of {timeout:g} s",
                )
            except asyncio.CancelledError:
                if job_id not in self._stopping:
                    raise
                status, error = self._stopping[job_id]
            except Exception:
                log.exception("job %s could not be run", job_id)
                status, error = jobs.FAILED, "the scheduler failed; the server log has the details"

            # Whatever a party still waits for will not come now.
            self.broker.drop_job(job_id)
            try:
                await asyncio.to_thread(self._end_job, job_id, status, error)
            except Exception:
                # The store failed; the next start fails the job, which stays running till then.
                log.exception("job %s ended %s but could not be recorded", job_id, status)

    def _end_job(self, job_id: str, status: str, error: str | None) -> None:
        if status == jobs.SUCCESS:
            try:
                models.register_job(self.engine, job_id)
            except Exception:
                log.exception("job %s: its models could not be registered", job_id)
                status = jobs.FAILED
                error = "the job's models could not be registered; the server log has the details"
        fields: dict[str, object] = {"status": status, "error": error}
        if status == jobs.SUCCESS:
            fields["progress"] = 100
        else:
            jobs.end_unfinished_tasks(self.engine, job_id, status, error or status)
        jobs.update_job(self.engine, job_id, **fields)
        if error:
            log.warning("job %s ended: %s (%s)", job_id, status, error)
        else:
            log.info("job %s ended: %s", job_id, status)

    async def _run_dag(self, job_id: str, plan: plans.JobPlan) -> tuple[str, str | None]:
        """Run components as their upstreams succeed, up to ``task_parallelism`` at once."""
        tasks = await asyncio.to_thread(jobs.job_tasks, self.engine, job_id)
        parallelism = plans.task_parallelism(plan.job_parameters)
        pending = list(plan.components)
        running: dict[asyncio.Task[str | None], ComponentPlan] = {}
        done: set[str] = set()

        try:
            while pending or running:
                for component in list(pending):
                    if len(running) >= parallelism:
                        break
                    if all(up in done for up in component.upstream):
                        pending.remove(component)
                        own = [t for t in tasks if t.component_name == component.name]
                        runner = asyncio.ensure_future(
                            self._run_component(component, own, plan.roles)
                        )
                        running[runner] = component

                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for runner in finished:
                    component = running.pop(runner)
                    error = runner.result()
                    if error is not None:
                        return jobs.FAILED, f"{component.name}: {error}"
                    done.add(component.name)
                    await asyncio.to_thread(
                        jobs.update_job,
                        self.engine,
                        job_id,
                        progress=100 * len(done) // len(plan.components),
                        current_tasks=json.dumps([f"{job_id}_{component.name}"]),
                    )
            return jobs.SUCCESS, None
        finally:
            await _cancel_all(running)

    async def _run_component(
        self, component: ComponentPlan, tasks: list[Task], roles: dict[str, list[int]]
    ) -> str | None:
        """Run every party's task at once; the first failure stops the others. None is success."""
        runners = {asyncio.ensure_future(self._run_task(task, roles)): task for task in tasks}
        try:
            while runners:
                finished, _ = await asyncio.wait(runners, return_when=asyncio.FIRST_COMPLETED)
                for runner in finished:
                    task = runners.pop(runner)
                    ended = runner.result()
                    if ended.status != jobs.SUCCESS:
                        return f"{task.role} {task.party_id} {ended.status}: {ended.error}"
            return None
        finally:
            await _cancel_all(runners)

    async def _run_task(self, task: Task, roles: dict[str, list[int]]) -> Task:
        """Start the worker for one task, wait for it, and return the task as it ended."""
        log_dir = self.config.job_log_dir(task.job_id) / task.role / task.party_id
        log_dir = log_dir / task.component_name
        await asyncio.to_thread(log_dir.mkdir, parents=True, exist_ok=True)

        spec: dict[str, Any] = {
            "job_id": task.job_id,
            "task_id": task.task_id,
            "role": task.role,
            "party_id": task.party_id,
        }
        socket_path = await self.broker.start()
        token = self.broker.register(
            task.job_id, task.component_name, task.role, task.party_id, roles
        )
        spec["federation"] = {"socket": str(socket_path), "token": token}
        worker: Worker | None = None
        try:
            worker = await self.launcher.launch(spec, log_dir / "std.log")
            returncode: int | None = await asyncio.shield(worker.exited)
        except asyncio.CancelledError:
            if worker is not None:
                await stop_worker(worker, STOP_GRACE_S)
            raise
        except LauncherGone:
            # Nobody can await the worker any more; end it, so that it cannot outlive its task.
            if worker is not None:
                await stop_worker(worker, 0)
            returncode = None
        finally:
            self.broker.unregister(token)

        ended = await asyncio.to_thread(
            jobs.get_task, self.engine, task.job_id, task.task_id, task.role, task.party_id
        )
        if ended.status not in jobs.END_STATUSES:
            reason = _exit_reason(returncode)
            log.error("task %s of %s %s: %s", task.task_id, task.role, task.party_id, reason)
            ended = await asyncio.to_thread(
                jobs.update_task, self.engine, ended, status=jobs.FAILED, error=reason
            )
        return ended

    def warm_up(self) -> None:
        """Start the worker fork server now, so that the first task does not wait for imports."""
        self.launcher.warm_up()


def _exit_reason(returncode: int | None) -> str:
    if returncode is None:
        return "the worker fork server ended unexpectedly; the server log has the details"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return f"the worker process was killed by {name} before it finished"
    return f"the worker process exited with code {returncode} before it finished"


async def _cancel_all(runners: Iterable[asyncio.Future[object]]) -> None:
    """Cancel futures still running and wait until each has cleaned up.

    Finished ones are gathered too, so that an error nobody looked at is not left behind.
    """
    runners = list(runners)
    for runner in runners:
        runner.cancel()
    await asyncio.gather(*runners, return_exceptions=True)
