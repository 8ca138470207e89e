"""HeteroLR: logistic regression on features split between a guest (with labels) and hosts.

Who sees what. The arbiter makes a Paillier key pair and alone can decrypt. Each batch:

1. ``paillier_pubkey`` arbiter -> guest, hosts: the public key (once).
2. ``batch_info`` guest -> hosts: row positions of each batch of the epoch and the row count
   (positions in id order; both sides hold the same intersected ids).
3. ``host_forward`` host -> guest: [[u]], u = the host's X_h w_h per row, encrypted.
   ``host_loss_square`` host -> guest: [[sum of u**2]] (single-host loss only).
4. ``fore_gradient`` guest -> hosts: [[4d]] = [[sum of u]] + X_g w_g + b - 2y, encrypted;
   the hosts cannot read it, so they learn nothing of y.
5. ``guest_gradient`` guest -> arbiter and ``host_gradient`` host -> arbiter: each party's
   encrypted gradient sum of 4d * x over the batch (plus its L2 term); the arbiter decrypts
   gradients only, never rows.
6. ``guest_optim_gradient`` / ``host_optim_gradient`` arbiter -> each party: its share of
   the optimizer step; each party updates its own weights, which never leave it.
7. ``loss`` guest -> arbiter: [[sum of y*wx]] and [[sum of wx**2]] (Taylor loss terms),
   ``host_loss_regular`` host -> arbiter: [[L2 term]]; the arbiter logs ``train/loss``.
8. ``converge_flag`` arbiter -> guest, hosts after each epoch.

After training, ``host_predict`` host -> guest: the host's plain scores X_h w_h (as FATE
does), from which the guest predicts. No party receives another's features or labels.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fate_nb.components import _linear
from fate_nb.components._hetero_lr_parties import run_arbiter, run_host, train_guest
from fate_nb.components.base import Component, TaskContext
from fate_nb.components.params import Params, one_of
from fate_nb.flow.errors import DataError, ParameterError
from fate_nb.flow.tracking import header_of

log = logging.getLogger(__name__)

PREDICTION_COLUMNS = ["label", "predict_result", "predict_score", "predict_detail", "type"]


@dataclass
class HeteroLRParam(Params):
    """FATE's HeteroLogisticParam: names and defaults of FATE 1.x."""

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
        default_factory=lambda: {"method": "Paillier", "key_length": 1024}
    )
    encrypted_mode_calculator_param: dict[str, Any] = field(
        default_factory=lambda: {"mode": "strict", "re_encrypted_rate": 1}
    )
    predict_param: dict[str, Any] = field(default_factory=lambda: {"threshold": 0.5})
    cv_param: dict[str, Any] = field(default_factory=lambda: {"need_cv": False})
    decay: float = 1
    decay_sqrt: bool = True
    multi_class: str = "ovr"
    validation_freqs: int | None = None
    early_stopping_rounds: int | None = None
    metrics: list[str] | None = None
    floating_point_precision: int = 23
    use_first_metric_only: bool = False
    shuffle: bool = True
    batch_strategy: str = "full"
    masked_rate: int = 5
    sqn_param: dict[str, Any] = field(default_factory=dict)
    stepwise_param: dict[str, Any] = field(default_factory=dict)
    callback_param: dict[str, Any] = field(default_factory=dict)

    def check(self, where: str) -> None:
        """Refuse values this implementation does not run, saying what it does run."""
        if self.penalty is not None:
            self.penalty = self.penalty.upper()
            one_of(self.penalty, ["L1", "L2", "NONE"], f"{where}.penalty")
        one_of(self.optimizer, _linear.OPTIMIZERS, f"{where}.optimizer")
        one_of(self.early_stop, ["diff", "abs", "weight_diff"], f"{where}.early_stop")
        one_of(self.init_param.get("init_method"), _linear.INIT_METHODS, f"{where}.init_method")
        one_of(self.encrypt_param.get("method"), ["Paillier"], f"{where}.encrypt_param.method")
        key_length = self.encrypt_param.get("key_length")
        if not isinstance(key_length, int) or key_length < 256:
            raise ParameterError(f"{where}.encrypt_param.key_length is {key_length!r}; use 1024")
        if self.cv_param.get("need_cv"):
            raise ParameterError(f"{where}.cv_param.need_cv is not supported yet; set it false")
        if self.batch_size != -1 and self.batch_size < 1:
            raise ParameterError(f"{where}.batch_size is {self.batch_size}; use -1 or above 0")
        if self.max_iter < 1 or self.learning_rate <= 0 or self.alpha < 0:
            raise ParameterError(
                f"{where}: max_iter must be at least 1, learning_rate above 0, alpha at least 0"
            )
        if self.validation_freqs is not None or self.early_stopping_rounds is not None:
            raise ParameterError(
                f"{where}: validation during training (validation_freqs, "
                "early_stopping_rounds) is not supported yet; leave them null"
            )
        if not 8 <= self.floating_point_precision <= 52:
            raise ParameterError(f"{where}.floating_point_precision must be from 8 to 52")


@dataclass
class Batch:
    """The training rows one party holds, in id order."""

    ids: pd.Series
    features: np.ndarray
    header: list[str]
    labels: np.ndarray | None = None


def _rows(ctx: TaskContext, key: str, label: str) -> Batch:
    """A party's rows in id order; ``label`` is "required", "optional" or "none"."""
    table = ctx.input_table(key)
    frame, schema = ctx.read_frame(table)
    sid = frame.columns[0]
    frame = frame.sort_values(sid, kind="stable").reset_index(drop=True)
    header = header_of(schema)
    missing = [name for name in header if name not in frame.columns]
    if missing:
        raise DataError(f"HeteroLR's input lacks feature columns {missing}; put DataIO first")
    labels = None
    label_name = schema.get("label_name")
    if label != "none" and label_name in frame.columns:
        labels = frame[label_name].to_numpy(dtype=np.float64)
        classes = set(np.unique(labels).tolist())
        if not classes <= {0.0, 1.0}:
            raise DataError(f"HeteroLR needs labels 0 and 1, got {sorted(classes)[:10]}")
    elif label == "required":
        raise DataError(
            "the guest's HeteroLR input has no label column; set with_label true in DataIO"
        )
    return Batch(frame[sid].astype(str), frame[header].to_numpy(dtype=np.float64), header, labels)


class HeteroLR(Component):
    """FATE's HeteroLR on guest, hosts and arbiter (see the module's message list)."""

    module = "HeteroLR"
    model_buffer = "HeteroLogisticRegression"
    roles = frozenset({"guest", "host", "arbiter"})
    needs_roles = roles
    param_class = HeteroLRParam

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Train as this party's role and predict on the training rows, or predict only."""
        if ctx.federation is None:
            raise ParameterError("HeteroLR needs the federation; run it in a job")
        trained = ctx.input_model(self.module)
        if trained is not None:
            return _predict(ctx, trained[1])
        if "eval_data" in ctx.data_inputs:
            raise ParameterError(
                f"{ctx.task.component_name}: validation data next to train_data is not "
                "supported yet; evaluate the training output, or run a predict job"
            )
        if ctx.role == "arbiter":
            return run_arbiter(ctx)
        if ctx.role == "host":
            return run_host(ctx, _rows(ctx, "train_data", "none"))
        rows = _rows(ctx, "train_data", "required")
        summary, scores = train_guest(ctx, rows)
        _save_predictions(ctx, rows, scores, "train_data", "train")
        return summary


def _predict(ctx: TaskContext, model: dict[str, Any]) -> dict[str, Any]:
    """A predict job: the host sends its plain scores, the guest adds its own and predicts."""
    assert ctx.federation is not None
    if ctx.role == "arbiter":
        return {"predicted": False}
    # FATE names the data to score eval_data (DSL v1) or test_data (DSL v2).
    key = next((k for k in ("eval_data", "test_data", "data") if k in ctx.data_inputs), None)
    if key is None:
        raise ParameterError(f"{ctx.task.component_name} has no data to predict; give eval_data")
    rows = _rows(ctx, key, "none" if ctx.role == "host" else "optional")
    weights = np.array([float(model["weight"][name]) for name in rows.header])
    scores = rows.features @ weights
    if ctx.role == "host":
        ctx.federation.remote(scores, "host_predict", "predict", "guest")
        return {"predicted": len(scores)}
    for host_scores in ctx.federation.get("host_predict", "predict", "host"):
        scores = scores + np.asarray(host_scores, dtype=np.float64)
    probabilities = _linear.sigmoid(scores + float(model.get("intercept", 0.0)))
    _save_predictions(ctx, rows, probabilities, key, "predict")
    return {"predicted": len(probabilities)}


def _save_predictions(
    ctx: TaskContext, rows: Batch, scores: np.ndarray, key: str, kind: str
) -> None:
    """FATE's five prediction columns after the id; the label is empty when unknown."""
    threshold = float(ctx.params.predict_param.get("threshold", 0.5))
    table = ctx.input_table(key)
    schema = json.loads(table.table_meta)
    labels = (
        pd.array(rows.labels.astype(np.int64), dtype="Int64")
        if rows.labels is not None
        else pd.array([None] * len(scores), dtype="Int64")
    )
    frame = pd.DataFrame(
        {
            str(schema.get("sid", "id")): rows.ids.to_numpy(),
            "label": labels,
            "predict_result": (scores > threshold).astype(np.int64),
            "predict_score": scores,
            "predict_detail": [json.dumps({"0": 1 - p, "1": p}) for p in scores.tolist()],
            "type": kind,
        }
    )
    output_schema = {"sid": frame.columns[0], "header": PREDICTION_COLUMNS}
    ctx.save_data(frame, output_schema, table.partition)
