"""The flow engine's start-up: recovery from a server that stopped mid-job."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from fate_nb.flow import jobs
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.engine import FlowEngine
from fate_nb.flow.errors import HomeInUse
from fate_nb.flow.store import DataTable, Job, Task, session


@pytest.fixture
def flow(tmp_path: Path) -> Iterator[FlowEngine]:
    root = tmp_path / "root"
    root.mkdir()
    engine = FlowEngine(FlowConfig(home=tmp_path / "home", root_dir=root))
    yield engine
    asyncio.run(engine.close())


def test_recover_fails_jobs_left_running(flow: FlowEngine) -> None:
    jobs.create_local_job(
        flow.config,
        flow.engine,
        job_id="20261203000000000001",
        component_name="upload_0",
        module_name="Upload",
        parameters={"file": "x.csv"},
    )
    jobs.update_job(flow.engine, "20261203000000000001", status=jobs.RUNNING)
    (task,) = jobs.job_tasks(flow.engine, "20261203000000000001")
    jobs.update_task(flow.engine, task, status=jobs.RUNNING, run_pid=os.getpid())

    flow.recover()

    with session(flow.engine) as db:
        job = db.exec(select(Job)).one()
        task = db.exec(select(Task)).one()
    assert job.status == jobs.FAILED
    assert job.error == "the server restarted while the job ran"
    assert job.tag == "job_end"
    assert task.status == jobs.FAILED
    assert task.error == "the server restarted while the job ran"


def test_recover_removes_half_written_tables_and_requests_only(flow: FlowEngine) -> None:
    kept = flow.config.tables_dir / "kept"
    orphan = flow.config.tables_dir / "orphan"
    request = flow.config.incoming_dir / "abc123"
    kept.mkdir()
    orphan.mkdir()
    request.mkdir()
    (request / "part.csv").write_text("id\n1\n")
    with session(flow.engine) as db:
        db.add(DataTable(namespace="n", table_name="t", path="kept"))
        db.commit()

    flow.recover()

    assert kept.is_dir()
    assert not orphan.exists()
    assert not request.exists()


def test_finished_jobs_keep_their_status(flow: FlowEngine) -> None:
    jobs.create_local_job(
        flow.config,
        flow.engine,
        job_id="20261203000000000002",
        component_name="upload_0",
        module_name="Upload",
        parameters={},
    )
    jobs.update_job(flow.engine, "20261203000000000002", status=jobs.SUCCESS)

    jobs.update_job(flow.engine, "20261203000000000002", status=jobs.FAILED)
    flow.recover()

    with session(flow.engine) as db:
        assert db.exec(select(Job)).one().status == jobs.SUCCESS


def test_a_second_engine_on_the_same_home_is_refused(flow: FlowEngine) -> None:
    with pytest.raises(HomeInUse, match="another fate-nb server already uses"):
        FlowEngine(flow.config)
