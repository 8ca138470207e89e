"""The process that runs one task of one party: ``python -m fate_nb.flow.worker``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable

from sqlalchemy.engine import Engine

from fate_nb.components import TaskContext, get_component
from fate_nb.flow import jobs
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import FlowError
from fate_nb.flow.store import create_store_engine

log = logging.getLogger("fate_nb.worker")

EXIT_FAILED = 3


def _progress_reporter(engine: Engine, job_id: str) -> Callable[[float], None]:
    """A callback that writes a job's progress when its whole percentage changes."""
    last = [-1]

    def report(fraction: float) -> None:
        percent = min(99, int(fraction * 100))
        if percent != last[0]:
            last[0] = percent
            jobs.update_job(engine, job_id, progress=percent)

    return report


def run_task(config: FlowConfig, job_id: str, task_id: str, role: str, party_id: str) -> int:
    """Run the task and record its end; return the process exit code."""
    engine = create_store_engine(config.db_url)
    task = jobs.get_task(engine, job_id, task_id, role, party_id)
    task = jobs.update_task(engine, task, status=jobs.RUNNING, run_pid=os.getpid())
    log.info("task %s (%s) started for %s %s", task_id, task.module_name, role, party_id)

    try:
        ctx = TaskContext(
            config=config,
            engine=engine,
            task=task,
            parameters=jobs.task_parameters(config, task),
            progress=_progress_reporter(engine, job_id),
        )
        summary = get_component(task.module_name)(ctx)
    except FlowError as error:
        log.error("task %s failed: %s", task_id, error.message)
        jobs.update_task(engine, task, status=jobs.FAILED, error=error.message)
        return EXIT_FAILED
    except Exception as error:
        log.exception("task %s failed unexpectedly", task_id)
        reason = f"unexpected {type(error).__name__}; the task log has the details"
        jobs.update_task(engine, task, status=jobs.FAILED, error=reason)
        return EXIT_FAILED

    jobs.update_task(engine, task, status=jobs.SUCCESS, summary=json.dumps(summary))
    log.info("task %s succeeded", task_id)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one task."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--job-id", required=True)
    parser.add_argument("--task-id", required=True)
    parser.add_argument("--role", required=True)
    parser.add_argument("--party-id", required=True)
    options = parser.parse_args(argv)

    # A stop request unwinds the task, so that half-written tables are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(EXIT_FAILED))
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run_task(
        FlowConfig.from_env(), options.job_id, options.task_id, options.role, options.party_id
    )


if __name__ == "__main__":
    sys.exit(main())
