"""Evaluation: scikit-learn's numbers under FATE's metric names, types and namespaces; refusals."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import ks_2samp
from sklearn import metrics as skm

from fate_nb.components import get_component, module_roles
from fate_nb.components.base import TaskContext
from fate_nb.components.evaluation import EvaluateParam, Evaluation
from fate_nb.flow import tracking
from fate_nb.flow.errors import DataError, ParameterError
from fate_nb.flow.store import DataTable, Task, session

if TYPE_CHECKING:
    from conftest import Flow

MODEL = "hetero_lr_0"
BINARY_TYPES = {
    MODEL: "EVALUATION_SUMMARY",
    f"{MODEL}_ks_fpr": "KS_EVALUATION",
    f"{MODEL}_ks_tpr": "KS_EVALUATION",
    f"{MODEL}_roc": "ROC_EVALUATION",
    f"{MODEL}_lift": "LIFT_EVALUATION",
    f"{MODEL}_gain": "GAIN_EVALUATION",
    f"{MODEL}_accuracy": "ACCURACY_EVALUATION",
    f"{MODEL}_precision": "PRECISION_BINARY_EVALUATION",
    f"{MODEL}_recall": "RECALL_BINARY_EVALUATION",
    f"{MODEL}_confusion_mat": "CONFUSION_MAT",
    f"{MODEL}_f1_score": "F1_SCORE",
}
REGRESSION = {
    "explained_variance": skm.explained_variance_score,
    "mean_absolute_error": skm.mean_absolute_error,
    "mean_squared_error": skm.mean_squared_error,
    "median_absolute_error": skm.median_absolute_error,
    "r2_score": skm.r2_score,
    "root_mean_squared_error": lambda y, p: float(np.sqrt(np.mean((y - p) ** 2))),
}


@dataclass
class Evaluated:
    """One Evaluation task: its context, its summary and every metric it logged."""

    ctx: TaskContext
    summary: dict[str, Any]
    metrics: dict[str, dict[str, dict[str, Any]]]

    def data(self, namespace: str, name: str) -> list[list[Any]]:
        return self.metrics[namespace][name]["data"]

    def meta(self, namespace: str, name: str) -> dict[str, Any]:
        return self.metrics[namespace][name]["meta"]

    def values(self, namespace: str, name: str) -> dict[str, float]:
        return dict(self.data(namespace, name))


def save_predictions(flow: Flow, job_id: str, component: str, frame: pd.DataFrame) -> DataTable:
    """``frame`` stored as the data output of a fake model task ``component`` of the job."""
    task = Task(
        job_id=job_id,
        task_id=f"{job_id}_{component}",
        role="guest",
        party_id="9999",
        component_name=component,
        module_name="HeteroLR",
    )
    with session(flow.engine) as db:
        db.add(task)
        db.commit()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = {"header": list(frame.columns[1:]), "sid": "id"}
    return tracking.save_output_data(flow.config, flow.engine, task, "data", table, schema)


def evaluate(
    flow: Flow, inputs: dict[str, pd.DataFrame] | list[DataTable], **conf: Any
) -> Evaluated:
    """Run Evaluation on predictions saved as the outputs of the named model components."""
    ctx = flow.context("Evaluation", conf)
    if isinstance(inputs, dict):
        job_id = ctx.task.job_id
        inputs = [save_predictions(flow, job_id, name, frame) for name, frame in inputs.items()]
    ctx.data_inputs = {"data": inputs}
    summary = Evaluation().run(ctx)
    json.dumps(summary)
    task = ctx.task
    found = tracking.metrics(ctx.engine, task.job_id, task.component_name, "guest", "9999")
    return Evaluated(ctx, summary, found)


def binary_frame(labels: np.ndarray, scores: np.ndarray, data_type: str) -> pd.DataFrame:
    """A binary model's prediction output: result 1 above 0.5, detail as JSON."""
    return pd.DataFrame(
        {
            "id": [f"{data_type}_{i}" for i in range(len(labels))],
            "label": labels.astype("int64"),
            "predict_result": (scores > 0.5).astype("int64"),
            "predict_score": scores,
            "predict_detail": [json.dumps({"0": round(1 - s, 6), "1": s}) for s in scores],
            "type": data_type,
        }
    )


def binary_data(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels (True for 1) and scores with two decimals, so at most 99 distinct, 0.5 among them."""
    rng = np.random.default_rng(seed)
    labels = rng.random(count) < 0.4
    scores = np.clip(
        np.round(0.5 + 0.25 * (labels - 0.4) + rng.normal(0, 0.2, count), 2), 0.01, 0.99
    )
    scores[0] = 0.5
    return labels, scores


@pytest.fixture
def train() -> tuple[np.ndarray, np.ndarray]:
    return binary_data(1, 400)


@pytest.fixture
def binary(flow: Flow, train: tuple[np.ndarray, np.ndarray]) -> Evaluated:
    validate = binary_data(2, 150)
    frame = pd.concat([binary_frame(*train, "train"), binary_frame(*validate, "validate")])
    return evaluate(flow, {MODEL: frame})


def ks(positives: np.ndarray, negatives: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov statistic of the two classes' scores."""
    return float(ks_2samp(positives, negatives, method="asymp").statistic)


def close(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=0, atol=1e-6)


# Registry and parameters


def test_registry_lists_evaluation_for_every_role_without_deploy() -> None:
    assert module_roles(dsl_only=True)["Evaluation"] == frozenset({"guest", "host", "arbiter"})
    assert get_component("Evaluation").param_class is EvaluateParam
    assert get_component("Evaluation").need_deploy is False


def test_defaults_are_fates() -> None:
    params, unknown = EvaluateParam.from_conf({}, "evaluation_0")
    assert unknown == []
    assert params.as_dict() == {
        "need_run": True,
        "eval_type": "binary",
        "pos_label": 1,
        "metrics": None,
        "unfold_multi_result": False,
    }


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"eval_type": "clustering"}, "does not evaluate"),
        ({"eval_type": "binray"}, "use one of ['binary', 'multi', 'regression']"),
        ({"metrics": ["auc", "aucc"]}, "has ['aucc'], which are not metric names"),
        ({"metrics": ["rmse"]}, "which are not binary metrics"),
        ({"eval_type": "multi", "metrics": ["auc"]}, "which are not multi metrics"),
        ({"metrics": ["psi", "auc"]}, "has ['psi'], which fate-nb does not compute"),
        ({"metrics": "auc"}, "use a list of metric names"),
    ],
)
def test_check_refuses(conf: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError, match="evaluation_0") as raised:
        EvaluateParam.from_conf(conf, "evaluation_0")
    assert message in raised.value.message


# Binary


def test_binary_logs_fates_metric_names_and_types_per_data_type(binary: Evaluated) -> None:
    assert sorted(binary.metrics) == ["train", "validate"]
    for namespace in ("train", "validate"):
        found = binary.metrics[namespace]
        assert {name: entry["meta"]["metric_type"] for name, entry in found.items()} == BINARY_TYPES
        assert all(entry["meta"]["name"] == name for name, entry in found.items())


def test_binary_summary_equals_sklearn_for_train_and_validate(binary: Evaluated) -> None:
    for namespace, seed, count in (("train", 1, 400), ("validate", 2, 150)):
        labels, scores = binary_data(seed, count)
        values = binary.values(namespace, MODEL)
        assert sorted(values) == ["auc", "ks"]
        close(values["auc"], skm.roc_auc_score(labels, scores))
        close(values["ks"], ks(scores[labels], scores[~labels]))
        assert binary.summary[MODEL][namespace] == values
    assert binary.meta("train", MODEL) == {"name": MODEL, "metric_type": "EVALUATION_SUMMARY"}
    assert list(binary.summary) == [MODEL]


def test_roc_points_lie_on_the_roc_curve_at_their_thresholds(binary: Evaluated, train: Any) -> None:
    labels, scores = train
    points, meta = binary.data("train", f"{MODEL}_roc"), binary.meta("train", f"{MODEL}_roc")
    assert {key: meta[key] for key in ("unit_name", "ordinate_name", "curve_name")} == {
        "unit_name": "fpr",
        "ordinate_name": "tpr",
        "curve_name": MODEL,
    }
    assert len(points) == len(meta["thresholds"]) <= 101
    assert (points[0], points[-1]) == ([0.0, 0.0], [1.0, 1.0])
    assert meta["thresholds"][0] == 1.99
    for (fpr, tpr), threshold in zip(points[1:], meta["thresholds"][1:], strict=True):
        close(fpr, np.mean(scores[~labels] >= threshold))
        close(tpr, np.mean(scores[labels] >= threshold))


def test_ks_curves_cut_the_ranked_scores_into_100(binary: Evaluated, train: Any) -> None:
    labels, scores = train
    fpr, tpr = (binary.data("train", f"{MODEL}_ks_{rate}") for rate in ("fpr", "tpr"))
    meta = binary.meta("train", f"{MODEL}_ks_fpr")
    assert meta["curve_name"] == f"{MODEL}_fpr" and meta["pair_type"] == MODEL
    assert binary.meta("train", f"{MODEL}_ks_tpr")["curve_name"] == f"{MODEL}_tpr"
    cuts = [i / 100 for i in range(100)] + [1.0]
    assert [key for key, _ in fpr] == cuts == [key for key, _ in tpr]

    ordered = np.sort(scores)[::-1]
    close(meta["thresholds"][:100], [ordered[400 * i // 100] for i in range(100)])
    for threshold, (_, fp_rate), (_, tp_rate) in zip(meta["thresholds"], fpr, tpr, strict=True):
        close(fp_rate, np.mean(scores[~labels] > threshold))
        close(tp_rate, np.mean(scores[labels] > threshold))
    peak = max(t - f for (_, f), (_, t) in zip(fpr, tpr, strict=True))
    assert peak <= binary.values("train", MODEL)["ks"] + 1e-6


def test_accuracy_precision_recall_equal_sklearn_at_each_threshold(
    binary: Evaluated, train: Any
) -> None:
    labels, scores = train
    thresholds = binary.meta("train", f"{MODEL}_accuracy")["thresholds"]
    assert len(thresholds) == 101 and thresholds[-1] < scores.min()
    # With 99 distinct scores or fewer, every one of them is a threshold.
    assert set(np.unique(scores)) <= set(thresholds)
    expected = {
        "accuracy": skm.accuracy_score,
        "precision": lambda y, p: skm.precision_score(y, p, zero_division=1.0),
        "recall": skm.recall_score,
    }
    for metric, score in expected.items():
        points = binary.data("train", f"{MODEL}_{metric}")
        assert [key for key, _ in points] == [i / 100 for i in range(100)] + [1.0]
        close([value for _, value in points], [score(labels, scores > t) for t in thresholds])

    accuracy = binary.data("train", f"{MODEL}_accuracy")
    at_half = accuracy[thresholds.index(0.5)][1]
    predicted = binary_frame(labels, scores, "train")["predict_result"]
    close(at_half, skm.accuracy_score(labels, predicted))
    precision_meta = binary.meta("train", f"{MODEL}_precision")
    assert precision_meta["ordinate_name"] == "Precision" and precision_meta["pair_type"] == MODEL
    assert binary.meta("train", f"{MODEL}_recall")["ordinate_name"] == "Recall"


def test_lift_and_gain_are_keyed_by_the_share_counted_positive(
    binary: Evaluated, train: Any
) -> None:
    labels, scores = train
    for metric in ("lift", "gain"):
        points = binary.data("train", f"{MODEL}_{metric}")
        thresholds = binary.meta("train", f"{MODEL}_{metric}")["thresholds"]
        shares = [share for share, _ in points]
        assert shares == sorted(set(shares)) and points[-1] == [1.0, 1.0]
        for (share, value), threshold in zip(points, thresholds, strict=True):
            flagged = scores > threshold
            close(share, flagged.mean())
            if metric == "gain":
                close(value, skm.recall_score(labels, flagged))
            elif flagged.any():
                close(value, skm.precision_score(labels, flagged) / labels.mean())


def test_confusion_matrix_and_f1_tables_equal_sklearn(binary: Evaluated, train: Any) -> None:
    labels, scores = train
    table = binary.meta("train", f"{MODEL}_confusion_mat")
    assert binary.data("train", f"{MODEL}_confusion_mat") == []
    for index, threshold in enumerate(table["thresholds"]):
        tn, fp, fn, tp = skm.confusion_matrix(labels, scores > threshold).ravel()
        assert [table[key][index] for key in ("tn", "fp", "fn", "tp")] == [tn, fp, fn, tp]
    f1 = binary.meta("train", f"{MODEL}_f1_score")
    expected = [skm.f1_score(labels, scores > t, zero_division=0.0) for t in f1["thresholds"]]
    close(f1["f1_scores"], expected)


def test_metrics_choose_what_is_logged(flow: Flow, train: Any) -> None:
    only_auc = evaluate(flow, {MODEL: binary_frame(*train, "train")}, metrics=["AUC"])
    assert list(only_auc.metrics["train"]) == [MODEL]
    assert list(only_auc.values("train", MODEL)) == ["auc"]

    pair = evaluate(flow, {"hetero_lr_1": binary_frame(*train, "train")}, metrics=["precision"])
    assert sorted(pair.metrics["train"]) == ["hetero_lr_1_precision", "hetero_lr_1_recall"]
    assert pair.summary == {}


def test_pos_label_picks_the_positive_class(flow: Flow, train: Any) -> None:
    labels, scores = train
    frame = binary_frame(labels, scores, "train").assign(label=np.where(labels, 2, 1))
    found = evaluate(flow, {MODEL: frame}, pos_label=2, metrics=["auc"])
    close(found.values("train", MODEL)["auc"], skm.roc_auc_score(labels, scores))

    flipped = evaluate(flow, {"hetero_lr_1": frame}, pos_label=1, metrics=["auc"])
    close(flipped.values("train", "hetero_lr_1")["auc"], skm.roc_auc_score(~labels, scores))


def test_each_input_is_named_by_its_model(flow: Flow, train: Any) -> None:
    frame = binary_frame(*train, "train")
    found = evaluate(flow, {MODEL: frame, "hetero_secureboost_0": frame}, metrics=["auc", "ks"])
    assert sorted(found.summary) == [MODEL, "hetero_secureboost_0"]
    assert found.summary[MODEL] == found.summary["hetero_secureboost_0"]
    assert {MODEL, "hetero_secureboost_0"} <= set(found.metrics["train"])


def test_a_passed_through_table_keeps_its_writers_name(flow: Flow, train: Any) -> None:
    ctx = flow.context("Evaluation")
    table = save_predictions(flow, ctx.task.job_id, MODEL, binary_frame(*train, "train"))
    passer = Task(
        job_id=ctx.task.job_id,
        task_id=f"{ctx.task.job_id}_pass_0",
        role="guest",
        party_id="9999",
        component_name="pass_0",
    )
    tracking.record_output_data(flow.engine, passer, "data", table)

    assert tracking.component_of_table(flow.engine, ctx.task, table) == MODEL
    found = evaluate(flow, [table], metrics=["auc"])
    assert list(found.summary) == [MODEL]


def test_an_uploaded_prediction_table_goes_by_its_table_name(flow: Flow) -> None:
    line = '{i},{y},{y},{s},"{{""1"": {s}}}",train'
    rows = [line.format(i=i, y=int(i >= 3), s=round(0.2 + 0.1 * i, 1)) for i in range(6)]
    header = "id,label,predict_result,predict_score,predict_detail,type"
    table = flow.upload("\n".join([header, *rows]) + "\n", "uploaded_predictions")
    found = evaluate(flow, [table], metrics=["auc"])
    assert found.summary == {"uploaded_predictions": {"train": {"auc": 1.0}}}


def test_no_data_output_is_kept(binary: Evaluated) -> None:
    task = binary.ctx.task
    stored = tracking.output_tables(
        binary.ctx.engine, task.job_id, task.component_name, "guest", "9999"
    )
    assert stored == {}


# Regression and multi-class


def test_regression_errors_equal_sklearn(flow: Flow) -> None:
    rng = np.random.default_rng(3)
    labels = rng.normal(10, 3, 200)
    predictions = labels + rng.normal(0, 1, 200)
    types = np.where(np.arange(200) < 150, "train", "validate")
    frame = pd.DataFrame(
        {
            "id": [str(i) for i in range(200)],
            "label": labels,
            "predict_result": predictions,
            "predict_score": predictions,
            "predict_detail": [json.dumps({"label": p}) for p in predictions],
            "type": types,
        }
    )
    found = evaluate(flow, {"hetero_linr_0": frame}, eval_type="regression")
    for namespace in ("train", "validate"):
        assert list(found.metrics[namespace]) == ["hetero_linr_0"]
        values = found.values(namespace, "hetero_linr_0")
        assert list(values) == list(REGRESSION)
        rows = types == namespace
        for metric, score in REGRESSION.items():
            close(values[metric], score(labels[rows], predictions[rows]))
        assert found.summary["hetero_linr_0"][namespace] == values


def test_regression_aliases_and_undefined_values(flow: Flow) -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "label": [1.0, 2.0, 4.0],
            "predict_result": [1.5, 2.0, 3.0],
            "predict_score": [1.5, 2.0, 3.0],
            "predict_detail": ["{}"] * 3,
            "type": ["train", "train", "validate"],
        }
    )
    found = evaluate(
        flow, {"hetero_linr_0": frame}, eval_type="regression", metrics=["rmse", "l1", "r2"]
    )
    assert found.values("train", "hetero_linr_0") == {
        "mean_absolute_error": 0.25,
        "r2_score": 0.5,
        "root_mean_squared_error": round(np.sqrt(0.125), 6),
    }
    # One validate row: R2 is undefined there and left out.
    assert found.values("validate", "hetero_linr_0") == {
        "mean_absolute_error": 1.0,
        "root_mean_squared_error": 1.0,
    }


def multi_frame(seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """A 3-class prediction output, its labels, predicted classes and class probabilities."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, 300)
    probabilities = rng.dirichlet(np.ones(3), 300) + np.eye(3)[labels] * 0.4
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    predicted = probabilities.argmax(axis=1)
    frame = pd.DataFrame(
        {
            "id": [str(i) for i in range(300)],
            "label": labels,
            "predict_result": predicted,
            "predict_score": probabilities.max(axis=1),
            "predict_detail": [json.dumps({str(c): p[c] for c in range(3)}) for p in probabilities],
            "type": "train",
        }
    )
    return frame, labels, predicted, probabilities


def test_multi_logs_accuracy_and_per_class_precision_and_recall(flow: Flow) -> None:
    frame, labels, predicted, _ = multi_frame(4)
    found = evaluate(flow, {"hetero_sbt_0": frame}, eval_type="multi")
    values = found.values("train", "hetero_sbt_0")
    close(values["accuracy"], skm.accuracy_score(labels, predicted))
    for metric, score in (("precision", skm.precision_score), ("recall", skm.recall_score)):
        close(values[metric], score(labels, predicted, average="macro"))
        points = found.data("train", f"hetero_sbt_0_{metric}")
        assert [key for key, _ in points] == [0, 1, 2]
        close([value for _, value in points], score(labels, predicted, average=None))
        meta = found.meta("train", f"hetero_sbt_0_{metric}")
        assert meta["metric_type"] == f"{metric.upper()}_MULTI_EVALUATION"
        assert meta["pair_type"] == "hetero_sbt_0"


def test_unfold_multi_result_gives_one_vs_rest_auc_and_ks(flow: Flow) -> None:
    frame, labels, _, probabilities = multi_frame(5)
    found = evaluate(flow, {"hetero_sbt_0": frame}, eval_type="multi", unfold_multi_result=True)
    for c in range(3):
        name = f"hetero_sbt_0_class_{c}"
        values = found.values("train", name)
        close(values["auc"], skm.roc_auc_score(labels == c, probabilities[:, c]))
        positives, negatives = probabilities[labels == c, c], probabilities[labels != c, c]
        close(values["ks"], ks(positives, negatives))
        assert found.summary[name]["train"] == values
        assert found.meta("train", f"{name}_ks_fpr")["metric_type"] == "KS_EVALUATION"


# Refusals


def test_a_table_without_prediction_columns_is_refused(flow: Flow, guest_table: DataTable) -> None:
    with pytest.raises(DataError, match="must be a model's prediction output") as raised:
        evaluate(flow, [guest_table])
    assert (
        "['label', 'predict_result', 'predict_score', 'predict_detail', 'type']"
        in raised.value.message
    )


def test_an_empty_table_is_refused(flow: Flow, train: Any) -> None:
    empty = binary_frame(*train, "train").iloc[:0]
    with pytest.raises(DataError, match=f"the input from {MODEL} has no rows"):
        evaluate(flow, {MODEL: empty})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": 0}, "none of the 400 rows have the positive label"),
        ({"label": None}, "400 rows from hetero_lr_0 have no label"),
        ({"type": None}, "have no type"),
        ({"predict_score": "high"}, "have predict_score values that are not numbers"),
    ],
)
def test_unusable_rows_are_refused(
    flow: Flow, train: Any, change: dict[str, Any], message: str
) -> None:
    frame = binary_frame(*train, "train").assign(**change)
    with pytest.raises(DataError, match="evaluation_") as raised:
        evaluate(flow, {MODEL: frame})
    assert message in raised.value.message


def test_a_broken_predict_detail_is_refused_when_unfolding(flow: Flow) -> None:
    frame = multi_frame(6)[0].assign(predict_detail="0.3")
    with pytest.raises(DataError, match="not a JSON object of class scores"):
        evaluate(flow, {"hetero_sbt_0": frame}, eval_type="multi", unfold_multi_result=True)


def test_the_same_model_twice_is_refused(flow: Flow, train: Any) -> None:
    ctx = flow.context("Evaluation")
    table = save_predictions(flow, ctx.task.job_id, MODEL, binary_frame(*train, "train"))
    with pytest.raises(ParameterError, match=r"predictions of \['hetero_lr_0'\] more than once"):
        evaluate(flow, [table, table])


def test_a_party_without_predictions_logs_nothing(flow: Flow) -> None:
    found = evaluate(flow, [])
    assert found.summary == {} and found.metrics == {}
