"""Online scoring through a bound service, each party scoring its own share of the model.

The guest converts the request's rows with its own trained DataIO (or DataTransform) and
FeatureScale models and weighs them with its LR weights. Each host of a HeteroLR model weighs
the rows of its own table with the same ids, through its own models, and hands the guest only
their partial scores, as FATE-Serving's host side does; the guest adds them and the intercept
and applies the sigmoid, exactly as a predict job does. A HomoLR model is the guest's alone.
Both sides run in the server process: a request must not wait for worker processes.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import select

from fate_nb.components import Component, get_component
from fate_nb.components._linear import sigmoid
from fate_nb.flow import args, contexts, models, plans, storage, tables, tracking
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import DataError, NotFound, ParameterError
from fate_nb.flow.store import DataTable, Job, MLModel, Task, session

log = logging.getLogger(__name__)

LINEAR_MODULES = ("HeteroLR", "HomoLR")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class PartyShare:
    """One party's share of a served model: its transforms in order, then its weights."""

    role: str
    party_id: str
    module: str
    sid: str
    steps: tuple[tuple[type[Component], dict[str, Any], dict[str, Any]], ...]
    header: tuple[str, ...]
    weights: np.ndarray
    intercept: float
    threshold: float
    first_component: str

    def partial_scores(self, frame: pd.DataFrame) -> np.ndarray:
        """The weighted sum of this party's features for each row (id column first)."""
        schema: dict[str, Any] = {"sid": self.sid, "header": [str(c) for c in frame.columns[1:]]}
        for component, meta, param in self.steps:
            frame, schema = component.serve(frame, schema, meta, param)
        missing = [name for name in self.header if name not in frame.columns]
        if missing:
            raise DataError(
                f"the rows lack features {missing} of {self.role} {self.party_id}'s model"
            )
        return frame[list(self.header)].to_numpy(dtype=np.float64) @ self.weights


def _party_share(engine: Engine, model: MLModel) -> PartyShare:
    """Read one party's served components and LR weights from the training job."""
    with session(engine) as db:
        job = db.get(Job, (model.job_id, model.role, model.party_id))
    if job is None:
        raise NotFound(f"training job {model.job_id} of {model.party_model_id} is gone")
    plan = plans.load_plan(job)
    served = set(json.loads(model.inference_dsl).get("components", {}))

    steps: list[tuple[type[Component], dict[str, Any], dict[str, Any]]] = []
    linear: tuple[str, str, dict[str, Any]] | None = None
    for component in plan.components:
        if component.name not in served or not component.model_outputs:
            continue
        stored = [
            found
            for found in tracking.component_models(
                engine, model.job_id, component.name, model.role, model.party_id
            )
            if found.model_alias == component.model_outputs[0]
        ]
        if not stored:
            continue
        meta, param = json.loads(stored[0].meta), json.loads(stored[0].param)
        if component.module in LINEAR_MODULES:
            linear = (component.name, component.module, param)
            break
        steps.append((get_component(component.module), meta, param))
    if linear is None or not steps:
        raise ParameterError(
            f"model {model.model_id} version {model.model_version} has no DataIO and HeteroLR "
            "or HomoLR model to score with for this party; bind a model that does"
        )

    name, module, param = linear
    header = tuple(str(feature) for feature in param.get("header", []))
    index = plans.party_index(plan, model.role, model.party_id)
    params, _ = plans.component_params(plan, name, model.role, index)
    predict_param = getattr(params, "predict_param", None) or {}
    return PartyShare(
        role=model.role,
        party_id=model.party_id,
        module=module,
        sid=str(steps[0][2].get("sidName") or "id"),
        steps=tuple(steps),
        header=header,
        weights=np.array([float(param["weight"][f]) for f in header], dtype=np.float64),
        intercept=float(param.get("intercept", 0.0)),
        threshold=float(predict_param.get("threshold", 0.5)),
        first_component=_first_component(plan, served),
    )


def _first_component(plan: Any, served: set[str]) -> str:
    return next(c.name for c in plan.components if c.name in served and c.model_outputs)


class Serving:
    """Scores rows for bound services; parties' shares and hosts' scores are kept in memory."""

    def __init__(self, config: FlowConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self._lock = threading.Lock()
        self._shares: dict[tuple[str, str], PartyShare] = {}
        self._host_scores: dict[tuple[str, str, str, int], pd.Series] = {}
        self._host_tables: dict[tuple[str, str], tuple[str, str]] = {}
        self._bindings: dict[str, tuple[MLModel, list[MLModel]]] = {}

    def forget_binding(self, service_id: str) -> None:
        """Read a service's binding from the store again at its next request."""
        with self._lock:
            self._bindings.pop(service_id, None)

    def share(self, model: MLModel) -> PartyShare:
        """One party's share, read from the store once."""
        key = (model.party_model_id, model.model_version)
        with self._lock:
            found = self._shares.get(key)
        if found is None:
            found = _party_share(self.engine, model)
            with self._lock:
                self._shares[key] = found
        return found

    def host_scores(self, model: MLModel) -> pd.Series:
        """A host's partial score of every row of its table, by id; computed by the host."""
        share = self.share(model)
        table = self._host_table(model, share)
        key = (model.party_model_id, model.model_version, table.path, table.update_time)
        with self._lock:
            found = self._host_scores.get(key)
        if found is None:
            frame = storage.read_table(tables.table_dir(self.config, table)).to_pandas()
            frame[frame.columns[0]] = frame[frame.columns[0]].astype(str)
            found = pd.Series(share.partial_scores(frame), index=frame[frame.columns[0]])
            found = found[~found.index.duplicated()]
            with self._lock:
                self._host_scores[key] = found
            log.info("serving: %s scored its %d rows", model.party_model_id, len(found))
        return found

    def _host_table(self, model: MLModel, share: PartyShare) -> DataTable:
        """The table a host's first served component read in training, as stored now."""
        key = (model.party_model_id, model.model_version)
        with self._lock:
            names = self._host_tables.get(key)
        if names is None:
            found = self._training_table(model, share)
            names = (found.namespace, found.table_name)
            with self._lock:
                self._host_tables[key] = names
        table = tables.get_table(self.engine, *names)
        if table is None:
            raise NotFound(
                f"host {model.party_id}'s table {names[1]!r} in namespace {names[0]!r} is gone; "
                "upload it again to score with this model"
            )
        return table

    def _training_table(self, model: MLModel, share: PartyShare) -> DataTable:
        with session(self.engine) as db:
            task = db.exec(
                select(Task).where(
                    Task.job_id == model.job_id,
                    Task.component_name == share.first_component,
                    Task.role == model.role,
                    Task.party_id == model.party_id,
                )
            ).first()
        if task is None:
            raise NotFound(f"{model.party_model_id} has no {share.first_component} task")
        inputs = [
            table
            for found in contexts.task_input_tables(self.engine, task).values()
            for table in found
        ]
        if len(inputs) != 1:
            raise DataError(f"{model.party_model_id}: its feature table cannot be told apart")
        return inputs[0]

    def predict(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Score the request's rows with the model bound to its ``service_id``."""
        service_id = args.text(request, "service_id")
        if not service_id:
            raise ParameterError("service_id missing; give the service bound by /v1/model/bind")
        with self._lock:
            found = self._bindings.get(service_id)
        if found is None:
            found = models.binding(self.engine, service_id)
            with self._lock:
                self._bindings[service_id] = found
        bound, parties = found
        guest = self.share(bound)
        frame = _rows(request.get("feature_data"), guest.sid)

        scores = guest.partial_scores(frame) + guest.intercept
        if guest.module == "HeteroLR":
            ids = frame[guest.sid]
            for host in (party for party in parties if party.role == "host"):
                host_scores = self.host_scores(host).reindex(ids).to_numpy()
                unknown = np.isnan(host_scores)
                if unknown.any():
                    raise NotFound(
                        f"host {host.party_id} has no row with id {ids[unknown].iloc[0]!r}; "
                        "score ids that the host's table holds"
                    )
                scores = scores + host_scores
        _check_finite(frame, guest.sid, scores)
        probabilities = sigmoid(scores)

        predictions = [
            {
                guest.sid: row_id,
                "predict_result": int(p > guest.threshold),
                "predict_score": float(p),
                "predict_detail": {"0": float(1 - p), "1": float(p)},
            }
            for row_id, p in zip(frame[guest.sid].tolist(), probabilities.tolist(), strict=True)
        ]
        return {
            "service_id": service_id,
            "model_id": bound.model_id,
            "model_version": bound.model_version,
            "predictions": predictions,
        }


def _check_finite(frame: pd.DataFrame, sid: str, scores: np.ndarray) -> None:
    """Refuse a row whose score is not a number (a null, an infinite value): name its columns."""
    bad = np.flatnonzero(~np.isfinite(scores))
    if not len(bad):
        return
    row = frame.iloc[int(bad[0])]
    culprits = [name for name in frame.columns if name != sid and not _finite(row[name])]
    raise DataError(
        f"row {row[sid]!r} cannot be scored: {', '.join(culprits) or 'its features'} must be "
        "finite numbers"
    )


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _rows(feature_data: Any, sid: str) -> pd.DataFrame:
    """The request's rows as a frame, the id column first and as text."""
    rows = [feature_data] if isinstance(feature_data, Mapping) else feature_data
    if not isinstance(rows, list) or not rows or not all(isinstance(r, Mapping) for r in rows):
        raise ParameterError(
            'feature_data must be a row or a list of rows, such as {"id": "133", "x0": 0.25, ...}'
        )
    if len(rows) > MAX_ROWS:
        raise ParameterError(
            f"feature_data has {len(rows)} rows; score at most {MAX_ROWS} at once, or run a "
            "predict job on a table"
        )
    frame = pd.DataFrame(rows)
    if sid not in frame.columns or frame[sid].isna().any():
        raise ParameterError(f"every row needs its id under {sid!r}, the model's id column")
    frame[sid] = frame[sid].astype(str)
    return frame[[sid, *[c for c in frame.columns if c != sid]]]
