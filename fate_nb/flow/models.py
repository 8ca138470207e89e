"""The model registry: every party's trained model version, load, bind, transfer and deploy.

A successful training job registers one row per party under FATE's party model id
``role#party_id#model_id`` and version ``job_id``, holding the pipeline (train DSL, inference
DSL, train conf). The components' Meta and Param stay where the tasks wrote them.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fate_nb import __version__
from fate_nb.components import get_component
from fate_nb.flow import args, ids, predict
from fate_nb.flow.errors import NotFound, ParameterError
from fate_nb.flow.store import ComponentModel, Job, MLModel, ServiceBinding, now_ms, session

log = logging.getLogger(__name__)

ARBITER = "arbiter"
GUEST = "guest"
VERSION_HISTORY_LIMIT = 10
# Data keys a predict DSL feeds with the rows to score.
_TRAINING_DATA_KEYS = ("train_data", "eval_data", "validate_data")


def party_model_id(role: str, party_id: Any, model_id: str) -> str:
    """FATE's id of one party's share of a model."""
    return f"{role}#{party_id}#{model_id}"


def _job_parameters(conf: Mapping[str, Any]) -> dict[str, Any]:
    parameters = conf.get("job_parameters") or {}
    if str(conf.get("dsl_version", 1)) == "2":
        return dict(parameters.get("common") or {})
    return dict(parameters)


def register_job(engine: Engine, job_id: str) -> int:
    """Register the models of a successful training job, one row per party; their count."""
    with session(engine) as db:
        rows = list(db.exec(select(Job).where(Job.job_id == job_id)))
        if not rows or any(row.role == "local" for row in rows):
            return 0
        first = rows[0]
        conf = json.loads(first.runtime_conf)
        parameters = _job_parameters(conf)
        if predict.job_type(conf) != "train" or not parameters.get("model_id"):
            return 0

        train_dsl = json.loads(first.dsl)
        inference = predict.inference_dsl(train_dsl)
        if str(conf.get("dsl_version", 1)) == "2":
            inference = deployed_dsl(train_dsl, list(train_dsl["components"]))
        for row in rows:
            db.merge(
                MLModel(
                    party_model_id=party_model_id(row.role, row.party_id, parameters["model_id"]),
                    model_version=job_id,
                    model_id=parameters["model_id"],
                    role=row.role,
                    party_id=row.party_id,
                    job_id=job_id,
                    roles=row.roles,
                    initiator_role=row.initiator_role,
                    initiator_party_id=row.initiator_party_id,
                    train_dsl=row.dsl,
                    inference_dsl=json.dumps(inference),
                    train_runtime_conf=row.runtime_conf,
                )
            )
        db.commit()
    log.info("job %s: model registered for %d parties", job_id, len(rows))
    return len(rows)


def version_history(engine: Engine, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The versions of one party model id, newest first, in FATE 1.3's commit shape."""
    args.require(request, "namespace")
    namespace = args.text(request, "namespace") or ""
    with session(engine) as db:
        query = (
            select(MLModel)
            .where(MLModel.party_model_id == namespace)
            .order_by(col(MLModel.create_time).desc(), col(MLModel.model_version).desc())
        )
        found = list(db.exec(query.limit(VERSION_HISTORY_LIMIT + 1)))
    if not found:
        raise NotFound(
            f"no model under party model id {namespace!r}; it looks like "
            "'guest#9999#arbiter-10000#guest-9999#host-10000#model'"
        )
    history = []
    for position, model in enumerate(found[:VERSION_HISTORY_LIMIT]):
        parent = found[position + 1].model_version if position + 1 < len(found) else None
        saved = datetime.fromtimestamp(model.create_time / 1000).isoformat(" ")
        history.append(
            {
                "commitId": model.model_version,
                "parent": parent,
                "name": model.model_version,
                "namespace": model.party_model_id,
                "log": f"[AUTO] save model at {saved}.",
                "tag": None,
            }
        )
    return history


def model_key(engine: Engine, request: Mapping[str, Any]) -> tuple[str, str]:
    """The model id and version a load, bind or deploy request names (or its ``job_id``)."""
    parameters = request.get("job_parameters")
    if isinstance(parameters, Mapping):
        common = parameters.get("common")
        given = common if isinstance(common, Mapping) else parameters
        model_id, version = given.get("model_id"), given.get("model_version")
    else:
        model_id, version = request.get("model_id"), request.get("model_version")
    if not version and request.get("job_id"):
        version = str(request["job_id"])
        with session(engine) as db:
            found = db.exec(select(MLModel).where(MLModel.model_version == version)).first()
        if found is None:
            raise NotFound(
                f"job {version} registered no model; only a successful training job does"
            )
        model_id = model_id or found.model_id
    if not model_id or not version:
        raise ParameterError(
            "name the model: job_parameters.model_id and model_version (the model_info that "
            "the training job's submit answered), or job_id"
        )
    return str(model_id), str(version)


def _check_objects(request: Mapping[str, Any], *names: str) -> None:
    """Conf sections that must be JSON objects when given (``role``, ``initiator``)."""
    for name in names:
        value = request.get(name)
        if value is not None and not isinstance(value, Mapping):
            raise ParameterError(
                f"{name} must be an object such as the training conf's, got {value!r}"
            )


def _rows(engine: Engine, model_id: str, version: str) -> list[MLModel]:
    with session(engine) as db:
        query = select(MLModel).where(
            MLModel.model_id == model_id, MLModel.model_version == version
        )
        return list(db.exec(query.order_by(col(MLModel.role), col(MLModel.party_id))))


def _parties(engine: Engine, model_id: str, version: str) -> list[MLModel]:
    found = _rows(engine, model_id, version)
    if not found:
        raise NotFound(
            f"no model version {version} of model {model_id}; train it first, or send the "
            "model_info its training job's submit answered"
        )
    return found


def load(engine: Engine, request: Mapping[str, Any]) -> dict[str, Any]:
    """Mark every non-arbiter party's model loaded; FATE's per-party answer."""
    _check_objects(request, "role", "initiator")
    model_id, version = model_key(engine, request)
    roles = request.get("role")
    registered = {
        (m.role, m.party_id): m
        for m in (
            _parties(engine, model_id, version)
            if roles is None
            else _rows(engine, model_id, version)
        )
    }
    if roles is None:
        roles = json.loads(next(iter(registered.values())).roles)

    data: dict[str, Any] = {"detail": {}}
    missing = []
    for role, party_ids in roles.items():
        if role == ARBITER:
            continue
        for party_id in party_ids if isinstance(party_ids, list) else [party_ids]:
            found = (role, str(party_id)) in registered
            if not found:
                missing.append(party_model_id(role, party_id, model_id))
            data.setdefault(role, {})[str(party_id)] = 0 if found else 100
            data["detail"].setdefault(role, {})[str(party_id)] = {
                "retcode": 0 if found else 100,
                "retmsg": "success" if found else f"no model version {version} for this party",
            }
    if missing:
        raise NotFound(
            f"failed: model version {version} does not exist for {', '.join(missing)}", data
        )

    with session(engine) as db:
        for (role, _), model in registered.items():
            if role in data:
                model.loaded_times += 1
                model.update_time = now_ms()
                db.add(model)
        db.commit()
    log.info("model %s version %s loaded", model_id, version)
    return data


def bind(engine: Engine, request: Mapping[str, Any]) -> str:
    """Bind ``service_id`` to the initiator's loaded model; FATE's answer message."""
    service_id = args.text(request, "service_id")
    if not service_id:
        raise ParameterError("no service id: give service_id, the name to score rows under")
    _check_objects(request, "role", "initiator")
    model_id, version = model_key(engine, request)
    parties = _parties(engine, model_id, version)
    initiator = request.get("initiator") or {}
    role = str(initiator.get("role") or parties[0].initiator_role)
    party_id = str(initiator.get("party_id") or parties[0].initiator_party_id)
    if role != GUEST:
        # Serving takes the guest's rows and asks the hosts for their parts (serving.py).
        raise ParameterError(
            f"online serving scores the guest's rows: bind with the guest as initiator "
            f'({{"role": "guest", "party_id": ...}}), not {role} {party_id}'
        )
    model = next((m for m in parties if (m.role, m.party_id) == (role, party_id)), None)
    if model is None:
        raise NotFound(f"model version {version} has no model for {role} {party_id}")
    if model.loaded_times == 0:
        raise ParameterError(
            f"model version {version} is not loaded; call /v1/model/load with it first"
        )

    with session(engine) as db:
        db.merge(
            ServiceBinding(
                service_id=service_id,
                party_model_id=model.party_model_id,
                model_version=version,
                update_time=now_ms(),
            )
        )
        db.commit()
    log.info("service %s bound to %s version %s", service_id, model.party_model_id, version)
    return f"service id is {service_id}"


def binding(engine: Engine, service_id: str) -> tuple[MLModel, list[MLModel]]:
    """The model a service is bound to, and every party's row of that version."""
    with session(engine) as db:
        bound = db.get(ServiceBinding, service_id)
        model = (
            db.get(MLModel, (bound.party_model_id, bound.model_version))
            if bound is not None
            else None
        )
    if bound is None or model is None:
        raise NotFound(f"no service {service_id!r}; bind one with /v1/model/bind")
    return model, _parties(engine, model.model_id, model.model_version)


def _components(engine: Engine, model: MLModel) -> list[ComponentModel]:
    with session(engine) as db:
        query = select(ComponentModel).where(
            ComponentModel.job_id == model.job_id,
            ComponentModel.role == model.role,
            ComponentModel.party_id == model.party_id,
        )
        return list(db.exec(query.order_by(col(ComponentModel.component_name))))


def transfer(engine: Engine, request: Mapping[str, Any]) -> dict[str, str]:
    """One party's model buffers, base64, keyed ``<component>.<alias>:<BufferName>``."""
    args.require(request, "name", "namespace")
    version, namespace = args.text(request, "name") or "", args.text(request, "namespace") or ""
    with session(engine) as db:
        model = db.get(MLModel, (namespace, version))
    if model is None:
        raise NotFound(f"no model version {version!r} under party model id {namespace!r}")

    buffers: dict[str, str] = {}
    for stored in _components(engine, model):
        meta_name, param_name = get_component(stored.module_name).buffer_names()
        prefix = f"{stored.component_name}.{stored.model_alias}"
        buffers[f"{prefix}:{meta_name}"] = _b64(stored.meta)
        buffers[f"{prefix}:{param_name}"] = _b64(stored.param)
    buffers["pipeline.pipeline:Pipeline"] = _b64(json.dumps(pipeline_buffer(model)))
    return buffers


def pipeline_buffer(model: MLModel) -> dict[str, Any]:
    """FATE's Pipeline message, with the DSLs and the conf as JSON objects."""
    return {
        "inference_dsl": json.loads(model.inference_dsl),
        "train_dsl": json.loads(model.train_dsl),
        "train_runtime_conf": json.loads(model.train_runtime_conf),
        "fate_version": __version__,
        "model_id": model.model_id,
        "model_version": model.model_version,
        "parent": True,
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def deployed_dsl(train_dsl: Mapping[str, Any], cpn_list: list[str]) -> dict[str, Any]:
    """A DSL v2 predict DSL: the Readers and the listed components, with the trained models."""
    components = train_dsl.get("components", {})
    unknown = [name for name in cpn_list if name not in components]
    if unknown:
        raise ParameterError(
            f"cpn_list names {unknown}, which the training DSL does not have; "
            f"choose from {sorted(components)}"
        )
    kept = {
        name
        for name, spec in components.items()
        if spec.get("module") == "Reader"
        or (name in cpn_list and spec.get("need_deploy", get_component(spec["module"]).need_deploy))
    }
    predict_dsl: dict[str, Any] = {}
    for name, spec in components.items():
        if name not in kept:
            continue
        new = {key: copy.deepcopy(value) for key, value in spec.items() if key != "input"}
        data: dict[str, list[str]] = {}
        for key, refs in spec.get("input", {}).get("data", {}).items():
            refs = _rewired(refs, components, kept)
            if refs:
                data["test_data" if key in _TRAINING_DATA_KEYS else key] = refs
        inputs: dict[str, Any] = {"data": data} if data else {}
        models = spec.get("output", {}).get("model", [])
        if models:
            inputs["model"] = [f"pipeline.{name}.{models[0]}"]
        if inputs:
            new["input"] = inputs
        predict_dsl[name] = new
    return {"components": predict_dsl}


def _rewired(
    refs: list[str], components: Mapping[str, Any], kept: set[str], depth: int = 0
) -> list[str]:
    """Data inputs with each component left out replaced by what fed it.

    Raw data (``args.`` or a Reader) only feeds the components that read it in training:
    what a left-out DataIO fed does not get its raw table instead.
    """
    found: list[str] = []
    for ref in refs:
        source = ref.split(".", 1)[0]
        raw = source == "args" or components.get(source, {}).get("module") == "Reader"
        if raw:
            if depth == 0:
                found.append(ref)
        elif source in kept:
            found.append(ref)
        elif source in components and depth < len(components):
            upstream = components[source].get("input", {}).get("data", {})
            for upstream_refs in upstream.values():
                found.extend(_rewired(upstream_refs, components, kept, depth + 1))
    return list(dict.fromkeys(found))


def _check_predict_dsl(dsl: Any) -> dict[str, Any]:
    """A predict DSL a predict job can run: known modules, each fed with data."""
    components = dsl.get("components") if isinstance(dsl, Mapping) else None
    if not isinstance(components, Mapping) or not components:
        raise ParameterError(
            'the predict DSL has no components; give {"components": {"<name>": {...}}} or a '
            "cpn_list of training components"
        )
    for name, spec in components.items():
        module = spec.get("module") if isinstance(spec, Mapping) else None
        try:
            get_component(str(module))
        except LookupError:
            raise ParameterError(
                f"component {name!r} of the predict DSL has unknown module {module!r}"
            ) from None
        inputs = spec.get("input")
        if module != "Reader" and not (isinstance(inputs, Mapping) and inputs.get("data")):
            raise ParameterError(
                f"component {name!r} of the predict DSL has no data input; deploy the "
                "components that feed it too (a Reader, DataIO or DataTransform)"
            )
    return dict(dsl)


def deploy(engine: Engine, request: Mapping[str, Any]) -> dict[str, Any]:
    """Set the predict DSL of a model version (from ``cpn_list`` or a given ``predict_dsl``)."""
    model_id, version = model_key(engine, request)
    parties = _parties(engine, model_id, version)
    given = request.get("predict_dsl")
    cpn_list = request.get("cpn_list")
    if given is not None:
        dsl = _check_predict_dsl(given)
    elif isinstance(cpn_list, list) and cpn_list:
        train_dsl = json.loads(parties[0].train_dsl)
        dsl = _check_predict_dsl(deployed_dsl(train_dsl, [str(name) for name in cpn_list]))
    else:
        raise ParameterError(
            "give cpn_list (the training components to deploy) or predict_dsl "
            '({"components": {...}})'
        )

    with session(engine) as db:
        for model in parties:
            model.inference_dsl = json.dumps(dsl)
            model.update_time = now_ms()
            db.add(model)
        db.commit()
    log.info("model %s version %s deployed: %s", model_id, version, sorted(dsl["components"]))
    return {"model_id": model_id, "model_version": version, "predict_dsl": dsl}


def predict_dsl(engine: Engine, request: Mapping[str, Any]) -> dict[str, Any]:
    """The predict DSL of a model version."""
    model_id, version = model_key(engine, request)
    return json.loads(_parties(engine, model_id, version)[0].inference_dsl)


def new_load_id() -> str:
    """An id for a load request, in the job id format FATE answers as ``jobId``."""
    return ids.new_job_id()
