"""What the /v1/tracking endpoints answer: job views, metrics, parameters, models, summaries.

Every request names a job and one party (``role`` and ``party_id``); when both are missing
the job's initiator is meant, as FATE fills them. Component endpoints also name a component
of the job's DSL. Answers come from the party's job row, the job's plan (its stored DSL and
conf) and the tracking tables the tasks wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from fate_nb.components import get_component
from fate_nb.flow import args, plans, tracking
from fate_nb.flow.dsl import ComponentPlan, JobPlan
from fate_nb.flow.errors import NotFound, ParameterError
from fate_nb.flow.store import DataTable, Job, Task, session

NO_DATA = "no data"
NO_PARAMETERS = "can not found this component parameters"
# FATE's names of the parameter classes whose names ours do not share.
FATE_PARAM_NAMES = {
    "HeteroLR": "HeteroLogisticParam",
    "HomoLR": "HomoLogisticParam",
    "Intersection": "IntersectParam",
}
_UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class TrackingReply:
    """A tracking endpoint's answer: ``data``, FATE's ``meta`` beside it, and ``retmsg``."""

    data: Any = None
    meta: Any = None
    retmsg: str = "success"


@dataclass(frozen=True)
class PartyComponent:
    """One component of a job as one party runs it: the party's job row and the job's plan."""

    job: Job
    plan: JobPlan
    component: ComponentPlan

    @property
    def key(self) -> tuple[str, str, str, str]:
        """job_id, component_name, role and party_id: the key of every tracking row."""
        return (self.job.job_id, self.component.name, self.job.role, self.job.party_id)

    def describe(self) -> str:
        """The component, job and party in words, for messages."""
        return (
            f"{self.component.name} ({self.component.module}) of job {self.job.job_id} "
            f"for {self.job.role} {self.job.party_id}"
        )


def party_job(engine: Engine, request: Mapping[str, Any]) -> Job:
    """The job row of the requested party; the initiator's when role and party_id are missing."""
    args.require(request, "job_id")
    job_id = args.text(request, "job_id") or ""
    role = args.text(request, "role")
    party_id = args.text(request, "party_id")
    with session(engine) as db:
        rows = list(db.exec(select(Job).where(Job.job_id == job_id)))
    if not rows:
        raise NotFound(f"no job {job_id!r}; check the job_id")
    if role is None and party_id is None:
        role, party_id = rows[0].initiator_role, rows[0].initiator_party_id
    elif role is None or party_id is None:
        raise ParameterError(
            "give role and party_id together, or neither for the job's initiator "
            f"({rows[0].initiator_role} {rows[0].initiator_party_id})"
        )
    for row in rows:
        if (row.role, row.party_id) == (role, party_id):
            return row
    parties = ", ".join(sorted(f"{row.role} {row.party_id}" for row in rows))
    raise NotFound(f"job {job_id} has no party {role} {party_id}; its parties are {parties}")


def party_component(engine: Engine, request: Mapping[str, Any]) -> PartyComponent:
    """The requested party's view of the requested component."""
    job = party_job(engine, request)
    args.require(request, "component_name")
    name = args.text(request, "component_name")
    plan = plans.load_plan(job)
    for component in plan.components:
        if component.name == name:
            return PartyComponent(job, plan, component)
    names = ", ".join(component.name for component in plan.components)
    raise NotFound(f"job {job.job_id} has no component {name!r}; its components are {names}")


def data_view(engine: Engine, request: Mapping[str, Any]) -> TrackingReply:
    """``/v1/tracking/job/data_view``: partners, input tables and roles as the party sees them.

    The initiator sees every party's roles and tables, the others only their own.
    """
    job = party_job(engine, request)
    plan = plans.load_plan(job)
    me = (job.role, int(job.party_id))
    partner: dict[str, list[int]] = {}
    for role, parties in plan.roles.items():
        others = [party for party in dict.fromkeys(parties) if (role, party) != me]
        if others:
            partner[role] = others
    roles = dict(plan.roles) if job.is_initiator else {job.role: [me[1]]}
    dataset: dict[str, dict[str, dict[str, str]]] = {}
    for role, parties in roles.items():
        for party_id in dict.fromkeys(parties):
            tables = _party_dataset(plan, role, plan.roles[role].index(party_id))
            if tables:
                dataset.setdefault(role, {})[str(party_id)] = tables
    view = {"partner": partner, "dataset": dataset, "roles": roles, "model_summary": {}}
    return TrackingReply(view)


def _party_dataset(plan: JobPlan, role: str, index: int) -> dict[str, str]:
    """``"<namespace>.<name>"`` of each table a party reads: by v1 ``args`` key or v2 Reader."""
    found: dict[str, str] = {}
    if plan.dsl_version == 1:
        data = plan.conf.get("role_parameters", {}).get(role, {}).get("args", {}).get("data", {})
        for key, tables in data.items():
            if isinstance(tables, list) and index < len(tables):
                found[key] = _table_name(tables[index])
    else:
        for component in plan.components:
            if component.module == "Reader" and role in component.roles:
                table = plan.parameters(component.name, role, index).get("table")
                found[component.name] = _table_name(table)
    return {key: name for key, name in found.items() if name}


def _table_name(table: Any) -> str:
    if isinstance(table, Mapping) and table.get("namespace") and table.get("name"):
        return f"{table['namespace']}.{table['name']}"
    return ""


def _sort_key(point: list[Any]) -> tuple[int, Any]:
    """Points in key order: numbers first, then text; FATE sorts the raw keys."""
    key = point[0]
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        return (0, key)
    if isinstance(key, str):
        return (1, key)
    return (2, json.dumps(key))


def _metrics(engine: Engine, ref: PartyComponent) -> dict[str, dict[str, dict[str, Any]]]:
    found = tracking.metrics(engine, *ref.key)
    for names in found.values():
        for metric in names.values():
            metric["data"].sort(key=_sort_key)
    return found


def metric_names(engine: Engine, request: Mapping[str, Any]) -> TrackingReply:
    """``/v1/tracking/component/metrics``: the metric names of a component, by namespace."""
    found = _metrics(engine, party_component(engine, request))
    if not found:
        return TrackingReply({}, retmsg=NO_DATA)
    return TrackingReply({namespace: list(names) for namespace, names in found.items()})


def metric_all(engine: Engine, request: Mapping[str, Any]) -> TrackingReply:
    """``/v1/tracking/component/metric/all``: every metric's points and meta, by namespace."""
    found = _metrics(engine, party_component(engine, request))
    return TrackingReply(found) if found else TrackingReply({}, retmsg=NO_DATA)


def metric_data(engine: Engine, request: Mapping[str, Any]) -> TrackingReply:
    """``/v1/tracking/component/metric_data``: one metric's points sorted by key, its flat meta.

    ``meric_name``, the spelling of FATE's REST doc, is read as well as ``metric_name``.
    """
    ref = party_component(engine, request)
    args.require(request, "metric_namespace")
    namespace = args.text(request, "metric_namespace")
    name = args.text(request, "metric_name") or args.text(request, "meric_name")
    if name is None:
        raise ParameterError("missing required arguments: metric_name")
    metric = _metrics(engine, ref).get(namespace or "", {}).get(name)
    if metric is None:
        return TrackingReply([], {"name": None, "metric_type": None}, NO_DATA)
    return TrackingReply(metric["data"], metric["meta"])


def parameters(engine: Engine, request: Mapping[str, Any]) -> TrackingReply:
    """``/v1/tracking/component/parameters``: the module and its merged parameters.

    The parameters sit under FATE's name of the module's parameter class, every default filled.
    """
    ref = party_component(engine, request)
    if ref.job.role not in ref.component.roles:
        return TrackingReply(retmsg=NO_PARAMETERS)
    index = plans.party_index(ref.plan, ref.job.role, ref.job.party_id)
    params, _ = plans.component_params(ref.plan, ref.component.name, ref.job.role, index)
    module = ref.component.module
    class_name = FATE_PARAM_NAMES.get(module, get_component(module).param_class.__name__)
    return TrackingReply({"module": module, class_name: params.as_dict()})


def output_model(engine: Engine, request: Mapping[str, Any]) -> TrackingReply:
    """``/v1/tracking/component/output/model``: the model's Param as data, its Meta in meta.

    The model is the one under the DSL's first model output alias, else the first stored.
    """
    ref = party_component(engine, request)
    models = tracking.component_models(engine, *ref.key)
    if not models:
        return TrackingReply({}, retmsg=NO_DATA)
    aliases = ref.component.model_outputs
    model = next((m for m in models if aliases and m.model_alias == aliases[0]), models[0])
    meta = {
        "meta_data": json.loads(model.meta),
        "module_name": model.module_name or ref.component.module,
    }
    return TrackingReply(json.loads(model.param), meta)


def output_tables(engine: Engine, ref: PartyComponent) -> list[tuple[str, DataTable]]:
    """The component's output tables with their data names, in the DSL's output order."""
    found = tracking.output_tables(engine, *ref.key)
    declared = ref.component.data_outputs
    names = [name for name in declared if name in found]
    names += sorted(name for name in found if name not in declared)
    return [(name, found[name]) for name in names]


def output_table_list(engine: Engine, request: Mapping[str, Any]) -> TrackingReply:
    """``/v1/tracking/component/output/data/table``: the stored name of each output table."""
    outputs = output_tables(engine, party_component(engine, request))
    found = [
        {"table_name": table.table_name, "table_namespace": table.namespace, "data_name": name}
        for name, table in outputs
    ]
    return TrackingReply(found) if found else TrackingReply([], retmsg=NO_DATA)


def summary(engine: Engine, request: Mapping[str, Any]) -> TrackingReply:
    """``/v1/tracking/component/summary/download``: the summary the party's task returned."""
    ref = party_component(engine, request)
    job_id, component_name, role, party_id = ref.key
    with session(engine) as db:
        query = select(Task).where(
            Task.job_id == job_id,
            Task.component_name == component_name,
            Task.role == role,
            Task.party_id == party_id,
        )
        task = db.exec(query).first()
    if task is None:
        raise NotFound(f"{ref.describe()}: the component does not run on {role}, no summary")
    found = json.loads(task.summary or "{}")
    if not found:
        raise NotFound(f"no summary of {ref.describe()}; its task is {task.status}")
    return TrackingReply(found)


def safe_file_name(name: str) -> str:
    """``name`` with every character but letters, digits, ``_``, ``.`` and ``-`` made ``_``."""
    return _UNSAFE_FILE_CHARACTERS.sub("_", name)


def summary_file(request: Mapping[str, Any], found: Any) -> tuple[str, bytes] | None:
    """The summary as the JSON file FATE's CLI asks for with ``filename``, or None."""
    filename = args.text(request, "filename")
    if filename is None:
        return None
    name = safe_file_name(filename.replace("\\", "/").rsplit("/", 1)[-1])
    if not name.strip("._"):
        raise ParameterError(f"filename {filename!r} is not a file name; give e.g. summary.json")
    return name, json.dumps(found, indent=4).encode()
