"""Stopping jobs, timeouts and killed workers on a real server: statuses, reasons, processes."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import psutil
import pytest
from csv_files import write_large_csv
from flow_api import FlowApi
from job_confs import single_party_v1_job

BIG_TABLE = {"name": "big", "namespace": "stop"}
# Enough rows that DataIO runs for a while on any machine this runs on.
BIG_ROWS = 400_000


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """One job at a time, so that a second job has to wait."""
    fate_app = {**jp_server_config["FateApp"], "max_concurrent_jobs": 1}
    return {**jp_server_config, "FateApp": fate_app}


async def _upload_big(flow_api: FlowApi, root: Path) -> None:
    write_large_csv(root / "big.csv", BIG_ROWS)
    _, row = await flow_api.upload(
        file="big.csv", head=1, partition=4, namespace="stop", table_name="big"
    )
    assert row["f_status"] == "success"


async def _running_pids(flow_api: FlowApi, job_id: str) -> list[int]:
    """Wait until a task of the job runs in a worker; return the pids of its running tasks."""
    for _ in range(1200):
        reply = await flow_api.post("job/task/query", {"job_id": job_id, "status": "running"})
        if reply["retcode"] == 0 and all(t["f_run_pid"] for t in reply["data"]):
            return [task["f_run_pid"] for task in reply["data"]]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no task of job {job_id} started")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def _tasks(flow_api: FlowApi, job_id: str) -> dict[str, dict[str, Any]]:
    reply = await flow_api.post("job/task/query", {"job_id": job_id})
    return {task["f_component_name"]: task for task in reply["data"]}


async def test_stopping_a_running_job_ends_its_workers(
    flow_api: FlowApi, jp_root_dir: Path
) -> None:
    await _upload_big(flow_api, jp_root_dir)
    job_id = (await flow_api.post("job/submit", single_party_v1_job(BIG_TABLE)))["jobId"]
    pids = await _running_pids(flow_api, job_id)

    reply = await flow_api.post("job/stop", {"job_id": job_id})

    assert reply == {"retcode": 0, "retmsg": "kill job success"}
    assert all(_gone(pid) for pid in pids)
    row = (await flow_api.post("job/query", {"job_id": job_id}))["data"][0]
    assert row["f_status"] == "canceled"
    assert row["f_tag"] == "job_end"
    assert row["f_end_time"] >= row["f_start_time"]
    tasks = await _tasks(flow_api, job_id)
    assert tasks["dataio_0"]["f_status"] == "canceled"
    assert tasks["dataio_0"]["f_error"] == "stopped by /v1/job/stop"
    assert tasks["feature_scale_0"]["f_status"] == "canceled"
    assert tasks["feature_scale_0"]["f_start_time"] is None


async def test_kill_ends_a_running_job_failed(flow_api: FlowApi, jp_root_dir: Path) -> None:
    await _upload_big(flow_api, jp_root_dir)
    job_id = (await flow_api.post("job/submit", single_party_v1_job(BIG_TABLE)))["jobId"]
    pids = await _running_pids(flow_api, job_id)

    reply = await flow_api.post("job/stop", {"job_id": job_id, "operate": "kill"})

    assert reply["retmsg"] == "kill job success"
    assert all(_gone(pid) for pid in pids)
    row = (await flow_api.post("job/query", {"job_id": job_id}))["data"][0]
    assert row["f_status"] == "failed"
    assert (await _tasks(flow_api, job_id))["dataio_0"]["f_status"] == "failed"


async def test_stopping_a_waiting_job_cancels_it(flow_api: FlowApi, jp_root_dir: Path) -> None:
    await _upload_big(flow_api, jp_root_dir)
    first = (await flow_api.post("job/submit", single_party_v1_job(BIG_TABLE)))["jobId"]
    second = (await flow_api.post("job/submit", single_party_v1_job(BIG_TABLE)))["jobId"]
    await _running_pids(flow_api, first)

    reply = await flow_api.post("job/stop", {"job_id": second, "stop_status": "canceled"})

    assert reply == {"retcode": 0, "retmsg": "cancel job success"}
    row = (await flow_api.post("job/query", {"job_id": second}))["data"][0]
    assert row["f_status"] == "canceled"
    assert row["f_start_time"] is None
    assert {t["f_status"] for t in (await _tasks(flow_api, second)).values()} == {"canceled"}

    assert (await flow_api.wait_job(first))["f_status"] == "success"
    assert (await flow_api.wait_job(second))["f_status"] == "canceled"


async def test_stopping_an_ended_job_changes_nothing(flow_api: FlowApi, breast_guest: Path) -> None:
    reply, row = await flow_api.upload(file=breast_guest.name, namespace="t", table_name="done")

    answer = await flow_api.post("job/stop", {"job_id": reply["jobId"]})

    assert answer == {
        "retcode": 0,
        "retmsg": f"job {reply['jobId']} has already ended (success); nothing to stop",
    }
    after = (await flow_api.post("job/query", {"job_id": reply["jobId"]}))["data"][0]
    assert after == row


@pytest.mark.parametrize(
    ("request_body", "retcode", "expected"),
    [
        ({"job_id": "20200101000000000000"}, 101, "can not found job: 20200101000000000000"),
        ({}, 101, "job_id"),
        ({"job_id": "1", "stop_status": "success"}, 101, "stop_status is 'success'"),
    ],
)
async def test_stop_errors(
    flow_api: FlowApi, request_body: dict[str, Any], retcode: int, expected: str
) -> None:
    reply = await flow_api.post("job/stop", request_body)

    assert reply["retcode"] == retcode
    assert expected in reply["retmsg"]


async def test_a_job_over_its_timeout_ends_timeout(flow_api: FlowApi, jp_root_dir: Path) -> None:
    await _upload_big(flow_api, jp_root_dir)
    job = single_party_v1_job(BIG_TABLE, timeout=1)
    job_id = (await flow_api.post("job/submit", job))["jobId"]
    pids = await _running_pids(flow_api, job_id)

    row = await flow_api.wait_job(job_id)

    assert row["f_status"] == "timeout"
    assert all(_gone(pid) for pid in pids)
    # DataIO may finish within the second; whichever task ran at the timeout ends timeout.
    tasks = await _tasks(flow_api, job_id)
    statuses = [tasks["dataio_0"]["f_status"], tasks["feature_scale_0"]["f_status"]]
    assert statuses in (["timeout", "canceled"], ["success", "timeout"])
    cut = next(task for task in tasks.values() if task["f_status"] == "timeout")
    assert cut["f_error"] == "the job ran longer than its timeout of 1 s"


async def test_a_killed_worker_fails_its_job_and_the_server_answers(
    flow_api: FlowApi, jp_root_dir: Path
) -> None:
    await _upload_big(flow_api, jp_root_dir)
    job_id = (await flow_api.post("job/submit", single_party_v1_job(BIG_TABLE)))["jobId"]
    (pid,) = await _running_pids(flow_api, job_id)

    os.kill(pid, signal.SIGKILL)
    row = await flow_api.wait_job(job_id)

    assert row["f_status"] == "failed"
    task = (await _tasks(flow_api, job_id))["dataio_0"]
    assert task["f_status"] == "failed"
    assert task["f_error"] == "the worker process was killed by SIGKILL before it finished"
    assert (
        "dataio_0: guest 9999 failed: the worker process was killed by SIGKILL"
        in (await flow_api.post("job/query", {"job_id": job_id}))["data"][0]["f_error"]
    )
    later = await flow_api.post("job/submit", single_party_v1_job(BIG_TABLE))
    assert (await flow_api.wait_job(later["jobId"]))["f_status"] == "success"


async def test_a_dead_fork_server_fails_its_tasks_and_is_started_again(
    flow_api: FlowApi, jp_root_dir: Path
) -> None:
    await _upload_big(flow_api, jp_root_dir)
    job_id = (await flow_api.post("job/submit", single_party_v1_job(BIG_TABLE)))["jobId"]
    (pid,) = await _running_pids(flow_api, job_id)
    fork_server = psutil.Process(pid).parent()
    assert fork_server is not None
    assert "fate_nb.flow.forkserver" in fork_server.cmdline()

    fork_server.kill()
    row = await flow_api.wait_job(job_id)

    assert row["f_status"] == "failed"
    task = (await _tasks(flow_api, job_id))["dataio_0"]
    assert task["f_error"] == (
        "the worker fork server ended unexpectedly; the server log has the details"
    )
    for _ in range(100):
        if _gone(pid):
            break
        await asyncio.sleep(0.05)
    assert _gone(pid)
    later = await flow_api.post("job/submit", single_party_v1_job(BIG_TABLE))
    assert (await flow_api.wait_job(later["jobId"]))["f_status"] == "success"
