"""JobList: the recent jobs and their status; open one to watch it in a JobMonitor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from fate_nb.exceptions import FateNbError, InvalidArgument
from fate_nb.widgets._style import default_client, error_html, html_table, plain, status_color
from fate_nb.widgets.monitor import JobMonitor

if TYPE_CHECKING:
    from fate_nb.client import FlowClient


class JobList:
    """The newest jobs with their status; choose one and Open shows its monitor beneath.

    Parameters
    ----------
    client
        The server's client; ``FlowClient()`` when None.
    limit
        How many jobs to list.
    interval
        Seconds between an opened monitor's polls.

    Examples
    --------
    >>> jobs = JobList()                 # doctest: +SKIP
    >>> jobs.open(jobs.job_ids[0])       # doctest: +SKIP
    """

    def __init__(
        self, client: FlowClient | None = None, limit: int = 20, interval: float = 1.0
    ) -> None:
        self.client = default_client(client)
        self.limit, self.interval = limit, interval
        self.jobs = pd.DataFrame()
        self.monitor: JobMonitor | None = None
        self.table = widgets.HTML()
        self.select = widgets.Select(options=[], rows=8, layout=widgets.Layout(width="auto"))
        self.open_button = widgets.Button(description="Open", button_style="primary")
        self.open_button.on_click(lambda _button: self._safely(self.open))
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _button: self._safely(self.refresh))
        self.error = widgets.HTML()
        self.monitor_box = widgets.VBox()
        controls = widgets.HBox(
            [self.select, widgets.VBox([self.open_button, self.refresh_button])]
        )
        self.widget = widgets.VBox([self.table, controls, self.error, self.monitor_box])
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def job_ids(self) -> list[str]:
        """The listed jobs' ids, newest first."""
        return [str(job_id) for job_id in self.jobs.get("job_id", [])]

    def refresh(self) -> pd.DataFrame:
        """Fetch the newest jobs and list them; return them."""
        self.apply(self.client.list_jobs(limit=self.limit))
        return self.jobs

    def apply(self, jobs: pd.DataFrame) -> None:
        """List ``list_jobs``'s frame: id, status (coloured), progress, created, elapsed."""
        self.jobs = jobs
        columns = ["job_id", "status", "progress", "create_time", "elapsed", "description"]
        rows = []
        for job in jobs.to_dict("records"):
            status = plain(job.get("status"))
            rows.append(
                [
                    job.get("job_id"),
                    (status, status_color(status)),
                    *(job.get(name) for name in columns[2:]),
                ]
            )
        self.table.value = html_table(columns, rows) if rows else "<i>No jobs yet.</i>"
        current = self.select.value
        self.select.options = [
            (f"{job_id}  {plain(status)}", str(job_id))
            for job_id, status in zip(jobs.get("job_id", []), jobs.get("status", []), strict=True)
        ]
        if current in self.job_ids:
            self.select.value = current

    def open(self, job_id: str | None = None) -> JobMonitor:
        """Open a monitor of a job (the selected one by default) beneath the list."""
        job_id = job_id or self.select.value
        if not job_id:
            raise InvalidArgument("choose a job to open")
        if self.monitor is not None:
            self.monitor.close()
        self.monitor = JobMonitor(job_id, self.client, interval=self.interval)
        self.monitor_box.children = (self.monitor.widget,)
        self.error.value = ""
        return self.monitor

    def _safely(self, action: Any) -> None:
        try:
            action()
        except (FateNbError, ValueError) as error:
            self.error.value = error_html(str(error))
