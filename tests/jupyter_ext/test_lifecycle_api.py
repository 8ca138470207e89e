"""A server that stops while an upload runs: the job fails and nothing half-written stays."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from csv_files import write_large_csv
from flow_api import FlowApi
from sqlmodel import select

from fate_nb.flow.store import DataTable, Job, Task, session


async def test_stop_during_upload_fails_the_job_and_removes_its_files(
    flow_api: FlowApi, jp_serverapp: Any, jp_root_dir: Path, fate_home: Path
) -> None:
    write_large_csv(jp_root_dir / "large.csv", 400_000)
    reply = await flow_api.post(
        "data/upload",
        {"file": "large.csv", "namespace": "t", "table_name": "cut", "use_local_data": 0},
    )
    flow = jp_serverapp.web_app.settings["fate_nb"].flow
    for _ in range(600):
        with session(flow.engine) as db:
            task = db.exec(select(Task)).one()
        if task.start_time is not None:
            break
        await asyncio.sleep(0.05)

    await jp_serverapp.extension_manager.stop_all_extensions()

    with session(flow.engine) as db:
        job = db.exec(select(Job).where(Job.job_id == reply["jobId"])).one()
        assert db.exec(select(DataTable)).all() == []
    assert job.status == "failed"
    assert job.error == "the server stopped while the job ran"
    assert list((fate_home / "tables").iterdir()) == []


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """One job at a time, so that a second upload has to wait."""
    fate_app = {**jp_server_config["FateApp"], "max_concurrent_jobs": 1}
    return {**jp_server_config, "FateApp": fate_app}


async def test_a_waiting_upload_keeps_its_copy_for_the_next_start(
    flow_api: FlowApi, jp_serverapp: Any, jp_root_dir: Path, breast_guest: Path, fate_home: Path
) -> None:
    write_large_csv(jp_root_dir / "large.csv", 400_000)
    await flow_api.post(
        "data/upload",
        {"file": "large.csv", "namespace": "t", "table_name": "first", "use_local_data": 0},
    )
    waiting = await flow_api.upload_multipart(breast_guest, {"namespace": "t", "table_name": "w"})
    rows = (await flow_api.post("job/query", {"job_id": waiting["jobId"]}))["data"]
    assert rows[0]["f_status"] == "waiting"
    assert len(list((fate_home / "jobs").glob("*/fate_upload_tmp/*"))) == 1

    await jp_serverapp.extension_manager.stop_all_extensions()

    assert len(list((fate_home / "jobs").glob("*/fate_upload_tmp/*"))) == 1
    flow = jp_serverapp.web_app.settings["fate_nb"].flow
    with session(flow.engine) as db:
        job = db.exec(select(Job).where(Job.job_id == waiting["jobId"])).one()
    assert job.status == "waiting"
