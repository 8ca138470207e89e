"""The process that starts task workers: ``python -m fate_nb.flow.forkserver``.

It imports every component once, then forks one child per task named on its stdin, so that a
task starts in milliseconds instead of paying for the imports again. Each child leads a process
group of its own and writes to its task's log. The fork server reports on stdout, one JSON
object per line: ``{"event": "started", "key", "pid"}`` and ``{"event": "exited", "pid",
"returncode"}`` (negative for a signal, as subprocess reports it).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import selectors
import signal
import sys
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.engine import Engine

from fate_nb.components import registry
from fate_nb.flow import jobs, tables, tracking
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import FlowError
from fate_nb.flow.store import Job, create_store_engine, session
from fate_nb.flow.worker import EXIT_FAILED, run_task, stop_on_sigterm

READ_SIZE = 65536


class ForkServer:
    """Reads task specs, forks a worker for each, and reports starts and exits."""

    def __init__(self, config: FlowConfig, engine: Engine) -> None:
        self._config = config
        self._engine = engine
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector = selectors.DefaultSelector()
        self._pending = b""

    def serve(self) -> None:
        """Run until stdin closes: the server stopped, or is gone."""
        signal.set_wakeup_fd(self._wake_w)
        # A handler, not SIG_DFL, so that the wake-up pipe hears of every child that ends.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self._selector.register(0, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        while True:
            for key, _ in self._selector.select():
                if key.fd == self._wake_r:
                    self._drain_wake_pipe()
                    self._reap()
                elif not self._read_specs():
                    return

    def _read_specs(self) -> bool:
        data = os.read(0, READ_SIZE)
        if not data:
            return False
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            if line.strip():
                self._fork(json.loads(line))
        return True

    def _drain_wake_pipe(self) -> None:
        try:
            while os.read(self._wake_r, READ_SIZE):
                pass
        except BlockingIOError:
            pass

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            _report(
                {"event": "exited", "pid": pid, "returncode": os.waitstatus_to_exitcode(status)}
            )

    def _fork(self, spec: dict[str, Any]) -> None:
        pid = os.fork()
        if pid == 0:
            code = EXIT_FAILED
            try:
                code = self._child(spec)
            finally:
                os._exit(code)
        _report({"event": "started", "key": spec["key"], "pid": pid})

    def _child(self, spec: dict[str, Any]) -> int:
        """In the forked child: a group of its own, the task's log as output, then the task."""
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        log_fd = os.open(spec["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)

        stop_on_sigterm()
        logging.basicConfig(
            level=logging.INFO,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            force=True,
        )
        # The engine's pool is empty (see warm_up); this also forgets the parent's pool state.
        self._engine.dispose(close=False)
        try:
            return run_task(
                self._config,
                spec["job_id"],
                spec["task_id"],
                spec["role"],
                spec["party_id"],
                engine=self._engine,
                federation=spec.get("federation"),
            )
        finally:
            logging.shutdown()
            sys.stderr.flush()


def warm_up(config: FlowConfig) -> Engine:
    """Do once, before any fork, what every task would otherwise do first.

    That is the imports pyarrow and SQLAlchemy make on first use, and the compiling of the
    store's read statements (cached per engine, so the children inherit them). Only reads,
    with ids that match nothing. The engine is returned with no open connection.
    """
    frame = pd.DataFrame({"id": ["0"], "x0": [0.0]})
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    pq.read_table(io.BytesIO(buffer.getvalue())).to_pandas()

    engine = create_store_engine(config.db_url)
    with contextlib.suppress(FlowError):
        jobs.get_task(engine, "", "", "", "")
    with contextlib.suppress(FlowError):
        jobs.get_job(engine, "")
    with session(engine) as db:
        db.get(Job, ("", "", ""))
    tables.get_table(engine, "", "")
    tracking.output_tables(engine, "", "", "", "")
    tracking.component_models(engine, "", "", "", "")
    engine.dispose()
    return engine


def _report(event: dict[str, Any]) -> None:
    os.write(1, json.dumps(event).encode() + b"\n")


def main() -> int:
    """Import every component, then serve task specs until stdin closes."""
    registry()
    config = FlowConfig.from_env()
    ForkServer(config, warm_up(config)).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
