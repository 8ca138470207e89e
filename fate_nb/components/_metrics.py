"""Evaluation's arithmetic: FATE 1.x's metrics and curves, computed with scikit-learn.

Binned curves follow FATE's cuts: 100 cuts ``i / 100``, each turned into a score threshold,
and a row counts as positive when its score is above the threshold. The KS curves take the
threshold at rank ``n * i // 100`` of the scores sorted high to low; accuracy, precision,
recall, lift, gain, the confusion matrix and F1 take it at that rank of the distinct scores.
Every binned curve then ends at cut 1.0 with a threshold below the lowest score (every row
positive). The summary's KS is the exact ``max(tpr - fpr)`` of the full ROC curve, so it can
be a little above the KS curve's peak. The ROC curve is scikit-learn's, thinned to at most
101 points.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from fate_nb.flow.errors import ParameterError

BINARY, MULTI, REGRESSION = "binary", "multi", "regression"
BINARY_METRICS = (
    "auc",
    "ks",
    "lift",
    "gain",
    "accuracy",
    "precision",
    "recall",
    "roc",
    "confusion_mat",
    "f1_score",
)
REGRESSION_FUNCTIONS = {
    "explained_variance": skm.explained_variance_score,
    "mean_absolute_error": skm.mean_absolute_error,
    "mean_squared_error": skm.mean_squared_error,
    "median_absolute_error": skm.median_absolute_error,
    "r2_score": skm.r2_score,
    "root_mean_squared_error": skm.root_mean_squared_error,
}
METRICS = {
    BINARY: BINARY_METRICS,
    MULTI: ("accuracy", "precision", "recall"),
    REGRESSION: tuple(REGRESSION_FUNCTIONS),
}
# Other names FATE accepts for the same metrics.
ALIASES = {
    **dict.fromkeys(("l1", "mae", "regression_l1"), "mean_absolute_error"),
    **dict.fromkeys(("l2", "mse", "regression_l2", "regression"), "mean_squared_error"),
    **dict.fromkeys(("l2_root", "rmse"), "root_mean_squared_error"),
    "r2": "r2_score",
    "acc": "accuracy",
}
BINNED = ("lift", "gain", "accuracy", "precision", "recall", "confusion_mat", "f1_score")
NOT_COMPUTED = ("psi", "quantile_pr")
ROUND = 6
CUTS = 100
# Below the lowest score, so every row counts as positive (FATE's own offset).
BELOW_LOWEST = 0.001


@dataclass
class Logged:
    """One metric to log: its name, FATE's metric type, its points and its extra metas."""

    name: str
    metric_type: str
    points: list[tuple[Any, float]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluated:
    """What the rows of one type gave: summary values, and curves and tables to log."""

    summary: dict[str, float] = field(default_factory=dict)
    curves: list[Logged] = field(default_factory=list)


def chosen_metrics(eval_type: str, names: Sequence[str] | None, where: str) -> list[str]:
    """FATE's names of the metrics to compute, in FATE's order; no names means all of them."""
    offered = METRICS[eval_type]
    if not names:
        return list(offered)

    wanted = {ALIASES.get(name.lower(), name.lower()) for name in names}
    known = {metric for metrics in METRICS.values() for metric in metrics}
    unknown = sorted(wanted - known - set(NOT_COMPUTED))
    if unknown:
        raise ParameterError(
            f"{where} has {unknown}, which are not metric names; use names from {list(offered)}, "
            "or leave metrics out to compute all of them"
        )
    skipped = sorted(wanted & set(NOT_COMPUTED))
    if skipped:
        raise ParameterError(
            f"{where} has {skipped}, which fate-nb does not compute; leave them out"
        )
    foreign = sorted(wanted - set(offered))
    if foreign:
        raise ParameterError(
            f"{where} has {foreign}, which are not {eval_type} metrics; a {eval_type} "
            f"evaluation computes {list(offered)}"
        )

    # FATE logs precision and recall as a pair of curves.
    if wanted & {"precision", "recall"}:
        wanted |= {"precision", "recall"}
    return [metric for metric in offered if metric in wanted]


def binary(name: str, positive: np.ndarray, scores: np.ndarray, wanted: Sequence[str]) -> Evaluated:
    """Binary metrics of boolean labels (True for the positive label) against scores."""
    result = Evaluated()
    if "auc" in wanted:
        result.summary["auc"] = float(skm.roc_auc_score(positive, scores))
    if "ks" in wanted:
        fpr, tpr, _ = skm.roc_curve(positive, scores, drop_intermediate=False)
        result.summary["ks"] = float(np.max(tpr - fpr))
        result.curves += _ks_curves(name, positive, scores)
    if "roc" in wanted:
        result.curves.append(_roc_curve(name, positive, scores))

    binned = [metric for metric in wanted if metric in BINNED]
    if binned:
        result.curves += _binned_curves(name, positive, scores, binned)
    result.summary = _rounded_summary(result.summary)
    return result


def regression(labels: np.ndarray, predictions: np.ndarray, wanted: Sequence[str]) -> Evaluated:
    """Regression errors of predictions against labels; undefined ones come out as nan."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        summary = {m: float(REGRESSION_FUNCTIONS[m](labels, predictions)) for m in wanted}
    return Evaluated(_rounded_summary(summary))


def multi(name: str, labels: np.ndarray, predicted: np.ndarray, wanted: Sequence[str]) -> Evaluated:
    """Accuracy, and precision and recall per class (their means go to the summary)."""
    result = Evaluated()
    if "accuracy" in wanted:
        result.summary["accuracy"] = float(skm.accuracy_score(labels, predicted))

    classes = np.unique(np.concatenate([labels, predicted]))
    for metric, score in (("precision", skm.precision_score), ("recall", skm.recall_score)):
        if metric not in wanted:
            continue
        per_class = score(labels, predicted, labels=classes, average=None, zero_division=0.0)
        result.summary[metric] = float(np.mean(per_class))
        result.curves.append(
            Logged(
                f"{name}_{metric}",
                f"{metric.upper()}_MULTI_EVALUATION",
                _points(classes.tolist(), per_class),
                {"ordinate_name": metric.capitalize(), "curve_name": name, "pair_type": name},
            )
        )
    result.summary = _rounded_summary(result.summary)
    return result


def one_vs_rest(
    labels: Sequence[str], details: Sequence[dict[str, float]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per class of the details: boolean labels (the row is that class) and the class's scores."""
    classes = sorted({key for detail in details for key in detail})
    return {
        key: (
            np.array([label == key for label in labels]),
            np.array([float(detail.get(key, 0.0)) for detail in details]),
        )
        for key in classes
    }


def _rounded(values: Any) -> list[float]:
    return [round(float(value), ROUND) for value in values]


def _rounded_summary(summary: dict[str, float]) -> dict[str, float]:
    return {metric: round(value, ROUND) for metric, value in summary.items()}


def _points(keys: Any, values: Any) -> list[tuple[Any, float]]:
    keys = [round(key, ROUND) if isinstance(key, float) else key for key in keys]
    return list(zip(keys, _rounded(values), strict=True))


def _counts(positive: np.ndarray, scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Rows of ``tn, fp, fn, tp`` per threshold, a score above it counting as positive."""
    distinct, back = np.unique(thresholds, return_inverse=True)
    matrices = [
        skm.confusion_matrix(positive, scores > threshold, labels=[False, True]).ravel()
        for threshold in distinct
    ]
    return np.array(matrices)[back]


def _with_end(cuts: np.ndarray, thresholds: np.ndarray, scores: np.ndarray) -> Any:
    return np.append(cuts, 1.0), np.append(thresholds, scores.min() - BELOW_LOWEST)


def _ks_curves(name: str, positive: np.ndarray, scores: np.ndarray) -> list[Logged]:
    ordered = np.sort(scores)[::-1]
    ranks = np.arange(CUTS) * len(ordered) // CUTS
    cuts, thresholds = _with_end(np.arange(CUTS) / CUTS, ordered[ranks], scores)
    _, fp, fn, tp = _counts(positive, scores, thresholds).T
    rates = {"fpr": fp / (~positive).sum(), "tpr": tp / (tp + fn)}
    return [
        Logged(
            f"{name}_ks_{rate}",
            "KS_EVALUATION",
            _points(cuts.tolist(), values),
            {"curve_name": f"{name}_{rate}", "pair_type": name, "thresholds": _rounded(thresholds)},
        )
        for rate, values in rates.items()
    ]


def _roc_curve(name: str, positive: np.ndarray, scores: np.ndarray) -> Logged:
    fpr, tpr, thresholds = skm.roc_curve(positive, scores)
    # JSON has no infinity: the first point's threshold is max + 1, as scikit-learn had it < 1.3.
    thresholds = np.where(np.isfinite(thresholds), thresholds, scores.max() + 1)
    kept = np.unique(np.linspace(0, len(fpr) - 1, CUTS + 1).round().astype(int))
    return Logged(
        f"{name}_roc",
        "ROC_EVALUATION",
        _points(fpr[kept].tolist(), tpr[kept]),
        {
            "unit_name": "fpr",
            "ordinate_name": "tpr",
            "curve_name": name,
            "thresholds": _rounded(thresholds[kept]),
        },
    )


def _binned_curves(
    name: str, positive: np.ndarray, scores: np.ndarray, wanted: list[str]
) -> list[Logged]:
    distinct = np.unique(scores)[::-1]
    ranks = np.arange(CUTS) * len(distinct) // CUTS
    cuts, thresholds = _with_end(np.arange(CUTS) / CUTS, distinct[ranks], scores)
    tn, fp, fn, tp = _counts(positive, scores, thresholds).T
    rows, flagged = len(scores), tp + fp
    # FATE draws precision as 1 where no row counts as positive.
    precision = np.divide(tp, flagged, out=np.ones(len(tp)), where=flagged > 0)
    recall = tp / (tp + fn)
    both = precision + recall
    values = {
        "accuracy": (tp + tn) / rows,
        "precision": precision,
        "recall": recall,
        "lift": precision / ((tp + fn) / rows),
        "gain": recall,
        "f1_score": np.divide(2 * precision * recall, both, out=np.zeros(len(tp)), where=both > 0),
    }
    extras = {"curve_name": name, "thresholds": _rounded(thresholds)}

    found = []
    for metric in wanted:
        title = f"{name}_{metric}"
        if metric == "accuracy":
            points = _points(cuts.tolist(), values[metric])
            found.append(Logged(title, "ACCURACY_EVALUATION", points, dict(extras)))
        elif metric in ("precision", "recall"):
            points = _points(cuts.tolist(), values[metric])
            pair = {"ordinate_name": metric.capitalize(), **extras, "pair_type": name}
            found.append(Logged(title, f"{metric.upper()}_BINARY_EVALUATION", points, pair))
        elif metric in ("lift", "gain"):
            points, kept = _best_per_share(flagged / rows, values[metric])
            kept_extras = {"curve_name": name, "thresholds": _rounded(thresholds[kept])}
            found.append(Logged(title, f"{metric.upper()}_EVALUATION", points, kept_extras))
        elif metric == "confusion_mat":
            counts = {"tp": tp, "tn": tn, "fp": fp, "fn": fn}
            table = {key: [int(n) for n in count] for key, count in counts.items()}
            table["thresholds"] = extras["thresholds"]
            found.append(Logged(title, "CONFUSION_MAT", extras=table))
        else:
            table = {"f1_scores": _rounded(values[metric]), "thresholds": extras["thresholds"]}
            found.append(Logged(title, "F1_SCORE", extras=table))
    return found


def _best_per_share(shares: np.ndarray, values: np.ndarray) -> tuple[list[Any], list[int]]:
    """One point per share of rows counted positive, the highest value; and their indexes."""
    best: dict[float, int] = {}
    for index, share in enumerate(shares.tolist()):
        if share not in best or values[index] > values[best[share]]:
            best[share] = index
    kept = [best[share] for share in sorted(best)]
    return _points(shares[kept].tolist(), values[kept]), kept
