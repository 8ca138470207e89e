"""The server's side of the fork server: start a task's worker, learn its pid, await its exit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fate_nb.flow.config import FlowConfig

log = logging.getLogger(__name__)

FORKSERVER_COMMAND = (sys.executable, "-m", "fate_nb.flow.forkserver")
CLOSE_GRACE_S = 5.0


class LauncherGone(Exception):
    """The fork server ended; the workers it started can no longer be awaited."""


@dataclass
class Worker:
    """A running task worker: its pid (a process group leader) and its exit code to come."""

    pid: int
    exited: asyncio.Future[int]


class WorkerLauncher:
    """Owns the fork server process and turns its report lines into futures."""

    def __init__(self, config: FlowConfig) -> None:
        self.config = config
        self._process: asyncio.subprocess.Process | None = None
        self._starting_server: asyncio.Task[asyncio.subprocess.Process] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._starts: dict[str, asyncio.Future[Worker]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._lock = asyncio.Lock()

    def warm_up(self) -> None:
        """Start the fork server now, so that the first task does not wait for its imports."""
        if self._starting_server is None:
            self._starting_server = asyncio.get_running_loop().create_task(self._spawn())

    async def launch(self, spec: dict[str, Any], log_path: Path) -> Worker:
        """Start a worker for the task in ``spec``; its output goes to ``log_path``."""
        process = await self._server()
        key = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        started: asyncio.Future[Worker] = loop.create_future()
        self._starts[key] = started
        line = json.dumps({**spec, "key": key, "log_path": str(log_path)}).encode() + b"\n"
        assert process.stdin is not None
        async with self._lock:
            process.stdin.write(line)
            await process.stdin.drain()
        try:
            return await asyncio.shield(started)
        except asyncio.CancelledError:
            # The fork may be under way: stop the worker once its pid is known.
            with contextlib.suppress(Exception):
                await stop_worker(await asyncio.wait_for(started, CLOSE_GRACE_S), 0)
            raise

    async def close(self) -> None:
        """Stop the fork server; workers still running have been stopped by the scheduler."""
        process = self._process
        if self._starting_server is not None and process is None:
            with contextlib.suppress(Exception):
                process = await self._starting_server
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), CLOSE_GRACE_S)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _server(self) -> asyncio.subprocess.Process:
        if self._process is not None and self._process.returncode is None:
            return self._process
        if self._starting_server is None or self._starting_server.done():
            if self._starting_server is not None:
                log.warning("the worker fork server ended; starting a new one")
            self._starting_server = asyncio.get_running_loop().create_task(self._spawn())
        return await self._starting_server

    async def _spawn(self) -> asyncio.subprocess.Process:
        log_path = self.config.logs_dir / "fate_nb_forkserver.log"
        with open(log_path, "ab") as log_file:
            process = await asyncio.create_subprocess_exec(
                *FORKSERVER_COMMAND,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log_file,
                env={**os.environ, **self.config.worker_env()},
                # The home folder: nothing in the server's working directory can shadow a module.
                cwd=self.config.home,
                start_new_session=True,
            )
        self._process = process
        self._reader = asyncio.get_running_loop().create_task(self._read(process))
        return process

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        loop = asyncio.get_running_loop()
        async for line in process.stdout:
            event = json.loads(line)
            if event["event"] == "started":
                exited: asyncio.Future[int] = loop.create_future()
                self._exits[event["pid"]] = exited
                started = self._starts.pop(event["key"], None)
                if started is not None and not started.done():
                    started.set_result(Worker(event["pid"], exited))
            elif event["event"] == "exited":
                ended = self._exits.pop(event["pid"], None)
                if ended is not None and not ended.done():
                    ended.set_result(event["returncode"])

        await process.wait()
        gone = LauncherGone(f"the worker fork server ended with code {process.returncode}")
        for future in [*self._starts.values(), *self._exits.values()]:
            if not future.done():
                future.set_exception(gone)
        self._starts.clear()
        self._exits.clear()


async def stop_worker(worker: Worker, grace_s: float) -> None:
    """Ask a worker's process group to stop; kill it after ``grace_s`` seconds."""
    if worker.exited.done() and worker.exited.exception() is None:
        return
    # Without a fork server (LauncherGone) nobody reports the exit: signal the group anyway.
    _signal_group(worker.pid, signal.SIGTERM)
    with contextlib.suppress(asyncio.TimeoutError, LauncherGone):
        await asyncio.wait_for(asyncio.shield(worker.exited), grace_s)
    # SIGKILL whatever is left: a worker past its grace, or anything the worker started.
    _signal_group(worker.pid, signal.SIGKILL)
    with contextlib.suppress(asyncio.TimeoutError, LauncherGone):
        await asyncio.wait_for(asyncio.shield(worker.exited), CLOSE_GRACE_S)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
