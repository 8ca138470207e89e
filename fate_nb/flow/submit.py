"""``/v1/job/submit``: check a DSL and runtime conf, then write the job's files and rows."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from fate_nb.components import get_component, module_roles
from fate_nb.flow import ids, jobs, plans, predict
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.dsl import JobPlan, parse_job
from fate_nb.flow.errors import ParameterError
from fate_nb.flow.store import Job, Task, session

log = logging.getLogger(__name__)

SCHEDULE_LOG = "fate_flow_schedule.log"


def model_id(roles: Mapping[str, list[int]]) -> str:
    """FATE's model id: each role with its sorted party ids, roles sorted, then ``#model``."""
    parts = [
        f"{role}-{'_'.join(str(p) for p in sorted(set(roles[role])))}" for role in sorted(roles)
    ]
    return "#".join(parts) + "#model"


def check_job(request: Mapping[str, Any]) -> tuple[JobPlan, list[str]]:
    """The plan of a submitted job and its warnings; raises ParameterError on a bad job."""
    dsl = request.get("job_dsl")
    conf = request.get("job_runtime_conf")
    if dsl is None or conf is None:
        missing = [k for k in ("job_dsl", "job_runtime_conf") if request.get(k) is None]
        raise ParameterError(
            f"{' and '.join(missing)} missing; send both job_dsl and job_runtime_conf"
        )
    plan = parse_job(dsl, conf, module_roles(dsl_only=True))
    _check_job_parameters(plan)

    warnings = list(plan.warnings)
    for component in plan.components:
        if not component.roles:
            raise ParameterError(
                f"{component.name} ({component.module}) runs on none of the job's roles "
                f"{sorted(plan.roles)}; add a party of a role it runs on"
            )
        module = get_component(component.module)
        missing = sorted(module.needs_roles - set(component.roles))
        if missing:
            raise ParameterError(
                f"{component.name} ({component.module}) needs a party of role "
                f"{' and '.join(missing)}; add it to job_runtime_conf's role"
            )
        if module.needs_data_input and not component.data_inputs:
            raise ParameterError(
                f"{component.name} ({component.module}) has no data input; give it one, such "
                f'as "input": {{"data": {{"data": ["<upstream>.data"]}}}}'
            )
        ignored: set[str] = set()
        for role in component.roles:
            for index in range(len(plan.roles[role])):
                _, unknown = plans.component_params(plan, component.name, role, index)
                ignored.update(unknown)
                plan.input_tables(component.name, role, index)
        warnings += [
            f"{component.name}: {key!r} is not a parameter of {component.module}, so it is "
            "ignored; check its spelling"
            for key in sorted(ignored)
        ]
    return plan, warnings


def _check_job_parameters(plan: JobPlan) -> None:
    parameters = plan.job_parameters
    if parameters.get("job_type", "train") not in ("train", predict.PREDICT):
        raise ParameterError(
            f"job_type is {parameters['job_type']!r}; use train or {predict.PREDICT}"
        )
    work_mode = parameters.get("work_mode", 0)
    if isinstance(work_mode, bool) or work_mode not in (0, 1):
        raise ParameterError(
            f"job_parameters.work_mode is {parameters['work_mode']!r}; use 0 (standalone)"
        )
    timeout = parameters.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 0 < timeout < float("inf")
    ):
        raise ParameterError(f"job_parameters.timeout is {timeout!r}; give seconds, above 0")
    parallelism = parameters.get("task_parallelism")
    if parallelism is not None and (
        isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 1
    ):
        raise ParameterError(
            f"job_parameters.task_parallelism is {parallelism!r}; give a whole number from 1"
        )


def _stored_conf(plan: JobPlan, model_info: dict[str, str]) -> dict[str, Any]:
    """The conf as stored: party ids as ints, model id and version injected."""
    conf = copy.deepcopy(plan.conf)
    conf["initiator"] = {"role": plan.initiator_role, "party_id": plan.initiator_party_id}
    conf["role"] = copy.deepcopy(plan.roles)
    parameters = conf.setdefault("job_parameters", {})
    if plan.dsl_version == 2:
        parameters = parameters.setdefault("common", {})
    parameters.update(model_info)
    return conf


def submit_job(
    config: FlowConfig, engine: Engine, request: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Check the job, write its files and a row per party and task; return id and answer."""
    train_conf: dict[str, Any] = {}
    if predict.job_type(request.get("job_runtime_conf") or {}) == predict.PREDICT:
        dsl, conf, train = predict.resolve(engine, request)
        request = {**request, "job_dsl": dsl, "job_runtime_conf": conf}
        train_conf = json.loads(train.runtime_conf)
    plan, warnings = check_job(request)
    job_id = ids.new_job_id()
    if train_conf:
        given = plan.job_parameters
        model_info = {"model_id": given["model_id"], "model_version": given["model_version"]}
    else:
        model_info = {"model_id": model_id(plan.roles), "model_version": job_id}
    dsl = request["job_dsl"]
    conf = _stored_conf(plan, model_info)

    job_dir = config.job_dir(job_id)
    job_dir.mkdir(parents=True, exist_ok=True)
    (job_dir / "job_dsl.json").write_text(json.dumps(dsl, indent=2))
    (job_dir / "job_runtime_conf.json").write_text(json.dumps(conf, indent=2))
    log_dir = config.job_log_dir(job_id)
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / SCHEDULE_LOG).open("a", encoding="utf-8") as schedule_log:
        schedule_log.write(
            f"job {job_id} submitted by {plan.initiator_role} {plan.initiator_party_id}\n"
        )
        for warning in warnings:
            schedule_log.write(f"WARNING {warning}\n")

    _write_rows(engine, job_id, plan, dsl, conf, train_conf)
    log.info("job %s submitted with %d components", job_id, len(plan.components))
    for warning in warnings:
        log.warning("job %s: %s", job_id, warning)

    data: dict[str, Any] = {
        "job_id": job_id,
        "board_url": (
            f"v1/job/query?job_id={job_id}&role={plan.initiator_role}"
            f"&party_id={plan.initiator_party_id}"
        ),
        "model_info": model_info,
        **jobs.job_paths(config, job_id),
    }
    if warnings:
        data["warnings"] = warnings
    return job_id, data


def _write_rows(
    engine: Engine,
    job_id: str,
    plan: JobPlan,
    dsl: Any,
    conf: dict[str, Any],
    train_conf: dict[str, Any],
) -> None:
    rows: list[Job | Task] = []
    for role, parties in plan.roles.items():
        for party_id in dict.fromkeys(parties):
            rows.append(
                Job(
                    job_id=job_id,
                    role=role,
                    party_id=str(party_id),
                    roles=json.dumps(plan.roles),
                    work_mode=int(plan.job_parameters.get("work_mode", 0)),
                    initiator_role=plan.initiator_role,
                    initiator_party_id=str(plan.initiator_party_id),
                    is_initiator=int(
                        (role, party_id) == (plan.initiator_role, plan.initiator_party_id)
                    ),
                    dsl=json.dumps(dsl),
                    runtime_conf=json.dumps(conf),
                    train_runtime_conf=json.dumps(train_conf),
                    status=jobs.WAITING,
                    tag="",
                )
            )
    for component in plan.components:
        for role in component.roles:
            for party_id in dict.fromkeys(plan.roles[role]):
                rows.append(
                    Task(
                        job_id=job_id,
                        task_id=ids.task_id(job_id, component.name),
                        role=role,
                        party_id=str(party_id),
                        component_name=component.name,
                        module_name=component.module,
                        status=jobs.WAITING,
                    )
                )
    with session(engine) as db:
        db.add_all(rows)
        db.commit()
