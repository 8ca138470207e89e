"""/v1/job/query on a real server: FATE's row shape, filters and errors."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest
from flow_api import FlowApi


async def test_upload_job_row_has_fate_columns(flow_api: FlowApi, breast_guest: Path) -> None:
    before = int(time.time() * 1000)
    reply, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=2, namespace="t", table_name="j"
    )

    rows = (await flow_api.post("job/query", {"job_id": reply["jobId"]}))["data"]

    assert len(rows) == 1
    row = rows[0]
    assert row["f_job_id"] == reply["jobId"]
    assert row["f_role"] == "local"
    assert row["f_party_id"] == "0"
    assert row["f_is_initiator"] == 1
    assert row["f_initiator_party_id"] == "0"
    assert row["f_status"] == "success"
    assert row["f_tag"] == "job_end"
    assert row["f_progress"] == 100
    assert row["f_current_steps"] is None
    assert json.loads(row["f_current_tasks"]) == [f"{reply['jobId']}_upload_0"]
    assert json.loads(row["f_dsl"]) == {"components": {"upload_0": {"module": "Upload"}}}
    conf = json.loads(row["f_runtime_conf"])
    assert conf["initiator"] == {"role": "local", "party_id": 0}
    assert conf["role_parameters"]["local"]["upload_0"]["table_name"] == ["j"]
    assert json.loads(row["f_roles"]) == {"local": [0]}
    assert before <= row["f_create_time"] <= row["f_start_time"] <= row["f_end_time"]
    assert row["f_elapsed"] == row["f_end_time"] - row["f_start_time"]


async def test_job_ids_are_fate_shaped(flow_api: FlowApi, breast_guest: Path) -> None:
    reply, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="id"
    )

    job_id = reply["jobId"]
    assert job_id.isdigit()
    assert 21 <= len(job_id) <= 25
    assert job_id[:8] == time.strftime("%Y%m%d")


async def test_party_id_filter_matches_int_and_string(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    reply, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="p"
    )

    for party_id in (0, "0"):
        found = await flow_api.post(
            "job/query", {"job_id": reply["jobId"], "role": "local", "party_id": party_id}
        )
        assert [row["f_job_id"] for row in found["data"]] == [reply["jobId"]]


async def test_job_list_answers_the_newest_rows_first(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    """FATE 1.5's /v1/job/list/job: newest first, ``limit`` rows, query's filters too."""
    job_ids = []
    for name in ("l1", "l2", "l3"):
        reply, _ = await flow_api.upload(
            file=breast_guest.name, head=1, partition=1, namespace="t", table_name=name
        )
        job_ids.append(reply["jobId"])

    listed = await flow_api.post("job/list/job", {"limit": 2})
    assert [row["f_job_id"] for row in listed["data"]] == job_ids[:0:-1]
    filtered = await flow_api.post("job/list/job", {"limit": 5, "job_id": job_ids[0]})
    assert [row["f_job_id"] for row in filtered["data"]] == [job_ids[0]]
    refused = await flow_api.post("job/list/job", {"limit": 0})
    assert refused["retcode"] == 101 and "limit" in refused["retmsg"]


async def test_query_without_filter_is_refused(flow_api: FlowApi) -> None:
    reply = await flow_api.post("job/query", {"function": "query_job"})

    assert reply["retcode"] == 101
    assert "find job failed" in reply["retmsg"]


async def test_query_of_unknown_job_is_101(flow_api: FlowApi) -> None:
    reply = await flow_api.post("job/query", {"job_id": "20200101000000000000"})

    assert reply["retcode"] == 101
    assert "find job failed" in reply["retmsg"]
    assert "data" not in reply


async def test_failed_upload_says_why(flow_api: FlowApi, jp_root_dir: Path) -> None:
    (jp_root_dir / "fields.csv").write_bytes(b"id,y,x0\n1,2\n3,4\n")

    reply, row = await flow_api.upload(
        file="fields.csv", head=1, partition=1, namespace="t", table_name="f"
    )

    assert row["f_status"] == "failed"
    assert "wrong number of fields" in row["f_error"]
    assert row["f_tag"] == "job_end"


async def test_task_query_answers_fate_task_rows(flow_api: FlowApi, breast_guest: Path) -> None:
    reply, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="tq"
    )

    rows = (await flow_api.post("job/task/query", {"job_id": reply["jobId"]}))["data"]

    assert len(rows) == 1
    row = rows[0]
    assert row["f_task_id"] == f"{reply['jobId']}_upload_0"
    assert row["f_component_name"] == "upload_0"
    assert (row["f_role"], row["f_party_id"], row["f_status"]) == ("local", "0", "success")
    assert row["f_operator"] == "python_operator"
    assert isinstance(row["f_run_pid"], int)
    assert row["f_error"] is None
    assert row["f_elapsed"] == row["f_end_time"] - row["f_start_time"]


async def test_task_query_without_filter_lists_every_task(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    for table_name in ("a", "b"):
        await flow_api.upload(
            file=breast_guest.name, head=1, partition=1, namespace="t", table_name=table_name
        )

    rows = (await flow_api.post("job/task/query", {}))["data"]

    assert len(rows) == 2


async def test_task_query_without_match_is_101(flow_api: FlowApi) -> None:
    reply = await flow_api.post("job/task/query", {"job_id": "1", "component_name": "x_0"})

    assert reply["retcode"] == 101
    assert "find task failed" in reply["retmsg"]


async def test_failed_task_row_says_why(flow_api: FlowApi, jp_root_dir: Path) -> None:
    (jp_root_dir / "short.csv").write_bytes(b"id,y,x0\n1,2\n")
    reply, _ = await flow_api.upload(file="short.csv", namespace="t", table_name="s")

    row = (await flow_api.post("job/task/query", {"job_id": reply["jobId"]}))["data"][0]

    assert row["f_status"] == "failed"
    assert "wrong number of fields" in row["f_error"]


async def test_job_config_answers_dsl_conf_and_model_info(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    reply, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="cfg"
    )

    config = await flow_api.post(
        "job/config", {"job_id": reply["jobId"], "role": "local", "party_id": 0}
    )

    assert config["retcode"] == 0
    data = config["data"]
    assert data["job_id"] == reply["jobId"]
    assert data["dsl"] == {"components": {"upload_0": {"module": "Upload"}}}
    assert data["runtime_conf"]["role"] == {"local": [0]}
    assert data["train_runtime_conf"] == {}
    assert data["model_info"] == reply["data"]["model_info"]


async def test_job_config_of_unknown_job_is_101(flow_api: FlowApi) -> None:
    reply = await flow_api.post("job/config", {"job_id": "20200101000000000000"})

    assert reply["retcode"] == 101


async def test_job_update_sets_notes(flow_api: FlowApi, breast_guest: Path) -> None:
    reply, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="n"
    )

    updated = await flow_api.post(
        "job/update",
        {"job_id": reply["jobId"], "role": "local", "party_id": 0, "notes": "breast, guest"},
    )

    assert updated == {"retcode": 0, "retmsg": "success"}
    row = (await flow_api.post("job/query", {"job_id": reply["jobId"]}))["data"][0]
    assert row["f_description"] == "breast, guest"
    history = await flow_api.post("data/upload/history", {"job_id": reply["jobId"]})
    assert history["data"][0][reply["jobId"]]["notes"] == "breast, guest"


async def test_job_update_needs_job_role_and_party(flow_api: FlowApi) -> None:
    missing = await flow_api.post("job/update", {"job_id": "1", "notes": "x"})
    unknown = await flow_api.post(
        "job/update", {"job_id": "1", "role": "guest", "party_id": 9999, "notes": "x"}
    )

    assert missing["retcode"] == 101
    assert missing["retmsg"] == "missing required arguments: role, party_id"
    assert unknown["retcode"] == 101
    assert "find job failed" in unknown["retmsg"]


@pytest.mark.parametrize(("method", "path"), [("GET", "job/log"), ("POST", "job/log/download")])
async def test_job_log_is_a_tar_of_the_job_logs(
    flow_api: FlowApi, breast_guest: Path, method: str, path: str
) -> None:
    reply, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="logs"
    )

    response = await flow_api.raw(path, json.dumps({"job_id": reply["jobId"]}), method=method)

    assert response.code == 200
    assert f"job_{reply['jobId']}_log.tar.gz" in response.headers["Content-Disposition"]
    with tarfile.open(fileobj=io.BytesIO(response.body), mode="r:gz") as tar:
        names = tar.getnames()
        log_text = tar.extractfile("local/0/upload_0/std.log").read().decode()
    assert names == ["local/0/upload_0/std.log"]
    assert "table t.logs stored: 569 of 569 rows stored" in log_text


async def test_job_log_of_unknown_job_is_an_error_not_every_log(flow_api: FlowApi) -> None:
    for body in ({"job_id": "20200101000000000000"}, {}):
        response = await flow_api.raw("job/log/download", json.dumps(body))

        assert response.code == 210
        reply = json.loads(response.body)
        assert reply["retcode"] == 101
