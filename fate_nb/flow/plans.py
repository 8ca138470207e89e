"""A stored job's plan, and the typed parameters of one component for one party."""

from __future__ import annotations

import json
from typing import Any

from fate_nb.components import Params, get_component, module_roles
from fate_nb.flow.dsl import JobPlan, parse_job
from fate_nb.flow.store import Job

DEFAULT_TIMEOUT_S = 7 * 24 * 3600


def load_plan(job: Job) -> JobPlan:
    """The plan of a job as it was stored at submit (every module known, local ones too)."""
    return parse_job(json.loads(job.dsl), json.loads(job.runtime_conf), module_roles())


def party_index(plan: JobPlan, role: str, party_id: str | int) -> int:
    """The position of a party in its role's list, the index of per-party parameters."""
    return plan.roles[role].index(int(party_id))


def component_params(
    plan: JobPlan, component_name: str, role: str, index: int
) -> tuple[Params, list[str]]:
    """One party's parameters of a component, and the conf keys the component ignores."""
    component = plan.component(component_name)
    param_class = get_component(component.module).param_class
    values = plan.parameters(component_name, role, index)
    where = f"{component_name} ({component.module}) for {role} party index {index}"
    return param_class.from_conf(values, where)


def job_timeout(job_parameters: dict[str, Any]) -> float:
    """``job_parameters.timeout`` in seconds, FATE's seven days when absent."""
    timeout = job_parameters.get("timeout")
    return DEFAULT_TIMEOUT_S if timeout is None else float(timeout)


def task_parallelism(job_parameters: dict[str, Any]) -> int:
    """How many components of the job may run at once (FATE 1.5's ``task_parallelism``)."""
    return int(job_parameters.get("task_parallelism") or 1)
