"""Job and task rows: creating them, moving them through their statuses, and querying them."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fate_nb.flow import ids
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import NotFound
from fate_nb.flow.store import Job, Task, now_ms, session

log = logging.getLogger(__name__)

WAITING, RUNNING, SUCCESS, FAILED, TIMEOUT, CANCELED = (
    "waiting",
    "running",
    "success",
    "failed",
    "timeout",
    "canceled",
)
END_STATUSES = frozenset({SUCCESS, FAILED, TIMEOUT, CANCELED})

LOCAL_ROLE, LOCAL_PARTY_ID = "local", "0"


def create_local_job(
    config: FlowConfig,
    engine: Engine,
    *,
    job_id: str,
    component_name: str,
    module_name: str,
    parameters: Mapping[str, Any],
) -> Job:
    """Write the DSL, the runtime conf and the rows of a one-component job on role local."""
    dsl = {"components": {component_name: {"module": module_name}}}
    conf = {
        "initiator": {"role": LOCAL_ROLE, "party_id": int(LOCAL_PARTY_ID)},
        "role": {LOCAL_ROLE: [int(LOCAL_PARTY_ID)]},
        "job_parameters": {"work_mode": 0},
        "role_parameters": {
            LOCAL_ROLE: {
                component_name: {
                    key: [value] for key, value in parameters.items() if value is not None
                }
            }
        },
    }

    job_dir = config.job_dir(job_id)
    job_dir.mkdir(parents=True, exist_ok=True)
    (job_dir / "job_dsl.json").write_text(json.dumps(dsl, indent=2))
    (job_dir / "job_runtime_conf.json").write_text(json.dumps(conf, indent=2))
    config.job_log_dir(job_id).mkdir(parents=True, exist_ok=True)

    job = Job(
        job_id=job_id,
        role=LOCAL_ROLE,
        party_id=LOCAL_PARTY_ID,
        roles=json.dumps(conf["role"]),
        initiator_role=LOCAL_ROLE,
        initiator_party_id=LOCAL_PARTY_ID,
        is_initiator=1,
        dsl=json.dumps(dsl),
        runtime_conf=json.dumps(conf),
        status=WAITING,
    )
    task = Task(
        job_id=job_id,
        task_id=ids.task_id(job_id, component_name),
        role=LOCAL_ROLE,
        party_id=LOCAL_PARTY_ID,
        component_name=component_name,
        module_name=module_name,
        status=WAITING,
    )
    with session(engine) as db:
        db.add(job)
        db.add(task)
        db.commit()
    return job


def job_tasks(engine: Engine, job_id: str) -> list[Task]:
    """Every task of a job, in the order they were created."""
    with session(engine) as db:
        query = select(Task).where(Task.job_id == job_id).order_by(Task.create_time)
        return list(db.exec(query))


def get_task(engine: Engine, job_id: str, task_id: str, role: str, party_id: str) -> Task:
    """One task row."""
    with session(engine) as db:
        task = db.get(Task, (job_id, task_id, role, party_id))
    if task is None:
        raise NotFound(f"no task {task_id} for {role} {party_id}")
    return task


def _status_changes(row: Job | Task, fields: dict[str, Any], now: int) -> dict[str, Any]:
    """The columns to write: an ended row keeps its status and reason; times follow status."""
    changes = dict(fields)
    if row.status in END_STATUSES:
        changes.pop("status", None)
        changes.pop("error", None)
    if changes.get("status") == RUNNING:
        changes.setdefault("start_time", now)
    if changes.get("status") in END_STATUSES:
        changes.setdefault("end_time", now)
        changes.setdefault("elapsed", now - (row.start_time or now))
    return {**changes, "update_time": now}


def update_task(engine: Engine, task: Task, **fields: Any) -> Task:
    """Change a task's columns; a task that has ended keeps its status."""
    with session(engine) as db:
        row = db.get(Task, (task.job_id, task.task_id, task.role, task.party_id))
        if row is None:
            raise NotFound(f"task {task.task_id} no longer exists")
        for name, value in _status_changes(row, fields, now_ms()).items():
            setattr(row, name, value)
        db.add(row)
        db.commit()
        return row


def update_job(engine: Engine, job_id: str, **fields: Any) -> None:
    """Change the columns of every party's row of a job; ended jobs keep their status."""
    with session(engine) as db:
        now = now_ms()
        for row in db.exec(select(Job).where(Job.job_id == job_id)):
            changes = _status_changes(row, fields, now)
            if "status" in changes:
                changes.setdefault(
                    "tag", "job_end" if changes["status"] in END_STATUSES else "end_waiting"
                )
            for name, value in changes.items():
                setattr(row, name, value)
            db.add(row)
        db.commit()


def get_job(engine: Engine, job_id: str) -> Job:
    """A job's row (the initiator's, when there are several)."""
    with session(engine) as db:
        query = select(Job).where(Job.job_id == job_id).order_by(col(Job.is_initiator).desc())
        job = db.exec(query).first()
    if job is None:
        raise NotFound(f"can not found job: {job_id}")
    return job


def end_unfinished_tasks(engine: Engine, job_id: str, status: str, reason: str) -> None:
    """End a job's tasks that have not: running ones get ``status``, waiting ones canceled."""
    with session(engine) as db:
        query = select(Task).where(Task.job_id == job_id, col(Task.status).in_([WAITING, RUNNING]))
        unfinished = list(db.exec(query))
    for task in unfinished:
        ended = status if task.status == RUNNING else CANCELED
        update_task(engine, task, status=ended, error=reason)


def fail_running_jobs(engine: Engine, reason: str) -> list[str]:
    """Fail the jobs left running (and their unfinished tasks); return the jobs' ids."""
    with session(engine) as db:
        query = select(Job.job_id).where(Job.status == RUNNING).distinct()
        job_ids = sorted(db.exec(query))
    for job_id in job_ids:
        end_unfinished_tasks(engine, job_id, FAILED, reason)
        update_job(engine, job_id, status=FAILED, error=reason)
    return job_ids


def waiting_jobs(engine: Engine) -> list[str]:
    """The ids of jobs still waiting to start, oldest first."""
    with session(engine) as db:
        query = select(Job.job_id, Job.create_time).where(Job.status == WAITING).distinct()
        rows = sorted(db.exec(query), key=lambda row: row[1])
    return list(dict.fromkeys(job_id for job_id, _ in rows))


def running_worker_pids(engine: Engine) -> list[int]:
    """The process ids recorded by tasks that are still marked running."""
    with session(engine) as db:
        query = select(Task.run_pid).where(Task.status == RUNNING)
        return [pid for pid in db.exec(query) if pid]


def job_paths(config: FlowConfig, job_id: str) -> dict[str, str]:
    """The files and folders of a job, as FATE's submit answer names them."""
    job_dir: Path = config.job_dir(job_id)
    return {
        "job_dsl_path": str(job_dir / "job_dsl.json"),
        "job_runtime_conf_path": str(job_dir / "job_runtime_conf.json"),
        "logs_directory": str(config.job_log_dir(job_id)),
    }
