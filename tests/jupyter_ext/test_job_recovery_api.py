"""A server killed while a job runs: the next start fails that job, ends its workers and runs
the jobs that were still waiting. Many jobs submitted at once all run, with distinct ids."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from csv_files import DATA_DIR, write_large_csv
from job_confs import single_party_v1_job, v1_job
from sync_flow import END_STATUSES, post, upload, wait

from fate_nb.launch import ServerProcess, start_server

BIG_TABLE = {"name": "big", "namespace": "restart"}
SMALL_TABLE = {"name": "breast_hetero_guest", "namespace": "experiment"}


def _start(root: Path, home: Path, log: Path) -> ServerProcess:
    server = start_server(root, home, log, extra_args=["--FateApp.max_concurrent_jobs=1"])
    server.wait_ready()
    return server


def test_restart_fails_the_running_job_and_runs_the_waiting_one(tmp_path: Path) -> None:
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    write_large_csv(root / "big.csv", 400_000)
    shutil.copy(DATA_DIR / "breast_hetero_guest.csv", root)

    first = _start(root, home, tmp_path / "first.log")
    try:
        with first.client() as client:
            upload(client, "big.csv", BIG_TABLE)
            upload(client, "breast_hetero_guest.csv", SMALL_TABLE)
            running = post(client, "job/submit", single_party_v1_job(BIG_TABLE))["jobId"]
            waiting = post(client, "job/submit", single_party_v1_job(SMALL_TABLE))["jobId"]
            wait(client, running, {"running"})
            deadline = time.monotonic() + 60
            pid = None
            while pid is None and time.monotonic() < deadline:
                tasks = post(client, "job/task/query", {"job_id": running, "status": "running"})
                pid = tasks["data"][0]["f_run_pid"] if tasks["retcode"] == 0 else None
            assert pid is not None
            assert post(client, "job/query", {"job_id": waiting})["data"][0]["f_status"] == (
                "waiting"
            )
    finally:
        first.process.kill()
        first.process.wait()

    # With its server gone, the worker stops by itself rather than work for nobody.
    deadline = time.monotonic() + 20
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie":
        assert time.monotonic() < deadline, "the worker outlived its server"
        time.sleep(0.1)

    second = _start(root, home, tmp_path / "second.log")
    try:
        with second.client() as client:
            row = post(client, "job/query", {"job_id": running})["data"][0]
            assert row["f_status"] == "failed"
            assert row["f_error"] == "the server restarted while the job ran"
            # DataIO may have finished before the server died; nothing is left running.
            tasks = post(client, "job/task/query", {"job_id": running})["data"]
            statuses = {t["f_component_name"]: t["f_status"] for t in tasks}
            assert statuses["dataio_0"] in ("failed", "success")
            assert statuses["feature_scale_0"] in ("failed", "canceled")
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"

            assert wait(client, waiting, END_STATUSES)["f_status"] == "success"
    finally:
        second.stop()
    log = (tmp_path / "second.log").read_text()
    assert f"jobs cut short by the last shutdown, now failed: {running}" in log


def test_twenty_jobs_submitted_at_once_all_run(tmp_path: Path) -> None:
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    for name in ("breast_hetero_guest.csv", "breast_hetero_host.csv"):
        shutil.copy(DATA_DIR / name, root)
    log = tmp_path / "server.log"

    server = start_server(root, home, log)
    try:
        server.wait_ready()
        with server.client() as client:
            upload(client, "breast_hetero_guest.csv", SMALL_TABLE)
            upload(
                client,
                "breast_hetero_host.csv",
                {"name": "breast_hetero_host", "namespace": "experiment"},
            )

            def submit(_: int) -> str:
                with server.client() as own:
                    reply = post(own, "job/submit", v1_job())
                assert reply["retcode"] == 0, reply
                return reply["jobId"]

            with ThreadPoolExecutor(max_workers=8) as pool:
                job_ids = list(pool.map(submit, range(20)))

            assert len(set(job_ids)) == 20
            rows = [wait(client, job_id, END_STATUSES, limit_s=300) for job_id in job_ids]
            assert [row["f_status"] for row in rows] == ["success"] * 20
    finally:
        server.stop()
    assert "database is locked" not in log.read_text()
