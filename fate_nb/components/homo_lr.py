"""HomoLR: logistic regression on rows split between clients; the arbiter averages their models.

Every client (the guest and each host) holds the same features for rows of its own, with
labels. Each round, every client trains the current model on its rows for ``aggregate_iters``
epochs (FATE's exact logistic gradient, its penalty and its own optimizer), and the arbiter
returns the row-weighted average of the clients' models. Uploads go through secure aggregation
(``_secure_aggregation``): pairwise masks, agreed client to client by Diffie-Hellman, cancel
only in the sum of every client's upload.

Messages (tag ``setup`` once, then the round number):

1. ``model_header`` client -> arbiter: its feature names and fit_intercept; the arbiter
   checks that all clients train the same model.
2. ``train_setup`` arbiter -> clients: the seed of the initial weights (the arbiter's
   init_param.random_seed, or one it draws) so that every client starts from the same model.
3. ``dh_pubkey`` client -> each other client: its Diffie-Hellman public key.
4. ``masked_model`` client -> arbiter: fixed-point [n*w, n*b, n] for its n rows, masked.
5. ``aggregated_model`` arbiter -> clients: the sum's [w, b] divided by the sum's n.
6. ``masked_loss`` client -> arbiter: fixed-point n * (mean log-loss of the averaged model on
   its rows, plus the penalty), masked. FATE 1.6 sends this loss unmasked.
7. ``converge_flag`` arbiter -> clients: whether the pooled loss (or, for weight_diff, the
   change of the averaged model) is within tol.

What each party learns: the arbiter learns the total row count and, each round, the averaged
model and the pooled loss. It never sees one client's weights, loss or row count: every upload
it receives is uniformly random on its own. Clients learn the averaged models and the flags,
and of each other only Diffie-Hellman public keys; with two clients, either one can infer much
of the other's model from the average and its own, as in any federated averaging. Rows and
labels never leave their client. The arbiter logs ``train/loss``; each client predicts on its
own rows (``train_data``, and ``eval_data`` typed ``validate``) with the final averaged model.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fate_nb.components import _linear
from fate_nb.components._secure_aggregation import (
    PairwiseMasks,
    client_order,
    from_clients,
    to_clients,
    unmasked_sum,
)
from fate_nb.components.base import Component, TaskContext
from fate_nb.components.evaluation import PREDICTION_COLUMNS
from fate_nb.components.params import Params, one_of
from fate_nb.federation import Federation
from fate_nb.flow.errors import DataError, ParameterError
from fate_nb.flow.tracking import header_of

log = logging.getLogger(__name__)


@dataclass
class HomoLRParam(Params):
    """FATE's HomoLogisticParam: names and defaults of FATE 1.6."""

    penalty: str | None = "L2"
    tol: float = 1e-4
    alpha: float = 1.0
    optimizer: str = "rmsprop"
    batch_size: int = -1
    learning_rate: float = 0.01
    init_param: dict[str, Any] = field(
        default_factory=lambda: {
            "init_method": "random_uniform",
            "init_const": 1,
            "fit_intercept": True,
            "random_seed": None,
        }
    )
    max_iter: int = 100
    early_stop: str = "diff"
    encrypt_param: dict[str, Any] = field(
        default_factory=lambda: {"method": None, "key_length": 1024}
    )
    re_encrypt_batches: int = 2
    predict_param: dict[str, Any] = field(default_factory=lambda: {"threshold": 0.5})
    cv_param: dict[str, Any] = field(default_factory=lambda: {"need_cv": False})
    decay: float = 1
    decay_sqrt: bool = True
    aggregate_iters: int = 1
    multi_class: str = "ovr"
    validation_freqs: int | None = None
    early_stopping_rounds: int | None = None
    metrics: list[str] | None = field(default_factory=lambda: ["auc", "ks"])
    use_first_metric_only: bool = False
    use_proximal: bool = False
    mu: float = 0.1
    callback_param: dict[str, Any] = field(default_factory=dict)

    def check(self, where: str) -> None:
        """Refuse values this implementation does not run, saying what it does run."""
        if self.penalty is not None:
            self.penalty = self.penalty.upper()
            one_of(self.penalty, ["L1", "L2", "NONE"], f"{where}.penalty")
        one_of(self.optimizer, _linear.OPTIMIZERS, f"{where}.optimizer")
        one_of(self.early_stop, ["diff", "abs", "weight_diff"], f"{where}.early_stop")
        one_of(self.init_param.get("init_method"), _linear.INIT_METHODS, f"{where}.init_method")
        one_of(self.multi_class, ["ovr"], f"{where}.multi_class")
        method = self.encrypt_param.get("method")
        if method is not None:
            raise ParameterError(
                f"{where}.encrypt_param.method is {method!r}; fate-nb's HomoLR hides every "
                "upload by secure aggregation instead of encrypting it: set method null"
            )
        if self.cv_param.get("need_cv"):
            raise ParameterError(f"{where}.cv_param.need_cv is not supported yet; set it false")
        if self.validation_freqs is not None or self.early_stopping_rounds is not None:
            raise ParameterError(
                f"{where}: validation during training is not supported yet; leave "
                "validation_freqs and early_stopping_rounds null and evaluate the output with "
                "an Evaluation component"
            )
        if self.use_proximal:
            raise ParameterError(f"{where}.use_proximal (FedProx) is not supported; set it false")
        if self.batch_size != -1 and self.batch_size < 1:
            raise ParameterError(f"{where}.batch_size is {self.batch_size}; use -1 or above 0")
        if self.max_iter < 1 or self.aggregate_iters < 1:
            raise ParameterError(f"{where}: max_iter and aggregate_iters must be at least 1")
        if self.learning_rate <= 0 or self.alpha < 0:
            raise ParameterError(f"{where}: learning_rate must be above 0 and alpha at least 0")


@dataclass
class Rows:
    """One client's labelled rows, in id order."""

    ids: pd.Series
    features: np.ndarray
    labels: np.ndarray
    header: list[str]


def _read_rows(ctx: TaskContext, key: str, train_header: list[str] | None = None) -> Rows:
    frame, schema = ctx.read_frame(ctx.input_table(key))
    sid = frame.columns[0]
    frame = frame.sort_values(sid, kind="stable").reset_index(drop=True)
    where = f"HomoLR's {key} on {ctx.role} {ctx.party_id}"
    header = header_of(schema)
    missing = [name for name in header if name not in frame.columns]
    if missing:
        raise DataError(f"{where} lacks feature columns {missing}; put DataIO first")
    if train_header is not None and header != train_header:
        raise DataError(f"{where} has features {header}, train_data {train_header}; match them")
    label_name = schema.get("label_name")
    if not label_name or label_name not in frame.columns:
        raise DataError(f"{where} has no label column; set with_label true in its DataIO")
    labels = frame[label_name].to_numpy(dtype=np.float64)
    classes = set(np.unique(labels).tolist())
    if not classes <= {0.0, 1.0}:
        raise DataError(f"{where} has labels {sorted(classes)[:10]}; HomoLR needs 0 and 1")
    if key == "train_data" and len(frame) == 0:
        raise DataError(f"{where} has no rows; give every client rows to train on")
    features = frame[header].to_numpy(dtype=np.float64)
    return Rows(frame[sid].astype(str), features, labels, header)


class HomoLR(Component):
    """FATE's HomoLR: guest and hosts train, the arbiter averages (see the module's messages)."""

    module = "HomoLR"
    model_buffer = "HomoLogisticRegression"
    roles = frozenset({"guest", "host", "arbiter"})
    needs_roles = roles
    param_class = HomoLRParam

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Train as this party's role; clients then predict on their own rows."""
        fed = ctx.federation
        if fed is None:
            raise ParameterError("HomoLR needs the federation; run it in a job")
        if len(client_order(fed)) < 2:
            raise ParameterError(
                "HomoLR needs at least two clients for secure aggregation, or the arbiter "
                "would see one client's model; add a host to the job's roles"
            )
        if ctx.model_inputs:
            raise ParameterError(
                "HomoLR with an input model (predict or warm start) is not supported yet; "
                "train it in this job without a model input"
            )
        if ctx.role == "arbiter":
            return _run_arbiter(ctx, fed)
        if "train_data" not in ctx.data_inputs:
            raise ParameterError("HomoLR needs train_data on every client; give train_data")

        rows = _read_rows(ctx, "train_data")
        parts = [(rows, "train")]
        if "eval_data" in ctx.data_inputs:
            parts.append((_read_rows(ctx, "eval_data", rows.header), "validate"))
        weights, summary = _train_client(ctx, fed, rows)
        _save_predictions(ctx, parts, weights)
        return summary


def _rounds(params: HomoLRParam) -> list[tuple[int, int]]:
    """Each round's first epoch and the epoch after its last; the last round may be shorter."""
    every, epochs = params.aggregate_iters, params.max_iter
    return [(start, min(start + every, epochs)) for start in range(0, epochs, every)]


def _margin(weights: np.ndarray, features: np.ndarray) -> np.ndarray:
    """w.x (+ b): the intercept, when fitted, is the one weight past the features."""
    size = features.shape[1]
    bias = weights[size] if len(weights) > size else 0.0
    return features @ weights[:size] + bias


def _descend(
    params: HomoLRParam,
    weights: np.ndarray,
    optimizer: _linear.Optimizer,
    features: np.ndarray,
    labels: np.ndarray,
    epoch: int,
) -> None:
    """One mini-batch step in place: the logistic gradient, the penalty, the optimizer."""
    size = features.shape[1]
    error = _linear.sigmoid(_margin(weights, features)) - labels
    gradient = features.T @ error / len(labels)
    if len(weights) > size:
        gradient = np.append(gradient, error.mean())
    if params.penalty == "L2":
        gradient[:size] += params.alpha * weights[:size]
    weights -= optimizer.delta(gradient, epoch)
    if params.penalty == "L1":
        amount = params.alpha * optimizer.last_rate
        weights[:size] = _linear.soft_threshold(weights[:size], amount)


def _loss(params: HomoLRParam, weights: np.ndarray, rows: Rows) -> float:
    """Mean log-loss of ``weights`` on the rows, plus the penalty (never on the intercept)."""
    signed = 2 * rows.labels - 1
    loss = float(np.mean(np.logaddexp(0.0, -signed * _margin(weights, rows.features))))
    own = weights[: rows.features.shape[1]]
    if params.penalty == "L2":
        loss += 0.5 * params.alpha * float(own @ own)
    elif params.penalty == "L1":
        loss += params.alpha * float(np.abs(own).sum())
    return loss


def _train_client(
    ctx: TaskContext, fed: Federation, rows: Rows
) -> tuple[np.ndarray, dict[str, Any]]:
    """Train locally each round and average through the arbiter; return the final model."""
    params: HomoLRParam = ctx.params
    intercept = bool(params.init_param.get("fit_intercept", True))
    setup = {"header": rows.header, "fit_intercept": intercept}
    fed.remote(setup, "model_header", "setup", "arbiter")
    seed = fed.get_one("train_setup", "setup", "arbiter")["model_seed"]
    masks = PairwiseMasks.agree(fed, (ctx.role, ctx.party_id), client_order(fed))

    count = len(rows.ids)
    init = {**params.init_param, "random_seed": seed}
    weights = _linear.initial_weights(len(rows.header) + int(intercept), init)
    optimizer = _linear.Optimizer(
        params.optimizer, params.learning_rate, params.decay, params.decay_sqrt
    )
    plan = _linear.batches(count, params.batch_size, False, None)

    losses: list[float] = []
    iters, converged = 0, False
    for step, (start, stop) in enumerate(_rounds(params)):
        for epoch in range(start, stop):
            for positions in plan:
                features, labels = rows.features[positions], rows.labels[positions]
                _descend(params, weights, optimizer, features, labels, epoch)
        upload = np.append(weights, 1.0) * count
        fed.remote(masks.mask(upload, step, 0), "masked_model", step, "arbiter")

        weights = np.array(fed.get_one("aggregated_model", step, "arbiter"), dtype=np.float64)
        loss = _loss(params, weights, rows)
        losses.append(loss)
        fed.remote(masks.mask(np.array([loss * count]), step, 1), "masked_loss", step, "arbiter")

        iters = stop
        ctx.progress(stop / params.max_iter)
        if fed.get_one("converge_flag", step, "arbiter"):
            converged = True
            break

    _save_model(ctx, rows.header, weights, iters, converged, losses)
    return weights, {"iters": iters, "is_converged": converged}


def _run_arbiter(ctx: TaskContext, fed: Federation) -> dict[str, Any]:
    """Sum the masked uploads, send the average back, log the pooled loss, judge convergence."""
    params: HomoLRParam = ctx.params
    headers = from_clients(fed, "model_header", "setup")
    first = headers[0]
    for (role, party), other in zip(client_order(fed), headers, strict=True):
        if other != first:
            raise DataError(
                f"HomoLR's clients train different models: {role} {party} has features "
                f"{other['header']} (fit_intercept {other['fit_intercept']}), the guest "
                f"{first['header']} (fit_intercept {first['fit_intercept']}); give every "
                "client the same columns and init_param.fit_intercept"
            )
    seed = params.init_param.get("random_seed")
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    to_clients(fed, {"model_seed": seed}, "train_setup", "setup")

    losses: list[float] = []
    model, previous = np.zeros(0), None
    iters, converged = 0, False
    for step, (_, stop) in enumerate(_rounds(params)):
        total = unmasked_sum(from_clients(fed, "masked_model", step))
        count = total[-1]
        model = total[:-1] / count
        to_clients(fed, model, "aggregated_model", step)

        loss = float(unmasked_sum(from_clients(fed, "masked_loss", step))[0] / count)
        losses.append(loss)
        ctx.log_metric_data("train", "loss", [(stop - 1, loss)])
        log.info("HomoLR round %d (epoch %d): pooled loss %.6f", step, stop - 1, loss)
        change = math.inf if previous is None else float(np.linalg.norm(model - previous))
        last = losses[-2] if len(losses) > 1 else None
        converged = _linear.converged(params.early_stop, params.tol, loss, last, change)
        to_clients(fed, converged, "converge_flag", step)

        previous, iters = model, stop
        ctx.progress(stop / params.max_iter)
        if converged:
            break

    ctx.set_metric_meta(
        "train",
        "loss",
        {"name": "train", "metric_type": "LOSS", "unit_name": "iters", "curve_name": "loss"},
    )
    _save_model(ctx, first["header"], model, iters, converged, losses)
    return {"iters": iters, "is_converged": converged, "loss_history": losses}


def _save_model(
    ctx: TaskContext,
    header: list[str],
    weights: np.ndarray,
    iters: int,
    converged: bool,
    losses: list[float],
) -> None:
    """FATE's LR Meta and Param; a client's lossHistory is its own loss of each average."""
    params: HomoLRParam = ctx.params
    intercept = len(weights) > len(header)
    meta = {
        "penalty": params.penalty or "NONE",
        "tol": params.tol,
        "alpha": params.alpha,
        "optimizer": params.optimizer,
        "batchSize": str(params.batch_size),
        "learningRate": params.learning_rate,
        "maxIter": str(params.max_iter),
        "earlyStop": params.early_stop,
        "fitIntercept": intercept,
        "aggregateIters": str(params.aggregate_iters),
        "needOneVsRest": False,
        "reEncryptBatches": str(params.re_encrypt_batches),
    }
    param = {
        "iters": iters,
        "lossHistory": losses,
        "isConverged": converged,
        "weight": {name: float(w) for name, w in zip(header, weights, strict=False)},
        "intercept": float(weights[len(header)]) if intercept else 0.0,
        "header": header,
        "bestIteration": -1,
    }
    ctx.save_model(meta, param)


def _save_predictions(ctx: TaskContext, parts: list[tuple[Rows, str]], weights: np.ndarray) -> None:
    """FATE's five prediction columns after the id, typed ``train`` or ``validate``."""
    threshold = float(ctx.params.predict_param.get("threshold", 0.5))
    table = ctx.input_table("train_data")
    sid = str(json.loads(table.table_meta).get("sid", "id"))
    frames = []
    for rows, kind in parts:
        scores = _linear.sigmoid(_margin(weights, rows.features))
        frames.append(
            pd.DataFrame(
                {
                    sid: rows.ids.to_numpy(),
                    "label": rows.labels.astype(np.int64),
                    "predict_result": (scores > threshold).astype(np.int64),
                    "predict_score": scores,
                    "predict_detail": [json.dumps({"0": 1 - p, "1": p}) for p in scores.tolist()],
                    "type": kind,
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    ctx.save_data(frame, {"sid": sid, "header": PREDICTION_COLUMNS}, table.partition)
