"""JobMonitor over real jobs' lives: running to success, a failure's log, Stop, poll errors."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from csv_files import DATA_DIR
from widget_helpers import failing_job, long_lr_job, node_fills, poll_until

from fate_nb import examples
from fate_nb.client import FlowClient
from fate_nb.exceptions import InvalidArgument
from fate_nb.launch import start_server
from fate_nb.widgets import JobMonitor
from fate_nb.widgets._style import STATUS_COLORS
from fate_nb.widgets.monitor import NOT_FOUND

UNKNOWN_JOB = "20991231000000000000000"
GREY, BLUE = STATUS_COLORS["waiting"], STATUS_COLORS["running"]
GREEN, RED, ORANGE = STATUS_COLORS["success"], STATUS_COLORS["failed"], STATUS_COLORS["canceled"]


def _log_text(monitor: JobMonitor) -> str:
    return "".join(output.get("text", "") for output in monitor.log.outputs)


def test_a_job_from_submit_to_success(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """Right after submit the job waits or runs; while HeteroLR runs, Evaluation waits (blue
    and grey, in the table and the DAG); at success all is green, progress 100, polling ends."""
    job_id = session_client.submit(examples.hetero_lr_job())["job_id"]
    monitor = JobMonitor(job_id, session_client, interval=0.2, autostart=False)

    assert monitor.status == "unknown"
    assert monitor.refresh() in {"waiting", "running"}
    assert monitor.progress.value < 100
    assert set(monitor.task_statuses.values()) <= {"waiting", "running", "success"}

    def lr_running() -> bool:
        monitor.refresh()
        return monitor.task_statuses[("hetero_lr_0", "guest", "9999")] == "running"

    poll_until(lr_running, "hetero_lr_0 running")
    assert monitor.status == "running"
    assert 0 < monitor.progress.value < 100
    assert monitor.task_statuses[("evaluation_0", "guest", "9999")] == "waiting"
    assert monitor.task_statuses[("dataio_0", "host", "10000")] == "success"
    assert {GREY, BLUE, GREEN} <= {c for c in STATUS_COLORS.values() if c in monitor.tasks.value}
    assert node_fills(monitor.dag.widget.value) == {
        "dataio_0": GREEN,
        "intersection_0": GREEN,
        "hetero_lr_0": BLUE,
        "evaluation_0": GREY,
    }
    assert "elapsed" in monitor.header.value
    assert not monitor.stop_button.disabled

    monitor.start()
    assert monitor.wait(timeout=300) == "success"
    assert not monitor.polling
    assert monitor.progress.value == 100
    assert monitor.progress.bar_style == "success"
    assert set(monitor.task_statuses.values()) == {"success"}
    assert len(monitor.task_statuses) == 10  # 4 components over guest, host and arbiter
    assert GREEN in monitor.tasks.value
    assert GREY not in monitor.tasks.value and BLUE not in monitor.tasks.value
    assert set(node_fills(monitor.dag.widget.value).values()) == {GREEN}
    assert monitor.stop_button.disabled
    assert monitor.log.outputs == ()
    assert "success" in monitor.header.value

    bundle = monitor._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == monitor.widget.model_id


def test_a_failing_job_shows_its_error_and_the_log_excerpt(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """A job that passes submit and fails in DataIO's worker: the guest's DataIO task is red,
    FeatureScale orange (canceled), and the log names the task, its error and its log's end."""
    job_id = session_client.submit(failing_job())["job_id"]
    monitor = JobMonitor(job_id, session_client, interval=0.2)

    assert monitor.wait(timeout=120) == "failed"
    assert not monitor.polling
    assert monitor.failed_task is not None
    assert monitor.failed_task["component_name"] == "dataio_0"
    assert (monitor.failed_task["role"], monitor.failed_task["party_id"]) == ("guest", "9999")
    assert monitor.task_statuses[("dataio_0", "guest", "9999")] == "failed"
    assert monitor.task_statuses[("feature_scale_0", "guest", "9999")] == "canceled"
    assert RED in monitor.tasks.value and ORANGE in monitor.tasks.value
    assert node_fills(monitor.dag.widget.value) == {"dataio_0": RED, "feature_scale_0": ORANGE}
    assert monitor.progress.bar_style == "danger"

    log = _log_text(monitor)
    assert log.startswith("dataio_0 guest 9999 failed: ")
    assert "label column 'no_such_label' is not in table" in log
    assert "--- the last lines of its log ---" in log
    excerpt = log.split("--- the last lines of its log ---\n", 1)[1]
    assert "ERROR" in excerpt and f"task {job_id}_dataio_0 failed" in excerpt
    assert monitor.log_excerpt.strip() in log


def test_the_stop_button_cancels_a_running_job(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """Stop during a HeteroLR of 100,000 iterations: the job ends canceled, orange in the DAG."""
    job_id = session_client.submit(long_lr_job())["job_id"]
    try:
        monitor = JobMonitor(job_id, session_client, interval=0.2)
        poll_until(
            lambda: monitor.task_statuses.get(("hetero_lr_0", "guest", "9999")) == "running",
            "hetero_lr_0 running",
        )
        monitor.stop_button.click()

        assert monitor.wait(timeout=120) == "canceled"
        assert not monitor.polling
        assert monitor.stop_button.disabled
        assert monitor.task_statuses[("hetero_lr_0", "arbiter", "10000")] == "canceled"
        assert monitor.task_statuses[("dataio_0", "guest", "9999")] == "success"
        assert node_fills(monitor.dag.widget.value) == {
            "dataio_0": GREEN,
            "intersection_0": GREEN,
            "hetero_lr_0": ORANGE,
            "evaluation_0": ORANGE,
        }
        assert monitor.progress.bar_style == "warning"
        assert "job canceled: stopped by /v1/job/stop" in _log_text(monitor)
    finally:
        if session_client.job_status(job_id) not in {"success", "failed", "canceled"}:
            session_client.stop_job(job_id)


def test_an_unknown_job_stops_polling_and_says_so(session_client: FlowClient) -> None:
    """A job id the server does not know (job/query's retcode 101) is final: the monitor
    says so once, disables Stop and stops its thread instead of polling forever."""
    monitor = JobMonitor(UNKNOWN_JOB, session_client, interval=0.05)
    try:
        assert monitor.wait(timeout=30) == NOT_FOUND
        assert not monitor.polling
    finally:
        monitor.stop_polling()

    assert monitor.status == "not found"
    assert _log_text(monitor) == f"no job {UNKNOWN_JOB} on this server\n"
    assert monitor.error == f"no job {UNKNOWN_JOB} on this server"
    assert "not found" in monitor.header.value and UNKNOWN_JOB in monitor.header.value
    assert monitor.stop_button.disabled
    assert monitor.refresh() == NOT_FOUND
    assert _log_text(monitor) == f"no job {UNKNOWN_JOB} on this server\n"


def test_poll_errors_go_to_the_log_and_back_off() -> None:
    """Polling a server that cannot be reached: each error is logged, the delay doubles."""
    client = FlowClient("http://127.0.0.1:9/", "unused")
    monitor = JobMonitor(UNKNOWN_JOB, client, interval=0.05)
    try:
        poll_until(lambda: len(monitor.log.outputs) >= 3, "three poll errors")
    finally:
        monitor.stop_polling()
        client.close()

    assert not monitor.polling
    assert monitor.status == "unknown"
    lines = _log_text(monitor).splitlines()
    assert all(line.startswith("poll failed: cannot reach fate-nb at ") for line in lines)
    delays = [float(line.rsplit("retrying in ", 1)[1].removesuffix(" s")) for line in lines]
    assert delays[1:3] == [2 * delays[0], 4 * delays[0]]


def test_a_server_out_of_reach_for_give_up_after_ends_the_polling() -> None:
    """A server that stays away (stopped, crashed) ends the polling: wait() returns
    "unreachable" instead of retrying forever."""
    client = FlowClient("http://127.0.0.1:9/", "unused")
    monitor = JobMonitor(UNKNOWN_JOB, client, interval=0.05, give_up_after=0.5)
    try:
        assert monitor.wait(30) == "unreachable"
    finally:
        monitor.stop_polling()
        client.close()

    assert not monitor.polling
    assert monitor.stop_button.disabled
    assert "gave up after 0.5 s" in _log_text(monitor).splitlines()[-1]


@pytest.mark.parametrize("job_id", [12345, None, ""])
def test_a_job_id_that_is_not_text_is_refused(job_id: object) -> None:
    """JobMonitor(12345) says it needs a job id as text (FateNbError and ValueError)."""
    with (
        FlowClient("http://127.0.0.1:9/", "unused") as client,
        pytest.raises(InvalidArgument, match="JobMonitor needs a job id"),
    ):
        JobMonitor(job_id, client)  # type: ignore[arg-type]


def test_a_queued_job_shows_waiting_until_a_slot_frees(tmp_path: Path) -> None:
    """On a server that runs one job at a time, a job behind a long one is waiting (grey
    in the table and the DAG); when the long one stops, it runs to success."""
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    for name in ("breast_hetero_guest.csv", "breast_hetero_host.csv"):
        shutil.copy(DATA_DIR / name, root)
    server = start_server(
        root, home, tmp_path / "server.log", extra_args=["--FateApp.max_concurrent_jobs=1"]
    )
    try:
        server.wait_ready()
        with FlowClient(server.base_url, server.token) as client:
            for table in (examples.GUEST_TABLE, examples.HOST_TABLE):
                client.upload(
                    root / f"{table['name']}.csv",
                    namespace=table["namespace"],
                    table_name=table["name"],
                    timeout=120,
                )
            blocker = client.submit(long_lr_job())["job_id"]
            poll_until(lambda: client.job_status(blocker) == "running", "the long job running")
            queued = client.submit(examples.scale_job())["job_id"]
            monitor = JobMonitor(queued, client, interval=0.2, autostart=False)

            assert monitor.refresh() == "waiting"
            assert monitor.progress.value == 0
            assert set(monitor.task_statuses.values()) == {"waiting"}
            assert set(node_fills(monitor.dag.widget.value).values()) == {GREY}

            client.stop_job(blocker)
            monitor.start()
            assert monitor.wait(timeout=300) == "success"
            assert set(node_fills(monitor.dag.widget.value).values()) == {GREEN}
    finally:
        server.stop()
