"""JobList: the newest jobs with their status; Open shows a monitor of the chosen one."""

from __future__ import annotations

import html
from typing import Any

from fate_nb.client import FlowClient
from fate_nb.widgets import JobList, JobMonitor
from fate_nb.widgets._style import STATUS_COLORS


def test_the_hetero_lr_job_is_listed_and_opens_in_a_monitor(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """The finished job is listed green; choosing it and Open shows its monitor, success."""
    jobs = JobList(session_client, limit=50, interval=0.2)
    job_id = hetero_lr_job["job_id"]

    assert job_id in jobs.job_ids
    assert len(jobs.job_ids) <= 50
    row = jobs.jobs.set_index("job_id").loc[job_id]
    assert row["status"] == "success"
    table = html.unescape(jobs.table.value)
    assert job_id in table and STATUS_COLORS["success"] in table

    jobs.select.value = job_id
    jobs.open_button.click()
    assert isinstance(jobs.monitor, JobMonitor)
    assert jobs.monitor.job_id == job_id
    assert jobs.monitor_box.children == (jobs.monitor.widget,)
    assert jobs.monitor.wait(timeout=60) == "success"
    assert jobs.monitor.progress.value == 100


def test_open_without_a_choice_says_so(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """Open with nothing selected shows an error and opens nothing; the list stays at limit."""
    jobs = JobList(session_client, limit=1)

    assert len(jobs.job_ids) == 1
    jobs.select.value = None
    jobs.open_button.click()
    assert jobs.monitor is None
    assert "choose a job to open" in jobs.error.value
