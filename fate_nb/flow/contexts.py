"""What a worker gives a component: parameters, input tables and models from upstream tasks."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.engine import Engine

from fate_nb.components import TaskContext
from fate_nb.federation import Federation
from fate_nb.flow import plans, tables, tracking
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.dsl import PIPELINE, ComponentPlan, JobPlan
from fate_nb.flow.errors import DataError, NotFound
from fate_nb.flow.store import ComponentModel, DataTable, Job, Task, session

_ARGS = "args."


def build_context(
    config: FlowConfig,
    engine: Engine,
    task: Task,
    progress: Callable[[float], None],
    federation: Mapping[str, str] | None = None,
) -> TaskContext:
    """The context of one task, from its job's stored DSL and conf and its upstream outputs."""
    with session(engine) as db:
        job = db.get(Job, (task.job_id, task.role, task.party_id))
    if job is None:
        raise NotFound(f"job {task.job_id} has no row for {task.role} {task.party_id}")
    plan = plans.load_plan(job)
    index = plans.party_index(plan, task.role, task.party_id)
    component = plan.component(task.component_name)
    params, _ = plans.component_params(plan, component.name, task.role, index)
    party: Federation | None = None
    if federation is not None:
        party = Federation(
            federation["socket"], federation["token"], task.role, task.party_id, plan.roles
        )

    return TaskContext(
        config=config,
        engine=engine,
        task=task,
        params=params,
        progress=progress,
        job_parameters=plan.job_parameters_for(task.role, index),
        roles=plan.roles,
        data_inputs=_data_inputs(engine, plan, component, task, index),
        model_inputs=_model_inputs(engine, plan, component, task),
        data_output=component.data_outputs[0] if component.data_outputs else None,
        model_output=component.model_outputs[0] if component.model_outputs else None,
        federation=party,
    )


def _runs_here(plan: JobPlan, upstream: str, role: str) -> bool:
    """Whether an upstream component has a task on ``role``; if not, it left nothing here."""
    return role in plan.component(upstream).roles


def _data_inputs(
    engine: Engine, plan: JobPlan, component: ComponentPlan, task: Task, index: int
) -> dict[str, list[DataTable]]:
    found: dict[str, list[DataTable]] = {}
    for key, refs in component.data_inputs.items():
        for ref in refs:
            if ref.startswith(_ARGS):
                names = plan.input_tables(component.name, task.role, index)[ref[len(_ARGS) :]]
                table = tables.get_table(engine, names["namespace"], names["name"])
                if table is None:
                    raise DataError(
                        f"input table {names['name']!r} in namespace {names['namespace']!r} "
                        f"does not exist for {task.role} {task.party_id}; upload it first"
                    )
            else:
                upstream, _, alias = ref.partition(".")
                if not _runs_here(plan, upstream, task.role):
                    continue
                # An upstream may keep no data on some roles (HeteroLR's arbiter and hosts).
                outputs = tracking.output_tables(
                    engine, task.job_id, upstream, task.role, task.party_id
                )
                if alias not in outputs:
                    continue
                table = outputs[alias]
            found.setdefault(key, []).append(table)
    return found


def _model_inputs(
    engine: Engine, plan: JobPlan, component: ComponentPlan, task: Task
) -> list[ComponentModel]:
    models: list[ComponentModel] = []
    trained = str(plan.job_parameters.get("model_version", ""))
    for upstream, alias in component.pipeline_models():
        stored = tracking.component_models(engine, trained, upstream, task.role, task.party_id)
        models += [model for model in stored if model.model_alias == alias]
    for ref in component.model_inputs + component.isometric_model_inputs:
        if ref.startswith(PIPELINE):
            continue
        upstream, _, alias = ref.partition(".")
        if not _runs_here(plan, upstream, task.role):
            continue
        stored = tracking.component_models(engine, task.job_id, upstream, task.role, task.party_id)
        models += [model for model in stored if model.model_alias == alias]
    return models


def task_input_tables(engine: Engine, task: Task) -> dict[str, list[DataTable]]:
    """The tables a task of a stored job read, by input key."""
    with session(engine) as db:
        job = db.get(Job, (task.job_id, task.role, task.party_id))
    if job is None:
        raise NotFound(f"job {task.job_id} has no row for {task.role} {task.party_id}")
    plan = plans.load_plan(job)
    index = plans.party_index(plan, task.role, task.party_id)
    return _data_inputs(engine, plan, plan.component(task.component_name), task, index)
