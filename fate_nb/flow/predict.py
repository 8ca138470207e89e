"""Predict jobs: the training job whose models they use, its inference DSL, the merged conf.

A predict job names a trained model by ``job_parameters.model_id`` and ``model_version`` (the
training job's id). DSL v1 jobs may leave the DSL empty: the inference DSL is derived from the
training DSL, as FATE 1.4 does. Parameters are the training job's, overlaid by the predict
conf's, so that DataIO, for one, reads new data the way it read the training data.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fate_nb.components import get_component
from fate_nb.flow import jobs
from fate_nb.flow.dsl import merge_sections
from fate_nb.flow.errors import NotFound, ParameterError
from fate_nb.flow.store import Job, session

PREDICT = "predict"


def job_type(conf: Mapping[str, Any]) -> str:
    """``train`` or ``predict``, from either DSL version's job parameters."""
    parameters = conf.get("job_parameters") or {}
    if not isinstance(parameters, Mapping):
        return "train"
    common = parameters.get("common") if isinstance(parameters.get("common"), Mapping) else {}
    return str(common.get("job_type") or parameters.get("job_type") or "train")


def _model_keys(conf: Mapping[str, Any]) -> tuple[Any, Any]:
    parameters = conf.get("job_parameters") or {}
    common = parameters.get("common") or {}
    model_id = common.get("model_id", parameters.get("model_id"))
    version = common.get("model_version", parameters.get("model_version"))
    return model_id, version


def resolve(engine: Engine, request: Mapping[str, Any]) -> tuple[Any, dict[str, Any], Job]:
    """The DSL and conf a predict job runs with, and the training job's row."""
    conf = request.get("job_runtime_conf")
    if not isinstance(conf, Mapping):
        raise ParameterError("job_runtime_conf missing; send the predict job's conf")
    model_id, version = _model_keys(conf)
    if not model_id or not version:
        raise ParameterError(
            "a predict job needs job_parameters.model_id and model_version: the model_info "
            "the training job's submit answered"
        )

    train = _training_job(engine, str(version))
    train_conf = json.loads(train.runtime_conf)
    if _model_keys(train_conf)[0] != model_id:
        raise ParameterError(
            f"job {version} trained model {_model_keys(train_conf)[0]!r}, not {model_id!r}; "
            "send the model_id and model_version from the same submit answer"
        )
    if train.status != jobs.SUCCESS:
        raise ParameterError(
            f"training job {version} ended {train.status}; only a successful job's models predict"
        )
    if {r: sorted(p) for r, p in conf.get("role", {}).items()} != {
        r: sorted(p) for r, p in json.loads(train.roles).items()
    }:
        raise ParameterError(
            f"a predict job runs on the training job's parties, {json.loads(train.roles)}"
        )

    dsl = request.get("job_dsl")
    if not (isinstance(dsl, Mapping) and dsl.get("components")):
        if str(conf.get("dsl_version", 1)) == "2":
            raise ParameterError(
                "a DSL v2 predict job needs its DSL: the training components to run, with "
                "model inputs such as pipeline.hetero_lr_0.model"
            )
        dsl = inference_dsl(json.loads(train.dsl))
    return dsl, merged_conf(train_conf, conf), train


def _training_job(engine: Engine, version: str) -> Job:
    with session(engine) as db:
        query = select(Job).where(Job.job_id == version).order_by(col(Job.is_initiator).desc())
        train = db.exec(query).first()
    if train is None:
        raise NotFound(f"no trained model version {version}: no such job; train it first")
    return train


def inference_dsl(train_dsl: Mapping[str, Any]) -> dict[str, Any]:
    """FATE 1.4's derived predict DSL: deployed components, eval data, the trained models."""
    deployed = {
        name
        for name, spec in train_dsl["components"].items()
        if spec.get("need_deploy", get_component(spec["module"]).need_deploy)
    }
    components: dict[str, Any] = {}
    for name, spec in train_dsl["components"].items():
        if name not in deployed:
            continue
        inputs = spec.get("input", {})
        data = {}
        for key, refs in inputs.get("data", {}).items():
            kept = [_eval_ref(ref) for ref in refs if _kept(ref, deployed)]
            if kept:
                data["eval_data" if key in ("train_data", "eval_data") else key] = kept
        new: dict[str, Any] = {"module": spec["module"], "output": copy.deepcopy(spec["output"])}
        new["input"] = {"data": data} if data else {}
        models = spec.get("output", {}).get("model", [])
        if models:
            new["input"]["model"] = [f"pipeline.{name}.{models[0]}"]
        components[name] = new
    return {"components": components}


def _kept(ref: str, kept: set[str]) -> bool:
    return ref.startswith("args.") or ref.split(".", 1)[0] in kept


def _eval_ref(ref: str) -> str:
    return "args.eval_data" if ref.startswith("args.") else ref


def merged_conf(train_conf: Mapping[str, Any], conf: Mapping[str, Any]) -> dict[str, Any]:
    """The predict conf over the training conf's component parameters (not its input tables)."""
    merged = copy.deepcopy(dict(conf))
    for section in ("algorithm_parameters", "component_parameters"):
        if section in train_conf:
            merged[section] = merge_sections(train_conf[section], conf.get(section, {}))
    trained_roles = copy.deepcopy(train_conf.get("role_parameters", {}))
    for sections in trained_roles.values():
        sections.pop("args", None)
    if trained_roles:
        merged["role_parameters"] = merge_sections(trained_roles, conf.get("role_parameters", {}))
    return merged
