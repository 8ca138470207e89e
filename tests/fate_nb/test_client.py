"""FlowClient against a real fate-nb server: every call, the frames' columns and dtypes, errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from fate_nb import examples
from fate_nb._frames import TEXT_DTYPE
from fate_nb.client import FlowClient
from fate_nb.exceptions import FateFlowError, JobFailed, JobTimeout, ServerError
from fate_nb.launch import ServerProcess

GUEST = examples.GUEST


def test_a_fate_error_carries_retcode_and_retmsg(session_client: FlowClient) -> None:
    """An unknown job is one FateFlowError naming the endpoint, with FATE's retcode."""
    with pytest.raises(FateFlowError) as raised:
        session_client.query_job("20991231000000000000000")

    assert raised.value.retcode == 101
    assert "20991231000000000000000" in raised.value.retmsg
    assert raised.value.endpoint == "job/query"
    assert "job/query" in str(raised.value)


def test_a_wrong_token_is_a_fate_error_and_a_wrong_port_a_server_error(
    live_server: ServerProcess,
) -> None:
    """The server's 403 comes back in FATE's envelope; nobody listening is a ServerError."""
    wrong_token = FlowClient(live_server.base_url, "not-the-token")
    with wrong_token, pytest.raises(FateFlowError, match="token"):
        wrong_token.list_jobs()

    nobody = FlowClient("http://127.0.0.1:9/", "x", timeout=5)
    with nobody, pytest.raises(ServerError, match="cannot reach"):
        nobody.list_jobs()


def test_uploads_from_a_path_a_dataframe_and_the_server(
    session_client: FlowClient, breast_tables: dict[str, Any], live_root: Path
) -> None:
    """Each form of upload stores every row; the history is a typed frame, newest first."""
    assert breast_tables["breast_hetero_guest"]["count"] == 569

    frame = pd.read_csv(live_root / "breast_hetero_guest.csv").head(50)
    from_frame = session_client.upload(frame, namespace="client", table_name="from_frame")
    on_server = session_client.upload(
        "breast_hetero_host.csv", namespace="client", table_name="on_server", on_server=True
    )
    assert from_frame["count"] == 50
    assert on_server["count"] == 569

    history = session_client.upload_history(limit=3)
    assert list(history["table_name"][:2]) == ["on_server", "from_frame"]
    assert history["count"].dtype == "Int64"
    assert pd.api.types.is_string_dtype(history["job_id"])
    assert history.loc[1, "header"] == list(frame.columns[1:])


def test_a_dataframe_with_a_named_index_uploads_its_ids(session_client: FlowClient) -> None:
    """set_index("id") keeps the ids as the id column; an unnamed RangeIndex is left out."""
    frame = pd.DataFrame({"id": ["p1", "p2", "p3"], "x": [0.5, 1.5, 2.5], "y": [1, 0, 1]})
    session_client.upload(frame.set_index("id"), namespace="client", table_name="indexed")
    session_client.upload(frame, namespace="client", table_name="ranged")

    for table in ("indexed", "ranged"):
        stored = session_client.table_preview("client", table).sort_values("id")
        assert list(stored.columns) == ["id", "x", "y"]
        assert list(stored["id"]) == ["p1", "p2", "p3"]
        assert list(stored["x"]) == [0.5, 1.5, 2.5]


def test_an_upload_reports_rows_stored_read_and_rejected(session_client: FlowClient) -> None:
    """A duplicate id is left out: upload and its history count the rows stored, and say why."""
    frame = pd.DataFrame({"id": ["a", "b", "b", "c"], "x": [1.0, 2.0, 3.0, 4.0]})
    uploaded = session_client.upload(frame, namespace="client", table_name="duplicates")
    assert uploaded["count"] == 3
    assert uploaded["upload_count"] == 4 and uploaded["rejected_count"] == 1
    assert list(uploaded["rejected"].values()) == [1]
    assert "3 of 4 rows stored" in uploaded["message"] and "'b'" in uploaded["message"]

    history = session_client.upload_history(job_id=uploaded["job_id"])
    assert (
        history.loc[0, "count"] == 3 == session_client.table_info("client", "duplicates")["count"]
    )
    assert history.loc[0, "upload_count"] == 4 and history.loc[0, "rejected_count"] == 1
    assert "duplicate id" in history.loc[0, "message"]

    clean = session_client.upload(frame.head(2), namespace="client", table_name="no_duplicates")
    assert clean["count"] == clean["upload_count"] == 2 and clean["rejected_count"] == 0
    assert "rejected" not in clean


def test_a_refused_upload_keeps_the_table(session_client: FlowClient) -> None:
    """Uploading over a table without drop is refused and the table is unchanged."""
    frame = pd.DataFrame({"id": ["a", "b"], "x": [1.0, 2.0]})
    session_client.upload(frame, namespace="client", table_name="twice")

    with pytest.raises(FateFlowError, match="drop"):
        session_client.upload(frame.head(1), namespace="client", table_name="twice")
    assert session_client.table_info("client", "twice")["count"] == 2

    replaced = session_client.upload(
        frame.head(1), namespace="client", table_name="twice", drop=True
    )
    assert replaced["count"] == 1


def test_table_info_preview_download_and_delete(
    session_client: FlowClient, breast_tables: dict[str, Any], live_root: Path
) -> None:
    """A table's schema, its first rows typed, a server-side CSV, then deletion."""
    info = session_client.table_info("experiment", "breast_hetero_guest")
    assert info["count"] == 569 and info["schema"]["header"].split(",")[:2] == ["y", "x0"]

    preview = session_client.table_preview("experiment", "breast_hetero_guest", limit=5)
    original = pd.read_csv(live_root / "breast_hetero_guest.csv", dtype={"id": str})
    assert list(preview.columns) == list(original.columns)
    assert preview.attrs["total"] == 569
    assert pd.api.types.is_string_dtype(preview["id"])
    assert preview["x0"].dtype == "float64" and preview["y"].dtype == "int64"
    stored = preview.sort_values("id").reset_index(drop=True)
    expected = original[original["id"].isin(preview["id"])].sort_values("id")
    pd.testing.assert_frame_equal(stored, expected.reset_index(drop=True), check_dtype=False)

    written = session_client.download("experiment", "breast_hetero_guest", "out/guest.csv")
    session_client.wait_success(written["job_id"], timeout=120)
    assert len((live_root / "out" / "guest.csv").read_text().splitlines()) == 569

    session_client.upload(original.head(3), namespace="client", table_name="doomed")
    session_client.table_delete("client", "doomed")
    assert session_client.table_info("client", "doomed")["count"] == 0
    with pytest.raises(FateFlowError, match="does not exist"):
        session_client.table_preview("client", "doomed")


def test_job_and_task_frames_are_typed(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """Job and task rows lose their f_ prefix; times are datetimes, JSON columns objects."""
    job_id = hetero_lr_job["job_id"]
    jobs = session_client.query_job(job_id)
    assert list(jobs.columns[:4]) == ["job_id", "role", "party_id", "status"]
    assert set(jobs["role"]) == {"guest", "host", "arbiter"}
    assert set(jobs["status"]) == {"success"}
    assert isinstance(jobs["create_time"].dtype, pd.DatetimeTZDtype)
    assert pd.api.types.is_timedelta64_dtype(jobs["elapsed"])
    assert jobs["progress"].dtype == "Int64" and set(jobs["progress"]) == {100}
    assert jobs["is_initiator"].dtype == bool
    guest = jobs[jobs["role"] == "guest"].iloc[0]
    assert guest["roles"]["guest"] == [GUEST]
    assert set(guest["dsl"]["components"]) == set(examples.HETERO_LR_DSL["components"])

    tasks = session_client.query_task(job_id, role="guest")
    assert sorted(tasks["component_name"]) == sorted(examples.HETERO_LR_DSL["components"])
    assert tasks["run_pid"].dtype == "Int64"
    assert (tasks["end_time"] >= tasks["start_time"]).all()

    listed = session_client.list_jobs(limit=50)
    assert job_id in set(listed["job_id"]) and listed["is_initiator"].all()
    assert listed["create_time"].is_monotonic_decreasing


def test_text_columns_are_one_dtype_and_empty_frames_keep_their_columns(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """Every text column of every frame has pandas' text dtype; no tasks for a party: empty."""
    job_id = hetero_lr_job["job_id"]
    tasks = session_client.query_task(job_id, role="guest")
    frames = {
        "jobs": session_client.query_job(job_id).drop(columns=["roles", "dsl", "runtime_conf"]),
        "tasks": tasks,
        "history": session_client.upload_history(limit=2)[["job_id", "notes", "message"]],
        "metrics": session_client.metric_all(job_id, "evaluation_0").drop(columns=["key", "meta"]),
        "preview": session_client.table_preview("experiment", "breast_hetero_guest", limit=3),
        "versions": session_client.model_version(
            f"guest#{GUEST}#{hetero_lr_job['model_info']['model_id']}"
        ),
    }
    for name, frame in frames.items():
        texts = [column for column in frame if pd.api.types.is_string_dtype(frame[column])]
        assert texts, name
        dtypes = {column: str(frame[column].dtype) for column in texts}
        assert set(dtypes.values()) == {str(TEXT_DTYPE)}, (name, dtypes)
    assert tasks["error"].dtype == TEXT_DTYPE and tasks["operator"].dtype == TEXT_DTYPE

    nobody = session_client.query_task(job_id, party_id=424242)
    assert nobody.empty and list(nobody.columns) == list(tasks.columns)
    assert dict(nobody.dtypes) == dict(tasks.dtypes)
    with pytest.raises(FateFlowError, match="20991231000000000000000"):
        session_client.query_task("20991231000000000000000")


def test_config_dag_notes_and_logs(
    session_client: FlowClient, hetero_lr_job: dict[str, Any], tmp_path: Path
) -> None:
    """The config, the initiator's DAG, notes in the job row, and the logs on disk."""
    job_id = hetero_lr_job["job_id"]
    config = session_client.job_config(job_id)
    assert config["model_info"] == hetero_lr_job["model_info"]

    dag = session_client.dag_dependency(job_id)
    assert dag["component_list"] == list(examples.HETERO_LR_DSL["components"])
    assert dag["dependencies"]["evaluation_0"][0]["component_name"] == "hetero_lr_0"

    session_client.update_job_notes(job_id, "guest", GUEST, "first try")
    assert session_client.query_job(job_id, role="guest")["description"][0] == "first try"

    folder = session_client.job_log(job_id, tmp_path)
    assert (folder / "guest" / str(GUEST) / "hetero_lr_0" / "std.log").is_file()
    tail = session_client.task_log(job_id, "hetero_lr_0", "arbiter", examples.ARBITER, lines=3)
    assert 0 < len(tail.splitlines()) <= 3


def test_submit_forms_wait_and_stop(
    session_client: FlowClient, breast_tables: dict[str, Any], tmp_path: Path
) -> None:
    """Dicts, JSON text, YAML files; wait's timeout; stop ends a running job canceled."""
    job = examples.scale_job()
    dsl_file = tmp_path / "dsl.yaml"
    dsl_file.write_text(yaml.safe_dump(job["job_dsl"]))
    submitted = session_client.submit(dsl_file, json.dumps(job["job_runtime_conf"]), wait=True)
    assert submitted["status"] == "success"
    assert submitted["model_info"]["model_version"] == submitted["job_id"]

    slow = examples.hetero_lr_job()
    slow["job_runtime_conf"]["algorithm_parameters"]["hetero_lr_0"]["max_iter"] = 500
    slow["job_runtime_conf"]["algorithm_parameters"]["hetero_lr_0"]["tol"] = 0
    running = session_client.submit(slow)
    with pytest.raises(JobTimeout) as timed_out:
        session_client.wait(running["job_id"], timeout=0.5, interval=0.1)
    assert timed_out.value.status in {"waiting", "running"}

    session_client.stop_job(running["job_id"])
    assert session_client.wait(running["job_id"], timeout=120) == "canceled"
    with pytest.raises(JobFailed, match="canceled"):
        session_client.wait_success(running["job_id"])


def test_check_job_answers_the_dag_or_the_server_message(session_client: FlowClient) -> None:
    """A dry run: the DAG of a valid job, submit's own message for an invalid one."""
    job = examples.hetero_lr_job()
    dag = session_client.check_job(job["job_dsl"], job["job_runtime_conf"])
    assert dag["component_list"][0] == "dataio_0"

    broken = copy.deepcopy(job["job_dsl"])
    broken["components"]["dataio_0"]["module"] = "NoSuchModule"
    with pytest.raises(FateFlowError, match="NoSuchModule"):
        session_client.check_job(broken, job["job_runtime_conf"])
    with pytest.raises(ValueError, match="neither JSON nor YAML"):
        session_client.check_job("{components: [", job["job_runtime_conf"])


def test_tracking_calls(session_client: FlowClient, hetero_lr_job: dict[str, Any]) -> None:
    """Metrics as a long frame, a curve, parameters, the model, every output row, summary."""
    job_id = hetero_lr_job["job_id"]
    names = session_client.metrics(job_id, "evaluation_0")
    assert "train" in names

    metrics = session_client.metric_all(job_id, "evaluation_0")
    assert list(metrics.columns) == ["namespace", "name", "key", "value", "metric_type", "meta"]
    auc = metrics[(metrics["name"] == "hetero_lr_0") & (metrics["key"] == "auc")]["value"]
    assert auc.iloc[0] > 0.98
    assert set(metrics["name"]) == {name for found in names.values() for name in found}
    assert metrics["value"].dtype == "float64"

    loss = session_client.metric_data(job_id, "hetero_lr_0", "train", "loss", role="arbiter")
    assert list(loss.columns) == ["key", "value"] and loss["value"].dtype == "float64"
    assert loss["key"].is_monotonic_increasing and len(loss) > 1
    assert loss.attrs["meta"]["metric_type"] == "LOSS"

    parameters = session_client.parameters(job_id, "hetero_lr_0")
    assert parameters["module"] == "HeteroLR"
    assert parameters["HeteroLogisticParam"]["max_iter"] == 30

    model = session_client.output_model(job_id, "hetero_lr_0")
    assert set(model["data"]["weight"]) == {f"x{i}" for i in range(10)}
    assert model["meta"]["module_name"] == "HeteroLR"

    output = session_client.output_data(job_id, "hetero_lr_0")
    assert len(output) == 569
    assert pd.api.types.is_string_dtype(output["id"])
    assert output["predict_score"].dtype == "float64"
    assert output["label"].dtype == "int64"
    assert set(output["predict_detail"][0]) == {"0", "1"}

    tables = session_client.output_data_table(job_id, "hetero_lr_0")
    assert tables[0]["table_name"]
    assert session_client.data_view(job_id, role="host")["roles"] == {"host": [examples.HOST]}
    assert session_client.summary(job_id, "intersection_0")


def test_models_load_bind_and_serve(
    session_client: FlowClient, hetero_lr_job: dict[str, Any], live_root: Path
) -> None:
    """Versions, load, bind, transfer, deploy, the predict DSL, and scoring rows."""
    model_info = hetero_lr_job["model_info"]
    party_model_id = f"guest#{GUEST}#{model_info['model_id']}"
    versions = session_client.model_version(party_model_id)
    assert model_info["model_version"] in set(versions["name"])

    conf = {
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": examples.ROLES,
        "job_parameters": dict(model_info),
    }
    session_client.load_model(conf)
    bound = session_client.bind_model(conf, service_id="client-test")
    assert bound["service_id"] == "client-test"
    assert bound["model_id"] == model_info["model_id"]
    assert bound["model_version"] == model_info["model_version"]
    assert "client-test" in bound["retmsg"]

    buffers = session_client.transfer_model(party_model_id, model_info["model_version"])
    assert any(key.startswith("hetero_lr_0.") for key in buffers)
    assert all(isinstance(value, bytes) for value in buffers.values())

    deployed = session_client.deploy_model(
        model_info["model_id"], model_info["model_version"], ["dataio_0", "hetero_lr_0"]
    )
    dsl = session_client.predict_dsl(deployed["model_id"], deployed["model_version"])
    assert set(dsl["components"]) >= {"dataio_0", "hetero_lr_0"}

    rows = pd.read_csv(live_root / "breast_hetero_guest.csv", dtype={"id": str}).head(4)
    scores = session_client.predict("client-test", rows.drop(columns="y"))
    assert list(scores["id"]) == list(rows["id"])
    assert scores["predict_score"].between(0, 1).all()
    with pytest.raises(FateFlowError, match="no-such-service"):
        session_client.predict("no-such-service", {"id": "1", "x0": 0.1})
