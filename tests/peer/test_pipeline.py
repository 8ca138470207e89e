"""fate-client's pipeline SDK (1.5.3 and 1.11.3) against fate-nb: FATE's hetero-LR tutorial.

The tutorial runs once per version (drivers/pipeline_hetero_lr.py, in the peer's environment):
the pipeline's own upload, Reader, DataIO/DataTransform, Intersection, HeteroLR, Evaluation,
``compile()``, ``fit()``, the TaskInfo getters, ``deploy_component``, a predict pipeline's
``predict()`` and 1.11's ``online.load()``/``online.bind()``. Each test checks the value one
step returned to the script.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest
from conftest import MAX_ITER
from peer_client import Peer

from fate_nb import datasets
from fate_nb.launch import ServerProcess

DRIVER = Path(__file__).resolve().parent / "drivers" / "pipeline_hetero_lr.py"
TUTORIAL_TIMEOUT_S = 900.0
ROWS = 569
GUEST_FEATURES = [f"x{i}" for i in range(10)]
PREDICT_HEADER = ["id", "label", "predict_result", "predict_score", "predict_detail", "type"]
MODEL_ID = "arbiter-10000#guest-9999#host-10000#model"

RUN_TUTORIAL = """
import runpy
result = runpy.run_path(driver)["main"](config)
"""


@pytest.fixture(scope="session")
def tutorial(peer: Peer) -> dict[str, Any]:
    """Every step of the tutorial for this version: ``{step: {"ok", "value" | "error"}}``."""
    suffix = peer.version.replace(".", "_")
    config = {
        "version": peer.version,
        "base_url": peer.base_url,
        "token": peer.token,
        "namespace": f"pipeline_{suffix}",
        "tables": {role: f"breast_hetero_{role}_pipeline" for role in ("guest", "host")},
        "files": {role: str(datasets.path(f"breast_hetero_{role}")) for role in ("guest", "host")},
        "log_directory": str(peer.workdir / "pipeline_logs"),
        "service_id": f"pipeline-{suffix}",
        "max_iter": MAX_ITER,
    }
    result = peer.run(RUN_TUTORIAL, TUTORIAL_TIMEOUT_S, driver=str(DRIVER), config=config)
    assert result["version"] == peer.version
    return {"config": config, "transform": result["transform"], **result["steps"]}


def value(tutorial: dict[str, Any], step: str) -> Any:
    """The step's return value; the test fails with the client's error if it raised."""
    result = tutorial[step]
    assert result["ok"], f"{step}: {result['error']}"
    return result["value"]


def prediction_rows(output: dict[str, Any]) -> list[dict[str, str]]:
    """get_output_data()'s lines (a header line, then rows) as dicts, checked against meta."""
    assert output["meta"] == PREDICT_HEADER
    lines = list(csv.reader(output["data"]))
    assert lines[0] == PREDICT_HEADER
    return [dict(zip(PREDICT_HEADER, line, strict=True)) for line in lines[1:]]


def test_upload_writes_both_tables(tutorial: dict[str, Any]) -> None:
    assert value(tutorial, "upload")  # the last upload's job id; upload() raises on failure
    for role, header in (
        ("guest", ["y", *GUEST_FEATURES]),
        ("host", [f"x{i}" for i in range(20)]),
    ):
        info = value(tutorial, f"table_info_{role}")
        assert info["retcode"] == 0, info
        assert info["data"]["count"] == ROWS
        assert info["data"]["table_name"] == tutorial["config"]["tables"][role]
        assert info["data"]["schema"] == {"header": ",".join(header), "sid": "id"}


def test_compile_builds_the_tutorial_dsl(tutorial: dict[str, Any]) -> None:
    components = value(tutorial, "compile")["components"]
    transform = tutorial["transform"]
    modules = {name: component["module"] for name, component in components.items()}
    assert modules == {
        "reader_0": "Reader",
        transform: "DataIO" if transform == "dataio_0" else "DataTransform",
        "intersection_0": "Intersection",
        "hetero_lr_0": "HeteroLR",
        "evaluation_0": "Evaluation",
    }


def test_fit_answers_the_job_and_its_model(tutorial: dict[str, Any]) -> None:
    fit = value(tutorial, "fit")
    assert fit["model_id"] == MODEL_ID
    assert fit["model_version"] == fit["job_id"]


def test_intersection_summary_counts_the_shared_ids(tutorial: dict[str, Any]) -> None:
    summary = value(tutorial, "summary_intersection")
    assert summary["intersect_num"] == ROWS
    assert summary["intersect_rate"] == 1.0


def test_hetero_lr_summaries_have_fates_keys_and_the_loss(tutorial: dict[str, Any]) -> None:
    guest = value(tutorial, "summary_hetero_lr")
    assert list(guest["coef"]) == GUEST_FEATURES
    assert guest["is_converged"] is False  # MAX_ITER iterations are too few
    assert guest["one_vs_rest"] is False and guest["best_iteration"] == -1
    assert guest["coef"] == value(tutorial, "model_param")["weight"]
    arbiter = value(tutorial, "summary_hetero_lr_arbiter")
    losses = arbiter["loss_history"]
    # Zero weights at the start: the first loss is exactly ln 2 (rmsprop then overshoots).
    assert len(losses) == MAX_ITER and all(loss > 0 for loss in losses)
    assert losses[0] == pytest.approx(math.log(2))


def test_evaluation_summary_has_auc_and_ks(tutorial: dict[str, Any]) -> None:
    summary = value(tutorial, "summary_evaluation")
    train = summary["hetero_lr_0"]["train"]
    assert 0.9 < train["auc"] <= 1.0
    assert 0.5 < train["ks"] <= 1.0


def test_model_param_has_the_guests_weights(tutorial: dict[str, Any]) -> None:
    param = value(tutorial, "model_param")
    assert param["header"] == GUEST_FEATURES
    assert list(param["weight"]) == GUEST_FEATURES
    assert all(isinstance(weight, float) for weight in param["weight"].values())
    assert isinstance(param["intercept"], float)
    assert param["iters"] == MAX_ITER and param["isConverged"] is False


def test_output_data_has_every_row_in_fates_predict_columns(tutorial: dict[str, Any]) -> None:
    rows = prediction_rows(value(tutorial, "output_data"))
    assert len(rows) == ROWS
    assert len({row["id"] for row in rows}) == ROWS
    for row in rows:
        score, detail = float(row["predict_score"]), json.loads(row["predict_detail"])
        assert row["label"] in {"0", "1"} and row["type"] == "train"
        assert row["predict_result"] == str(int(score > 0.5))
        assert detail == pytest.approx({"0": 1 - score, "1": score})
    correct = sum(row["label"] == row["predict_result"] for row in rows)
    assert correct / ROWS > 0.85


def test_output_data_limits_cuts_the_lines(tutorial: dict[str, Any]) -> None:
    limited = value(tutorial, "output_data_limited")
    header = ["id", "y", *GUEST_FEATURES]  # the guest's joined rows, label and features
    assert limited["meta"] == header
    assert len(limited["data"]) == 3 and limited["data"][0] == ",".join(header)


def test_to_pandas_reads_plain_tables(peer: Peer, tutorial: dict[str, Any]) -> None:
    if peer.is_15:
        pytest.skip("fate-client 1.5 has no to_pandas")
    frame = value(tutorial, "transform_data_pandas")
    assert frame["shape"] == [ROWS, 12]
    assert frame["columns"] == ["id", "y", *GUEST_FEATURES]


def test_to_pandas_cannot_read_predictions(peer: Peer, tutorial: dict[str, Any]) -> None:
    """A documented limitation: 1.11's parser expects predict_detail as a quoted Python dict.

    fate-nb writes predict_detail as JSON in a CSV-quoted field; the parser strips one
    character from each end and fails (TaskInfo then exits). to_pandas=False works.
    """
    if peer.is_15:
        pytest.skip("fate-client 1.5 has no to_pandas")
    assert tutorial["output_data_pandas"] == {"ok": False, "error": "SystemExit: 1"}


def test_output_data_table_names_the_stored_table(
    tutorial: dict[str, Any], peer_server: ServerProcess
) -> None:
    table = value(tutorial, "output_data_table")
    assert table["table_namespace"].startswith(f"output_data_{value(tutorial, 'fit')['job_id']}")
    with peer_server.client() as http:
        info = http.post(
            "v1/table/table_info",
            json={"namespace": table["table_namespace"], "table_name": table["table_name"]},
        ).json()
    assert info["data"]["count"] == ROWS


def test_deploy_component_answers_the_model_and_its_predict_dsl(
    tutorial: dict[str, Any],
) -> None:
    fit = value(tutorial, "fit")
    (deployed,) = value(tutorial, "deploy")
    assert deployed["model_id"] == fit["model_id"]
    assert deployed["model_version"] == fit["model_version"]
    components = value(tutorial, "predict_dsl")["components"]
    transform = tutorial["transform"]
    assert set(components) == {"reader_0", transform, "intersection_0", "hetero_lr_0"}
    assert components["hetero_lr_0"]["input"] == {
        "data": {"test_data": ["intersection_0.data"]},
        "model": ["pipeline.hetero_lr_0.model"],
    }


def test_predict_scores_every_row_with_the_trained_model(tutorial: dict[str, Any]) -> None:
    fit, predict = value(tutorial, "fit"), value(tutorial, "predict")
    assert predict["job_id"] != fit["job_id"]
    assert (predict["model_id"], predict["model_version"]) == (MODEL_ID, fit["model_version"])
    predicted = prediction_rows(value(tutorial, "predict_output_data"))
    trained = prediction_rows(value(tutorial, "output_data"))
    assert len(predicted) == ROWS and {row["type"] for row in predicted} == {"predict"}
    # The same rows and model: the same scores as the training output.
    scores = {row["id"]: float(row["predict_score"]) for row in trained}
    for row in predicted:
        assert float(row["predict_score"]) == pytest.approx(scores[row["id"]], rel=1e-9)


def test_online_load_and_bind(peer: Peer, tutorial: dict[str, Any]) -> None:
    if peer.is_15:
        pytest.skip("fate-client 1.5's pipeline has no online load or bind")
    (loaded,) = value(tutorial, "online_load")
    assert loaded["guest"] == {"9999": 0} and loaded["host"] == {"10000": 0}
    (bound,) = value(tutorial, "online_bind")
    assert bound == f"service id is {tutorial['config']['service_id']}"
