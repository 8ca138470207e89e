"""Evaluation: FATE's metrics of models' predictions, per model and per data type."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fate_nb.components import _metrics
from fate_nb.components._metrics import BINARY, METRICS, REGRESSION, Evaluated
from fate_nb.components.base import Component, TaskContext
from fate_nb.components.params import Params, one_of
from fate_nb.flow import tracking
from fate_nb.flow.errors import DataError, ParameterError
from fate_nb.flow.store import DataTable

log = logging.getLogger(__name__)

PREDICTION_COLUMNS = ["label", "predict_result", "predict_score", "predict_detail", "type"]
SUMMARY_TYPE = "EVALUATION_SUMMARY"
# The metrics FATE computes for each class when it unfolds a multi-class result.
UNFOLDED_METRICS = ["auc", "ks"]


@dataclass
class EvaluateParam(Params):
    """FATE's EvaluateParam: the kind of model, its positive label and the metrics to log."""

    eval_type: str = BINARY
    pos_label: int | float = 1
    metrics: list[str] | None = None
    unfold_multi_result: bool = False

    def check(self, where: str) -> None:
        """Refuse eval types other than binary, multi and regression, and unknown metrics."""
        if self.eval_type == "clustering":
            raise ParameterError(
                f"{where}.eval_type is 'clustering', which fate-nb does not evaluate (it has no "
                f"clustering model); use one of {list(METRICS)}"
            )
        one_of(self.eval_type, list(METRICS), f"{where}.eval_type")
        names = self.metrics
        if names is not None and not (
            isinstance(names, list) and all(isinstance(name, str) for name in names)
        ):
            raise ParameterError(
                f"{where}.metrics is {names!r}; use a list of metric names such as "
                '["auc", "ks"], or leave it out for every metric'
            )
        _metrics.chosen_metrics(self.eval_type, names, f"{where}.metrics")


class Evaluation(Component):
    """FATE's Evaluation: metrics of each input's predictions, one namespace per data type."""

    module = "Evaluation"
    roles = frozenset({"guest", "host", "arbiter"})
    param_class = EvaluateParam
    need_deploy = False

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Log the metrics of every input table; return the summary values by model and type."""
        params: EvaluateParam = ctx.params
        where = ctx.task.component_name
        inputs = ctx.data_inputs.get("data", [])
        if not inputs:
            log.info("%s: no predictions for %s %s to evaluate", where, ctx.role, ctx.party_id)
            return {}

        names = [_upstream_name(ctx, table) for table in inputs]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ParameterError(
                f"{where} has the predictions of {repeated} more than once; list each model's "
                "output once in its data input"
            )
        wanted = _metrics.chosen_metrics(params.eval_type, params.metrics, f"{where}.metrics")

        summary: dict[str, dict[str, dict[str, float]]] = {}
        for done, (name, table) in enumerate(zip(names, inputs, strict=True), start=1):
            frame = _predictions(ctx, table, name)
            for data_type, rows in frame.groupby("type", sort=False):
                namespace = str(data_type)
                context = f"{where}: the {namespace} rows of {name}"
                for metric_name, evaluated in _evaluate(params, wanted, name, rows, context):
                    _log(ctx, namespace, metric_name, evaluated)
                    if evaluated.summary:
                        summary.setdefault(metric_name, {})[namespace] = evaluated.summary
            log.info("%s: evaluated %d rows of %s", where, len(frame), name)
            ctx.progress(done / len(inputs))
        return summary


def _upstream_name(ctx: TaskContext, table: DataTable) -> str:
    """The component whose predictions ``table`` holds; an uploaded table goes by its name."""
    name = tracking.component_of_table(ctx.engine, ctx.task, table)
    if name is None:
        log.info("%s: table %r is no component's output", ctx.task.component_name, table.table_name)
        return table.table_name
    return name


def _predictions(ctx: TaskContext, table: DataTable, name: str) -> pd.DataFrame:
    """The prediction rows of one input, checked for the columns and values Evaluation reads."""
    where = ctx.task.component_name
    frame, _ = ctx.read_frame(table)
    missing = [column for column in PREDICTION_COLUMNS if column not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: the input from {name} has no columns {missing}; Evaluation's input must "
            f"be a model's prediction output, with columns {PREDICTION_COLUMNS}"
        )
    if frame.empty:
        raise DataError(f"{where}: the input from {name} has no rows; evaluate a non-empty one")

    for column in ("type", "label"):
        empty = int(frame[column].isna().sum())
        if empty:
            raise DataError(
                f"{where}: {empty} rows from {name} have no {column}; Evaluation needs the "
                "predictions of labelled data, each row with its type (train, validate, ...)"
            )
    return frame


def _evaluate(
    params: EvaluateParam, wanted: list[str], name: str, rows: pd.DataFrame, context: str
) -> list[tuple[str, Evaluated]]:
    """The metric names and results of one type's rows (and of each class, when unfolded)."""
    if params.eval_type == REGRESSION:
        labels = _numbers(rows["label"], "label", context)
        predictions = _numbers(rows["predict_score"], "predict_score", context)
        found = [(name, _metrics.regression(labels, predictions, wanted))]
    elif params.eval_type == BINARY:
        positive = _is_label(rows["label"], params.pos_label)
        _need_both_classes(positive, f"{context} (positive label {params.pos_label!r})")
        scores = _numbers(rows["predict_score"], "predict_score", context)
        found = [(name, _metrics.binary(name, positive, scores, wanted))]
    else:
        labels, predicted = _classes(rows["label"], rows["predict_result"])
        found = [(name, _metrics.multi(name, labels, predicted, wanted))]
        if params.unfold_multi_result:
            found += _unfolded(name, rows, context)

    for metric_name, evaluated in found:
        undefined = {k: v for k, v in evaluated.summary.items() if not math.isfinite(v)}
        if undefined:
            log.warning("%s: %s undefined for %s; not logged", context, undefined, metric_name)
            evaluated.summary = {k: v for k, v in evaluated.summary.items() if k not in undefined}
    return found


def _unfolded(name: str, rows: pd.DataFrame, context: str) -> list[tuple[str, Evaluated]]:
    """FATE's one-vs-rest view of a multi-class result: AUC and KS of each class's score."""
    details = [_detail(value, context) for value in rows["predict_detail"]]
    labels = [_label_text(label) for label in rows["label"]]
    found = []
    for key, (positive, scores) in _metrics.one_vs_rest(labels, details).items():
        if positive.all() or not positive.any():
            log.warning(
                "%s: class %s is on every row or none; no one-vs-rest metrics", context, key
            )
            continue
        class_name = f"{name}_class_{key}"
        found.append((class_name, _metrics.binary(class_name, positive, scores, UNFOLDED_METRICS)))
    return found


def _log(ctx: TaskContext, namespace: str, name: str, evaluated: Evaluated) -> None:
    if evaluated.summary:
        ctx.log_metric_data(namespace, name, list(evaluated.summary.items()))
        ctx.set_metric_meta(namespace, name, {"name": name, "metric_type": SUMMARY_TYPE})
    for curve in evaluated.curves:
        if curve.points:
            ctx.log_metric_data(namespace, curve.name, curve.points)
        meta = {"name": curve.name, "metric_type": curve.metric_type, **curve.extras}
        ctx.set_metric_meta(namespace, curve.name, meta)


def _numbers(column: pd.Series, name: str, context: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce")
    if values.isna().any():
        raise DataError(
            f"{context} have {name} values that are not numbers, such as "
            f"{column[values.isna()].iloc[0]!r}; evaluate a model's prediction output"
        )
    return values.to_numpy(dtype="float64")


def _is_label(labels: pd.Series, pos_label: float) -> np.ndarray:
    """Whether each label is the positive one (FATE counts every other label as negative)."""
    if pd.api.types.is_numeric_dtype(labels):
        return (labels == pos_label).to_numpy()
    return (labels.map(_label_text) == _label_text(pos_label)).to_numpy()


def _need_both_classes(positive: np.ndarray, context: str) -> None:
    count = int(positive.sum())
    if count in (0, len(positive)):
        side = "none" if count == 0 else "all"
        raise DataError(
            f"{context}: {side} of the {len(positive)} rows have the positive label; binary "
            "metrics need positive and negative rows, so check pos_label or the data"
        )


def _label_text(label: Any) -> str:
    """A label as text, an integral float as its integer (1.0 and "1" are the same class)."""
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def _classes(labels: pd.Series, predicted: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted classes, both numbers or both texts, so scikit-learn can compare them."""
    if pd.api.types.is_numeric_dtype(labels) and pd.api.types.is_numeric_dtype(predicted):
        return labels.to_numpy(), predicted.to_numpy()
    return labels.map(_label_text).to_numpy(), predicted.map(_label_text).to_numpy()


def _detail(value: Any, context: str) -> dict[str, float]:
    """One row's predict_detail: a JSON object of class to score."""
    try:
        detail = json.loads(value) if isinstance(value, str) else value
        return {_label_text(key): float(score) for key, score in detail.items()}
    except (AttributeError, TypeError, ValueError):
        raise DataError(
            f"{context} have a predict_detail that is not a JSON object of class scores: "
            f"{value!r}; unfold_multi_result needs the scores of every class"
        ) from None
