"""The process that runs one task of one party: ``python -m fate_nb.flow.worker``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Engine

from fate_nb.components import TaskContext, get_component
from fate_nb.flow import jobs
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.contexts import build_context
from fate_nb.flow.errors import FlowError
from fate_nb.flow.store import Task, create_store_engine

log = logging.getLogger("fate_nb.worker")

EXIT_FAILED = 3
# Set when the scheduler asked this worker to stop; the scheduler records why, not the worker.
_stop_requested = threading.Event()


def stop_on_sigterm() -> None:
    """Make SIGTERM unwind the task, so that what it half-wrote is removed on the way out."""

    def stop(*_: object) -> None:
        _stop_requested.set()
        raise SystemExit(EXIT_FAILED)

    signal.signal(signal.SIGTERM, stop)


PROGRESS_EVERY_S = 0.5
PARENT_CHECK_S = 0.5


def _progress_reporter(engine: Engine, task: Task) -> Callable[[float], None]:
    """A callback for a component's progress; local jobs show it as the job's progress."""
    last = {"percent": -1, "time": 0.0}
    # A DSL job's progress counts finished components; only one-task local jobs show more.
    shown = task.role == jobs.LOCAL_ROLE

    def report(fraction: float) -> None:
        percent = min(99, int(fraction * 100))
        now = time.monotonic()
        if shown and percent != last["percent"] and now - last["time"] >= PROGRESS_EVERY_S:
            last.update(percent=percent, time=now)
            jobs.update_job(engine, task.job_id, progress=percent)

    return report


def _watch_parent() -> None:
    """Stop the task once the process that started it is gone.

    Nobody would record the task's end, and the next server start fails its job anyway; the
    stop unwinds the task like a stop request, so that what it half-wrote is removed.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        log.error("the server that started this task is gone; stopping the task")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_task(
    config: FlowConfig,
    job_id: str,
    task_id: str,
    role: str,
    party_id: str,
    engine: Engine | None = None,
    federation: Mapping[str, str] | None = None,
) -> int:
    """Run the task and record its end; return the process exit code.

    ``engine`` is one the fork server made and used before forking (its compiled statements
    are cached); it must hold no open connection, since the child must open its own.
    """
    engine = engine or create_store_engine(config.db_url)
    try:
        return _run(config, engine, job_id, task_id, role, party_id, federation)
    finally:
        engine.dispose()


def _execute(ctx: TaskContext) -> dict[str, Any]:
    """Run the component, or pass its input through when the party has ``need_run`` false."""
    if not ctx.params.need_run:
        inputs = [table for found in ctx.data_inputs.values() for table in found]
        if inputs:
            ctx.pass_through(inputs[0])
        log.info("%s has need_run false here; its input passes through", ctx.task.component_name)
        return {"need_run": False}
    return get_component(ctx.task.module_name)().run(ctx)


def _run(
    config: FlowConfig,
    engine: Engine,
    job_id: str,
    task_id: str,
    role: str,
    party_id: str,
    federation: Mapping[str, str] | None,
) -> int:
    task = jobs.get_task(engine, job_id, task_id, role, party_id)
    if task.status in jobs.END_STATUSES:
        log.warning("task %s already ended (%s); not running it", task_id, task.status)
        return EXIT_FAILED
    task = jobs.update_task(engine, task, status=jobs.RUNNING, run_pid=os.getpid())
    _watch_parent()
    log.info("task %s (%s) started for %s %s", task_id, task.module_name, role, party_id)

    try:
        ctx = build_context(config, engine, task, _progress_reporter(engine, task), federation)
        try:
            summary = _execute(ctx)
        finally:
            if ctx.federation is not None:
                ctx.federation.close()
    except Exception as error:
        if _stop_requested.is_set():
            # An error raised while the stop unwound the task: the stop is the reason.
            log.warning("task %s stopped (%s while stopping)", task_id, type(error).__name__)
            raise SystemExit(EXIT_FAILED) from None
        if isinstance(error, FlowError):
            log.error("task %s failed: %s", task_id, error.message)
            reason = error.message
        else:
            log.exception("task %s failed unexpectedly", task_id)
            reason = f"unexpected {type(error).__name__}; the task log has the details"
        jobs.update_task(engine, task, status=jobs.FAILED, error=reason)
        return EXIT_FAILED

    jobs.update_task(engine, task, status=jobs.SUCCESS, summary=json.dumps(summary))
    log.info("task %s succeeded", task_id)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one task named on the command line (the fork server runs tasks without this)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--job-id")
    parser.add_argument("--task-id")
    parser.add_argument("--role")
    parser.add_argument("--party-id")
    options = parser.parse_args(argv)

    if None in (options.job_id, options.task_id, options.role, options.party_id):
        parser.error("--job-id, --task-id, --role and --party-id are required")

    stop_on_sigterm()
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run_task(
        FlowConfig.from_env(), options.job_id, options.task_id, options.role, options.party_id
    )


if __name__ == "__main__":
    code = main()
    # Everything is recorded and closed; skip the interpreter's slow teardown of pyarrow.
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)
