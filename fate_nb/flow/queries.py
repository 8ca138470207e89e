"""Reading jobs and tasks as the /v1/job endpoints answer: FATE's rows, config and notes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col, select

from fate_nb.flow import args, plans, submit
from fate_nb.flow.errors import NotFound, ParameterError
from fate_nb.flow.store import Job, Task, now_ms, session

# Columns a query may filter on, and whether their values compare as text or as integers.
_JOB_FILTERS: dict[str, type] = {
    "job_id": str,
    "name": str,
    "tag": str,
    "role": str,
    "party_id": str,
    "status": str,
    "initiator_party_id": str,
    "is_initiator": int,
    "work_mode": int,
    "run_ip": str,
    "progress": int,
}
_TASK_FILTERS: dict[str, type] = {
    "job_id": str,
    "task_id": str,
    "component_name": str,
    "role": str,
    "party_id": str,
    "status": str,
    "run_ip": str,
    "run_pid": int,
}
LIST_LIMIT = 20
MAX_LIST_LIMIT = 10_000
_TASK_COLUMNS = (
    "job_id",
    "component_name",
    "task_id",
    "role",
    "party_id",
    "operator",
    "run_ip",
    "run_pid",
    "status",
    "error",
    "create_time",
    "update_time",
    "start_time",
    "end_time",
    "elapsed",
)


def _conditions(
    model: type[SQLModel], filters: Mapping[str, Any], columns: Mapping[str, type]
) -> list[Any]:
    """Equality conditions for the recognised keys; unknown keys are ignored, as in FATE."""
    conditions = []
    for name, kind in columns.items():
        value = filters.get(name)
        if value is None:
            continue
        if isinstance(value, (dict, list, bool)):
            raise ParameterError(f"{name} must be a string or a number, got {value!r}")
        if kind is int:
            typed: Any = args.integer(filters, name, minimum=-(2**63), maximum=2**63 - 1)
        else:
            typed = str(value)
        conditions.append(getattr(model, name) == typed)
    return conditions


def _shown(filters: Mapping[str, Any], columns: Mapping[str, type]) -> str:
    return json.dumps({key: filters[key] for key in columns if filters.get(key) is not None})


def job_row(job: Job) -> dict[str, Any]:
    """A job as FATE-Flow 1.4 returns it: ``f_`` keys, JSON columns as strings."""
    fields = job.model_dump(exclude={"initiator_role"})
    return {f"f_{name}": fields[name] for name in sorted(fields)}


def task_row(task: Task) -> dict[str, Any]:
    """A task as FATE-Flow returns it, with ``f_error`` saying why it failed."""
    fields = task.model_dump()
    return {f"f_{name}": fields[name] for name in _TASK_COLUMNS}


def _find_jobs(engine: Engine, filters: Mapping[str, Any]) -> list[Job]:
    """The job rows matching every recognised filter, newest first; at least one is required."""
    conditions = _conditions(Job, filters, _JOB_FILTERS)
    if not conditions:
        raise ParameterError(
            "find job failed: give at least one filter, such as job_id, role, party_id or status"
        )

    with session(engine) as db:
        query = select(Job).where(*conditions).order_by(col(Job.create_time).desc())
        found = list(db.exec(query))
    if not found:
        raise NotFound(f"find job failed: no job matches {_shown(filters, _JOB_FILTERS)}")
    return found


def query_jobs(engine: Engine, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The job rows matching the filters, as FATE returns them."""
    return [job_row(job) for job in _find_jobs(engine, filters)]


def list_jobs(engine: Engine, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``/v1/job/list/job`` (FATE 1.5+): the newest ``limit`` job rows (default 20).

    Every party's rows, unless the query's filters (``is_initiator``, ``status``...) say less.
    """
    return [job_row(job) for job in _newest(engine, Job, col(Job.job_id), request, _JOB_FILTERS)]


def query_tasks(engine: Engine, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The task rows matching every recognised filter; no filter lists every task, as in FATE."""
    conditions = _conditions(Task, filters, _TASK_FILTERS)
    with session(engine) as db:
        query = select(Task).where(*conditions).order_by(col(Task.create_time))
        rows = [task_row(task) for task in db.exec(query)]
    if not rows:
        raise NotFound(f"find task failed: no task matches {_shown(filters, _TASK_FILTERS)}")
    return rows


def list_tasks(engine: Engine, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``/v1/job/list/task`` (FATE 1.5+): the newest ``limit`` task rows (default 20).

    Every party's rows, unless ``/v1/job/task/query``'s filters in the request say less.
    """
    rows = _newest(engine, Task, col(Task.task_id), request, _TASK_FILTERS)
    return [task_row(task) for task in rows]


def _newest(
    engine: Engine,
    model: type[Job] | type[Task],
    tie_break: Any,
    request: Mapping[str, Any],
    filters: Mapping[str, type],
) -> list[Any]:
    """The newest ``limit`` rows of ``model`` that match the request's filters."""
    limit = args.integer(request, "limit", LIST_LIMIT, minimum=1, maximum=MAX_LIST_LIMIT)
    with session(engine) as db:
        query = select(model).where(*_conditions(model, request, filters))
        query = query.order_by(col(model.create_time).desc(), tie_break.desc())
        return list(db.exec(query.limit(limit)))


def component_list(engine: Engine, request: Mapping[str, Any]) -> dict[str, list[str]]:
    """``/v1/tracking/component/list``: the names of a job's components, in its DSL's order."""
    args.require(request, "job_id")
    job = _find_jobs(engine, {"job_id": request["job_id"]})[0]
    return {"components": list(json.loads(job.dsl).get("components", {}))}


def model_info(job: Job) -> dict[str, str]:
    """The model id and version of a job: injected into its conf, or the local defaults."""
    parameters = json.loads(job.runtime_conf).get("job_parameters", {})
    # DSL v2 keeps them in job_parameters.common.
    parameters = {**parameters, **parameters.get("common", {})}
    return {
        "model_id": str(parameters.get("model_id") or f"{job.role}-{job.party_id}#model"),
        "model_version": str(parameters.get("model_version") or job.job_id),
    }


def job_config(engine: Engine, filters: Mapping[str, Any]) -> dict[str, Any]:
    """The DSL, runtime conf and model info of the first job row matching the filters."""
    job = _find_jobs(engine, filters)[0]
    return {
        "job_id": job.job_id,
        "dsl": json.loads(job.dsl),
        "runtime_conf": json.loads(job.runtime_conf),
        "train_runtime_conf": json.loads(job.train_runtime_conf),
        "model_info": model_info(job),
    }


def update_notes(engine: Engine, request: Mapping[str, Any]) -> None:
    """Set one party's ``f_description`` to the request's ``notes``."""
    args.require(request, "job_id", "role", "party_id")
    notes = args.text(request, "notes", "") or ""
    key = (str(request["job_id"]), str(request["role"]), str(request["party_id"]))
    with session(engine) as db:
        job = db.get(Job, key)
        if job is None:
            raise NotFound(f"find job failed: no job {key[0]} for {key[1]} {key[2]}")
        job.description = notes
        job.update_time = now_ms()
        db.add(job)
        db.commit()


def dag_dependency(engine: Engine, request: Mapping[str, Any]) -> dict[str, Any]:
    """``/v1/pipeline/dag/dependency``: a job's component order, edges and need_run per party."""
    args.require(request, "role", "party_id")
    role = str(request["role"])
    party_id = args.integer(request, "party_id", minimum=0, maximum=2**63 - 1)
    if request.get("job_id") is None and request.get("job_dsl") is not None:
        plan, _ = submit.check_job(request)
        return plan.dependency(role, party_id)

    args.require(request, "job_id")
    key = (str(request["job_id"]), role, str(party_id))
    with session(engine) as db:
        job = db.get(Job, key)
    if job is None:
        raise NotFound(f"find job failed: no job {key[0]} for {key[1]} {key[2]}")
    return plans.load_plan(job).dependency(role, party_id)
