"""A job's DSL and runtime conf (v1 or v2), checked and turned into a plan; no store is touched.

The plan answers what the scheduler and the tracking API need: the components in a stable
topological order, the roles each one runs on, the merged parameters of one component for one
party, the input tables of v1 ``args.*`` inputs and the ``/v1/pipeline/dag/dependency`` data.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fate_nb.flow import dag
from fate_nb.flow.errors import ParameterError

# Names become folder names (task logs) and parts of ids: letters, digits, "_" and "-" only.
_NAME = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]*)_(0|[1-9][0-9]*)")
MAX_NAME_LENGTH = 100
ROLES = ("guest", "host", "arbiter", "local")
MAX_PARTY_ID = 2**63 - 1
_ARGS = "args."
# A predict job's model inputs name the training job's models: pipeline.<component>.<alias>.
PIPELINE = "pipeline."


@dataclass
class ComponentPlan:
    """One DSL component: its module, inputs, outputs and the conf roles it runs on."""

    name: str
    module: str
    upstream: list[str] = field(default_factory=list)
    data_inputs: dict[str, list[str]] = field(default_factory=dict)
    model_inputs: list[str] = field(default_factory=list)
    isometric_model_inputs: list[str] = field(default_factory=list)
    data_outputs: list[str] = field(default_factory=list)
    model_outputs: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    need_deploy: bool = True
    position: int = 0

    def references(self) -> list[tuple[str, str]]:
        """Every ``<upstream>.<alias>`` input with its edge type, "data" or "model"."""
        pairs = [(ref, "data") for refs in self.data_inputs.values() for ref in refs]
        pairs += [(ref, "model") for ref in self.model_inputs + self.isometric_model_inputs]
        return [
            (ref, kind)
            for ref, kind in pairs
            if not ref.startswith(_ARGS) and not ref.startswith(PIPELINE)
        ]

    def pipeline_models(self) -> list[tuple[str, str]]:
        """The (component, alias) of each trained model a predict job's component reads."""
        found = []
        for ref in self.model_inputs + self.isometric_model_inputs:
            if ref.startswith(PIPELINE):
                parts = ref.split(".")
                if len(parts) != 3:
                    raise ParameterError(
                        f"{self.name} reads model {ref!r}; write pipeline.<component>.<alias>"
                    )
                found.append((parts[1], parts[2]))
        return found

    def edges(self) -> list[tuple[str, str]]:
        """Distinct (upstream, "data" | "model") pairs, in input order."""
        return list(dict.fromkeys((ref.partition(".")[0], kind) for ref, kind in self.references()))

    def table_keys(self) -> list[str]:
        """The ``<key>`` of every v1 ``args.<key>`` data input, in input order."""
        refs = [ref for refs in self.data_inputs.values() for ref in refs]
        return list(dict.fromkeys(ref[len(_ARGS) :] for ref in refs if ref.startswith(_ARGS)))


@dataclass
class JobPlan:
    """A checked job: parties, job parameters, ordered components and the conf they came from."""

    dsl_version: int
    initiator_role: str
    initiator_party_id: int
    roles: dict[str, list[int]]
    job_parameters: dict[str, Any]
    components: list[ComponentPlan]
    warnings: list[str] = field(default_factory=list)
    conf: dict[str, Any] = field(default_factory=dict, repr=False)

    def component(self, name: str) -> ComponentPlan:
        """The component called ``name``."""
        for component in self.components:
            if component.name == name:
                return component
        raise ParameterError(f"the DSL has no component {name!r}; use one of {self._names()}")

    def job_parameters_for(self, role: str, party_index: int) -> dict[str, Any]:
        """The job parameters of one party (v2 applies ``job_parameters.role`` overrides)."""
        self._check_party(role, party_index)
        if self.dsl_version == 1:
            return copy.deepcopy(self.job_parameters)
        overrides = _section(self.conf["job_parameters"], "role", role)
        own = [overrides[key] for key in _party_keys(overrides, party_index)]
        return _merge(self.job_parameters, overrides.get("all"), *own)

    def parameters(self, component_name: str, role: str, party_index: int) -> dict[str, Any]:
        """The conf's parameters of one component for one party, merged in FATE's order."""
        self.component(component_name)
        self._check_party(role, party_index)
        if self.dsl_version == 1:
            common = _section(self.conf, "algorithm_parameters", component_name)
            per_role = _section(self.conf, "role_parameters", role, component_name)
            return _merge(common, _pick(per_role, party_index))
        common = _section(self.conf, "component_parameters", "common", component_name)
        per_role = _section(self.conf, "component_parameters", "role", role)
        every = _section(per_role, "all", component_name)
        own = [
            _section(per_role, key, component_name) for key in _party_keys(per_role, party_index)
        ]
        return _merge(common, every, *own)

    def input_tables(
        self, component_name: str, role: str, party_index: int
    ) -> dict[str, dict[str, str]]:
        """The tables behind a v1 component's ``args.<key>`` inputs for one party."""
        keys = self.component(component_name).table_keys()
        self._check_party(role, party_index)
        data = _section(self.conf, "role_parameters", role, "args", "data")
        return {key: _table(data.get(key), role, party_index, key) for key in keys}

    def dependency(self, role: str | None = None, party_id: int | None = None) -> dict[str, Any]:
        """The data of ``/v1/pipeline/dag/dependency``; need_run is per party when one is given."""
        index = None
        if role is not None:
            if role not in self.roles or party_id not in self.roles[role]:
                raise ParameterError(
                    f"party {role}:{party_id} is not in this job; use one of {self.roles}"
                )
            index = self.roles[role].index(party_id)
        dependencies = {
            c.name: [{"component_name": up, "type": kind} for up, kind in c.edges()]
            for c in self.components
            if c.edges()
        }
        return {
            "component_list": dag.stack_order({c.name: c.upstream for c in self.components}),
            "dependencies": dependencies,
            "component_module": {c.name: c.module for c in self.components},
            "component_need_run": {c.name: self._need_run(c, role, index) for c in self.components},
        }

    def _need_run(self, component: ComponentPlan, role: str | None, index: int | None) -> bool:
        if role is None or index is None:
            return True
        if role not in component.roles:
            return False
        return self.parameters(component.name, role, index).get("need_run") is not False

    def _names(self) -> list[str]:
        return [c.name for c in self.components]

    def _check_party(self, role: str, party_index: int) -> None:
        parties = self.roles.get(role)
        if parties is None:
            raise ParameterError(f"role {role!r} is not in this job; use one of {list(self.roles)}")
        if not 0 <= party_index < len(parties):
            raise ParameterError(
                f"party index {party_index} is out of range for role {role!r} "
                f"({len(parties)} parties); use 0 to {len(parties) - 1}"
            )


def parse_job(
    dsl: Mapping[str, Any], conf: Mapping[str, Any], module_roles: Mapping[str, frozenset[str]]
) -> JobPlan:
    """Check a DSL and runtime conf together and return the job's plan."""
    conf = _mapping(conf, "job_runtime_conf")
    version = _dsl_version(conf)
    raw = _raw_components(dsl)
    initiator_role, initiator_party_id, roles = _parties(conf)
    job_parameters = _job_parameters(conf, version)
    # FATE checks consecutive indices for train jobs only: a predict DSL may add reader_1.
    _check_names(raw, consecutive=job_parameters.get("job_type", "train") == "train")
    plans = [
        _component(name, spec, version, module_roles, roles, position)
        for position, (name, spec) in enumerate(raw.items())
    ]
    _check_edges(plans)
    by_name = {plan.name: plan for plan in plans}
    ordered = [by_name[name] for name in dag.run_order({p.name: p.upstream for p in plans})]
    _check_sections(conf, version)
    return JobPlan(
        dsl_version=version,
        initiator_role=initiator_role,
        initiator_party_id=initiator_party_id,
        roles=roles,
        job_parameters=job_parameters,
        components=ordered,
        warnings=_warnings(conf, version, set(raw), roles),
        conf=copy.deepcopy(dict(conf)),
    )


def _dsl_version(conf: Mapping[str, Any]) -> int:
    value = conf.get("dsl_version", 1)
    if isinstance(value, bool) or str(value).strip() not in ("1", "2"):
        raise ParameterError(f"dsl_version is {value!r}; use 1 or 2")
    return int(str(value).strip())


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParameterError(f"{path} must be an object, got {type(value).__name__}")
    return value


def _string_list(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ParameterError(f"{path} must be a list of strings, got {value!r}")
    return list(value)


def _section(root: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    """The nested object at ``keys``, or an empty one when any level is missing."""
    node: Any = root
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def merge_sections(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Conf sections deep-merged, later ones winning (as parameters merge)."""
    return _merge(*layers)


def _merge(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Deep-merge the layers, later ones winning; nested objects are merged key by key."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
                merged[key] = _merge(merged[key], value)
            elif isinstance(value, Mapping):
                merged[key] = _merge(value)
            else:
                merged[key] = copy.deepcopy(value)
    return merged


def _party_keys(per_role: Mapping[str, Any], index: int) -> list[str]:
    """The v2 keys naming party ``index``: ``"1"``, or a group such as ``"0|1"``."""
    return [key for key in per_role if key != "all" and str(index) in key.split("|")]


def _pick(values: Mapping[str, Any], index: int) -> dict[str, Any]:
    """Element ``index`` of every list leaf; nested objects recurse, short lists are skipped."""
    picked: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            picked[key] = _pick(value, index)
        elif isinstance(value, list) and index < len(value):
            picked[key] = copy.deepcopy(value[index])
    return picked


def _table(tables: Any, role: str, index: int, key: str) -> dict[str, str]:
    path = f"role_parameters.{role}.args.data.{key}"
    if not isinstance(tables, list) or index >= len(tables):
        raise ParameterError(f"{path} has no table for {role} party index {index}; add one")
    table = tables[index]
    if not (
        isinstance(table, Mapping)
        and isinstance(table.get("name"), str)
        and isinstance(table.get("namespace"), str)
    ):
        raise ParameterError(f"{path}[{index}] must be {{'name': ..., 'namespace': ...}}")
    return {"name": table["name"], "namespace": table["namespace"]}


def _party_id(value: Any, path: str) -> int:
    party_id = None
    if isinstance(value, int) and not isinstance(value, bool):
        party_id = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        party_id = int(value)
    if party_id is None or not 0 <= party_id <= MAX_PARTY_ID:
        raise ParameterError(
            f"{path} must be an integer party id from 0 to {MAX_PARTY_ID}, got {value!r}"
        )
    return party_id


def _raw_components(dsl: Any) -> Mapping[str, Any]:
    components = dsl.get("components") if isinstance(dsl, Mapping) else None
    if not isinstance(components, Mapping) or not components:
        raise ParameterError("job_dsl has no components; give {'components': {'<name>': {...}}}")
    return components


def _parties(conf: Mapping[str, Any]) -> tuple[str, int, dict[str, list[int]]]:
    missing = [key for key in ("initiator", "role", "job_parameters") if key not in conf]
    if missing:
        them = "them" if len(missing) > 1 else "it"
        raise ParameterError(f"job_runtime_conf is missing {', '.join(missing)}; add {them}")
    initiator = _mapping(conf["initiator"], "initiator")
    for key in ("role", "party_id"):
        if initiator.get(key) in (None, ""):
            raise ParameterError(f"initiator.{key} is missing; set it to the initiating party")
    roles: dict[str, list[int]] = {}
    for role, parties in _mapping(conf["role"], "role").items():
        if role not in ROLES:
            raise ParameterError(f"role {role!r} is not a FATE role; use {', '.join(ROLES)}")
        if not isinstance(parties, list) or not parties:
            raise ParameterError(f"role.{role} must be a non-empty list of party ids")
        roles[role] = [_party_id(p, f"role.{role}[{i}]") for i, p in enumerate(parties)]
        repeated = sorted({p for p in roles[role] if roles[role].count(p) > 1})
        if repeated:
            raise ParameterError(
                f"role.{role} lists party {', '.join(map(str, repeated))} more than once; "
                "list each party once"
            )
    if not roles:
        raise ParameterError("role lists no parties; give e.g. {'guest': [9999]}")
    role = initiator["role"]
    party_id = _party_id(initiator["party_id"], "initiator.party_id")
    if party_id not in roles.get(role, []):
        raise ParameterError(
            f"initiator party id error: {role}:{party_id} is not listed under role.{role}; "
            "add it there or change the initiator"
        )
    return role, party_id, roles


def _job_parameters(conf: Mapping[str, Any], version: int) -> dict[str, Any]:
    parameters = _mapping(conf["job_parameters"], "job_parameters")
    if version == 1:
        return copy.deepcopy(dict(parameters))
    common = parameters.get("common", {})
    _mapping(common, "job_parameters.common")
    _mapping(parameters.get("role", {}), "job_parameters.role")
    return _merge(common)


def _check_names(raw: Mapping[str, Any], consecutive: bool) -> None:
    modules: dict[str, str] = {}
    indices: dict[str, list[int]] = {}
    for name, spec in raw.items():
        match = _NAME.fullmatch(name)
        if match is None or len(name) > MAX_NAME_LENGTH:
            raise ParameterError(
                f"component name {name!r} must be <prefix>_<index>, such as 'dataio_0', "
                f"of letters, digits, '_' and '-', at most {MAX_NAME_LENGTH} characters"
            )
        prefix = match.group(1)
        module = _mapping(spec, f"components.{name}").get("module")
        if modules.setdefault(prefix, module) != module:
            raise ParameterError(
                f"components {prefix}_* mix modules {modules[prefix]!r} and {module!r}; "
                "give each module its own name prefix"
            )
        indices.setdefault(prefix, []).append(int(match.group(2)))
    for prefix, found in indices.items():
        if consecutive and sorted(found) != list(range(len(found))):
            raise ParameterError(
                f"components {prefix}_* have indices {sorted(found)}; number them "
                f"consecutively from 0 ({prefix}_0 to {prefix}_{len(found) - 1})"
            )


def _component(
    name: str,
    spec: Mapping[str, Any],
    version: int,
    module_roles: Mapping[str, frozenset[str]],
    roles: dict[str, list[int]],
    position: int,
) -> ComponentPlan:
    module = spec.get("module")
    if version == 1 and module == "Reader":
        raise ParameterError(f"{name} uses Reader, which DSL v1 lacks; use args.<key> inputs")
    if not isinstance(module, str) or module not in module_roles:
        raise ParameterError(
            f"{name} has unknown module {module!r}; use one of {sorted(module_roles)}"
        )
    need_deploy = spec.get("need_deploy", True)
    if not isinstance(need_deploy, bool):
        raise ParameterError(f"components.{name}.need_deploy must be true or false")
    inputs = _mapping(spec.get("input", {}), f"components.{name}.input")
    outputs = _mapping(spec.get("output", {}), f"components.{name}.output")
    data = _mapping(inputs.get("data", {}), f"components.{name}.input.data")
    plan = ComponentPlan(
        name=name,
        module=module,
        data_inputs={k: _string_list(v, f"{name}.input.data.{k}") for k, v in data.items()},
        model_inputs=_string_list(inputs.get("model"), f"{name}.input.model"),
        isometric_model_inputs=_string_list(
            inputs.get("isometric_model"), f"{name}.input.isometric_model"
        ),
        data_outputs=_string_list(outputs.get("data"), f"{name}.output.data"),
        model_outputs=_string_list(outputs.get("model"), f"{name}.output.model"),
        roles=[role for role in roles if role in module_roles[module]],
        need_deploy=need_deploy,
        position=position,
    )
    if version == 2 and plan.table_keys():
        raise ParameterError(
            f"{name} has an args.{plan.table_keys()[0]} input, which DSL v2 does not allow; "
            "read tables with a Reader component and use reader_0.data"
        )
    plan.upstream = list(dict.fromkeys(up for up, _ in plan.edges()))
    return plan


def _check_edges(plans: list[ComponentPlan]) -> None:
    by_name = {plan.name: plan for plan in plans}
    for plan in plans:
        for ref, kind in plan.references():
            up_name, _, alias = ref.partition(".")
            upstream = by_name.get(up_name)
            if upstream is None:
                raise ParameterError(
                    f"{plan.name} has unknown module input {ref!r}: no component {up_name!r}; "
                    "name an existing component"
                )
            declared = upstream.data_outputs if kind == "data" else upstream.model_outputs
            if alias not in declared:
                raise ParameterError(
                    f"{plan.name} reads {ref!r}, but {up_name} declares {kind} outputs "
                    f"{declared}; use one of them"
                )


def _check_sections(conf: Mapping[str, Any], version: int) -> None:
    """Every per-component section is an object; v1 role values are lists, one per party."""
    if version == 1:
        role_parameters = _mapping(conf.get("role_parameters", {}), "role_parameters")
        for role, sections in role_parameters.items():
            sections = _mapping(sections, f"role_parameters.{role}")
            for name, section in sections.items():
                _mapping(section, f"role_parameters.{role}.{name}")
            _check_leaves(sections, f"role_parameters.{role}")
        _objects(conf.get("algorithm_parameters", {}), "algorithm_parameters")
        return

    parameters = _mapping(conf.get("component_parameters", {}), "component_parameters")
    _objects(parameters.get("common", {}), "component_parameters.common")
    for role, parties in _mapping(parameters.get("role", {}), "component_parameters.role").items():
        for party, sections in _mapping(parties, f"component_parameters.role.{role}").items():
            _objects(sections, f"component_parameters.role.{role}.{party}")


def _objects(value: Any, path: str) -> None:
    """An object whose every value is an object (component name -> parameters)."""
    for name, section in _mapping(value, path).items():
        _mapping(section, f"{path}.{name}")


def _check_leaves(node: Mapping[str, Any], path: str) -> None:
    for key, value in node.items():
        if isinstance(value, Mapping):
            _check_leaves(value, f"{path}.{key}")
        elif not isinstance(value, list):
            raise ParameterError(
                f"{path}.{key} must be a list with one value per party, got {value!r}; "
                f"write [{value!r}]"
            )


def _warnings(
    conf: Mapping[str, Any], version: int, names: set[str], roles: dict[str, list[int]]
) -> list[str]:
    paths: list[str] = []
    unknown_roles: list[str] = []
    if version == 1:
        paths += [f"algorithm_parameters.{k}" for k in _section(conf, "algorithm_parameters")]
        for role, sections in _section(conf, "role_parameters").items():
            if role not in roles:
                unknown_roles.append(f"role_parameters.{role}")
                continue
            paths += [f"role_parameters.{role}.{k}" for k in sections if k != "args"]
    else:
        paths += [
            f"component_parameters.common.{k}"
            for k in _section(conf, "component_parameters", "common")
        ]
        for role, parties in _section(conf, "component_parameters", "role").items():
            where = f"component_parameters.role.{role}"
            if role not in roles:
                unknown_roles.append(where)
                continue
            for party, sections in _mapping(parties, where).items():
                _check_party_key(party, len(roles[role]), f"{where}.{party}")
                keys = _mapping(sections, f"{where}.{party}")
                paths += [f"{where}.{party}.{k}" for k in keys]
    return [
        f"{path} names a role the job does not have, so it is ignored; the roles are "
        f"{sorted(roles)}"
        for path in unknown_roles
    ] + [
        f"{path} names no component of the DSL, so it is ignored; rename or remove it"
        for path in paths
        if path.rsplit(".", 1)[1] not in names
    ]


def _check_party_key(party: str, count: int, where: str) -> None:
    """A v2 per-party key: "all", or a party index of the role given as a string."""
    if party == "all":
        return
    for key in party.split("|"):
        if not (key.isascii() and key.isdigit() and int(key) < count):
            raise ParameterError(
                f"{where}: {key!r} is not a party index of this role, which has {count} "
                f"part{'y' if count == 1 else 'ies'}; use 0 to {count - 1}, or 'all'"
            )
