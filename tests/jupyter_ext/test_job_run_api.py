"""DSL v1 and v2 jobs on FATE's breast data, run to success on a real server and read back."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from flow_api import FlowApi
from job_confs import ARBITER, GUEST, HOST, ROLES, v1_job, v2_job
from sklearn.preprocessing import StandardScaler

from fate_nb.flow import storage, tables, tracking

MODEL_ID = f"arbiter-{ARBITER}#guest-{GUEST}#host-{HOST}#model"


def _scaled(
    jp_serverapp: Any, job_id: str, component: str, role: str, party_id: int, data_name: str
) -> pd.DataFrame:
    flow = jp_serverapp.web_app.settings["fate_nb"].flow
    table = tracking.output_table(flow.engine, job_id, component, role, str(party_id), data_name)
    frame = storage.read_table(tables.table_dir(flow.config, table)).to_pandas()
    return frame.set_index(frame.columns[0]).sort_index()


def _expected_scaled(csv: Path, drop: list[str]) -> pd.DataFrame:
    raw = pd.read_csv(csv, dtype={"id": str}).set_index("id").sort_index()
    features = raw.drop(columns=drop)
    scaled = StandardScaler().fit_transform(features.to_numpy(dtype=float))
    return pd.DataFrame(scaled, index=features.index, columns=features.columns)


async def test_v1_dataio_then_feature_scale_succeeds(
    flow_api: FlowApi,
    jp_serverapp: Any,
    breast_guest: Path,
    breast_host: Path,
    fate_home: Path,
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    before = int(time.time() * 1000)
    reply = await flow_api.post("job/submit", v1_job())

    assert reply["retcode"] == 0, reply
    job_id = reply["jobId"]
    assert reply["data"]["model_info"] == {"model_id": MODEL_ID, "model_version": job_id}
    assert reply["data"]["job_id"] == job_id
    assert reply["data"]["job_dsl_path"] == str(fate_home / "jobs" / job_id / "job_dsl.json")
    assert reply["data"]["logs_directory"] == str(fate_home / "logs" / job_id)
    assert "warnings" not in reply["data"]

    ended = await flow_api.wait_job(job_id)
    assert ended["f_status"] == "success", ended

    rows = (await flow_api.post("job/query", {"job_id": job_id}))["data"]
    by_party = {(row["f_role"], row["f_party_id"]): row for row in rows}
    assert sorted(by_party) == [("arbiter", "10000"), ("guest", "9999"), ("host", "10000")]
    for (role, _), row in by_party.items():
        assert row["f_status"] == "success"
        assert row["f_tag"] == "job_end"
        assert row["f_progress"] == 100
        assert row["f_is_initiator"] == int(role == "guest")
        assert row["f_initiator_party_id"] == str(GUEST)
        assert json.loads(row["f_roles"]) == ROLES
        assert json.loads(row["f_current_tasks"]) == [f"{job_id}_feature_scale_0"]
        assert row["f_current_steps"] is None
        assert json.loads(row["f_dsl"]) == v1_job()["job_dsl"]
        conf = json.loads(row["f_runtime_conf"])
        assert conf["job_parameters"] == {
            "work_mode": 0,
            "model_id": MODEL_ID,
            "model_version": job_id,
        }
        assert before <= row["f_create_time"] <= row["f_start_time"] <= row["f_end_time"]
        assert row["f_elapsed"] == row["f_end_time"] - row["f_start_time"]

    tasks = (await flow_api.post("job/task/query", {"job_id": job_id}))["data"]
    assert sorted((t["f_component_name"], t["f_role"], t["f_party_id"]) for t in tasks) == [
        ("dataio_0", "guest", "9999"),
        ("dataio_0", "host", "10000"),
        ("feature_scale_0", "guest", "9999"),
        ("feature_scale_0", "host", "10000"),
    ]
    for task in tasks:
        assert task["f_task_id"] == f"{job_id}_{task['f_component_name']}"
        assert task["f_status"] == "success"
        assert task["f_error"] is None
        assert task["f_run_pid"] > 0
        assert task["f_start_time"] <= task["f_end_time"]
    first_scale = min(t["f_start_time"] for t in tasks if t["f_component_name"] != "dataio_0")
    assert max(t["f_end_time"] for t in tasks if t["f_component_name"] == "dataio_0") <= first_scale

    guest = _scaled(jp_serverapp, job_id, "feature_scale_0", "guest", GUEST, "train")
    expected = _expected_scaled(breast_guest, ["y"])
    assert list(guest.columns) == ["y", *expected.columns]
    np.testing.assert_allclose(
        guest[expected.columns].to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12
    )
    host = _scaled(jp_serverapp, job_id, "feature_scale_0", "host", HOST, "train")
    expected = _expected_scaled(breast_host, [])
    assert list(host.columns) == list(expected.columns)
    np.testing.assert_allclose(host.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)


async def test_v1_dag_dependency_per_party(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    job = v1_job()
    job["job_runtime_conf"]["role_parameters"]["host"]["feature_scale_0"] = {"need_run": [False]}
    reply = await flow_api.post("job/submit", job)
    job_id = reply["jobId"]

    expected_module = {"dataio_0": "DataIO", "feature_scale_0": "FeatureScale"}
    dependencies = {"feature_scale_0": [{"component_name": "dataio_0", "type": "data"}]}
    answers = {}
    for role, party_id in (("guest", GUEST), ("host", str(HOST)), ("arbiter", ARBITER)):
        answer = await flow_api.post(
            "pipeline/dag/dependency", {"job_id": job_id, "role": role, "party_id": party_id}
        )
        assert answer["retcode"] == 0, answer
        assert answer["data"]["component_list"] == ["dataio_0", "feature_scale_0"]
        assert answer["data"]["dependencies"] == dependencies
        assert answer["data"]["component_module"] == expected_module
        answers[role] = answer["data"]["component_need_run"]
    assert answers == {
        "guest": {"dataio_0": True, "feature_scale_0": True},
        "host": {"dataio_0": True, "feature_scale_0": False},
        "arbiter": {"dataio_0": False, "feature_scale_0": False},
    }

    ended = await flow_api.wait_job(job_id)
    assert ended["f_status"] == "success"
    tasks = (await flow_api.post("job/task/query", {"job_id": job_id, "role": "host"}))["data"]
    assert {t["f_component_name"]: t["f_status"] for t in tasks} == {
        "dataio_0": "success",
        "feature_scale_0": "success",
    }


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        ({"job_id": "x", "role": "guest"}, "party_id"),
        ({"job_id": "20200101000000000000", "role": "guest", "party_id": 9999}, "find job failed"),
    ],
)
async def test_dag_dependency_errors(
    flow_api: FlowApi, request_body: dict[str, Any], expected: str
) -> None:
    answer = await flow_api.post("pipeline/dag/dependency", request_body)

    assert answer["retcode"] == 101
    assert expected in answer["retmsg"]


async def test_v2_reader_data_transform_feature_scale_succeeds(
    flow_api: FlowApi,
    jp_serverapp: Any,
    breast_guest: Path,
    breast_host: Path,
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    reply = await flow_api.post("job/submit", v2_job())
    assert reply["retcode"] == 0, reply
    job_id = reply["jobId"]

    ended = await flow_api.wait_job(job_id)
    assert ended["f_status"] == "success", ended

    config = (
        await flow_api.post("job/config", {"job_id": job_id, "role": "guest", "party_id": GUEST})
    )["data"]
    assert config["runtime_conf"]["job_parameters"]["common"] == {
        "task_parallelism": 2,
        "model_id": MODEL_ID,
        "model_version": job_id,
    }
    assert config["model_info"] == {"model_id": MODEL_ID, "model_version": job_id}
    tasks = (await flow_api.post("job/task/query", {"job_id": job_id}))["data"]
    assert sorted({t["f_component_name"] for t in tasks}) == [
        "data_transform_0",
        "feature_scale_0",
        "reader_0",
    ]
    assert {t["f_role"] for t in tasks} == {"guest", "host"}
    assert all(t["f_status"] == "success" for t in tasks)

    dag = await flow_api.post(
        "pipeline/dag/dependency", {"job_id": job_id, "role": "guest", "party_id": GUEST}
    )
    assert dag["data"]["component_list"] == ["reader_0", "data_transform_0", "feature_scale_0"]

    guest = _scaled(jp_serverapp, job_id, "feature_scale_0", "guest", GUEST, "data")
    expected = _expected_scaled(breast_guest, ["y"])
    np.testing.assert_allclose(
        guest[expected.columns].to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12
    )


def _member_text(archive: tarfile.TarFile, name: str) -> str:
    member = archive.extractfile(name)
    assert member is not None
    return member.read().decode()


async def test_job_log_tar_holds_every_task_log(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    reply = await flow_api.post("job/submit", v1_job())
    job_id = reply["jobId"]
    await flow_api.wait_job(job_id)

    response = await flow_api.raw("job/log/download", json.dumps({"job_id": job_id}))

    assert response.code == 200
    with tarfile.open(fileobj=io.BytesIO(response.body), mode="r:gz") as archive:
        names = set(archive.getnames())
        for role, party_id in (("guest", GUEST), ("host", HOST)):
            for component in ("dataio_0", "feature_scale_0"):
                name = f"{role}/{party_id}/{component}/std.log"
                assert name in names
                text = _member_text(archive, name)
                assert f"task {job_id}_{component} succeeded" in text
        schedule = _member_text(archive, "fate_flow_schedule.log")
        assert f"job {job_id} submitted by guest {GUEST}" in schedule
