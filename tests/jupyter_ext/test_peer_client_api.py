"""Endpoints fate-client (FATE's own SDK and CLI, 1.5 and 1.11) calls beyond the seed list."""

from __future__ import annotations

import platform
from pathlib import Path

from flow_api import FlowApi

import fate_nb


async def test_task_list_answers_the_newest_task_rows(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    """`flow task list` / client.task.list: POST /v1/job/list/task, newest first, ``limit``."""
    job_ids = []
    for name in ("t1", "t2"):
        reply, _ = await flow_api.upload(
            file=breast_guest.name, head=1, partition=1, namespace="t", table_name=name
        )
        job_ids.append(reply["jobId"])

    listed = await flow_api.post("job/list/task", {"limit": 1})
    assert listed["retcode"] == 0, listed
    assert [(row["f_job_id"], row["f_component_name"]) for row in listed["data"]] == [
        (job_ids[1], "upload_0")
    ]
    assert listed["data"][0]["f_status"] == "success"
    every = await flow_api.post("job/list/task", {})
    assert [row["f_job_id"] for row in every["data"]] == job_ids[::-1]
    filtered = await flow_api.post("job/list/task", {"job_id": job_ids[0]})
    assert [row["f_job_id"] for row in filtered["data"]] == [job_ids[0]]
    refused = await flow_api.post("job/list/task", {"limit": 0})
    assert refused["retcode"] == 101 and "limit" in refused["retmsg"]


async def test_component_list_names_the_jobs_components(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    """`flow component list` / client.component.list: POST /v1/tracking/component/list."""
    reply, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="c"
    )

    listed = await flow_api.post("tracking/component/list", {"job_id": reply["jobId"]})
    assert listed == {"retcode": 0, "retmsg": "success", "data": {"components": ["upload_0"]}}
    unknown = await flow_api.post("tracking/component/list", {"job_id": "20200101000000000000"})
    assert unknown["retcode"] == 101 and "find job failed" in unknown["retmsg"]
    missing = await flow_api.post("tracking/component/list", {})
    assert missing["retcode"] == 101 and "job_id" in missing["retmsg"]


async def test_version_get_answers_the_module_asked_for(flow_api: FlowApi) -> None:
    """fate-client 1.7+'s remote_version and `pipeline config check`: POST /v1/version/get."""
    own = f"fate-nb {fate_nb.__version__}"

    flow = await flow_api.post("version/get", {"module": "FATEFlow"})
    assert flow == {"retcode": 0, "retmsg": "success", "data": {"FATEFlow": own}}
    assert (await flow_api.post("version/get", {}))["data"] == {"API": "v1"}
    python = await flow_api.post("version/get", {"module": "PYTHON"})
    assert python["data"] == {"PYTHON": platform.python_version()}
    assert (await flow_api.post("version/get", {"module": "EGGROLL"}))["data"] == {"EGGROLL": None}
