"""JobMonitor: one job's live status, tasks, DAG and failure log, polled from a thread."""

from __future__ import annotations

import html
import re
import threading
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from fate_nb.exceptions import FateFlowError, InvalidArgument, ServerError
from fate_nb.widgets._style import (
    BAR_STYLES,
    END_STATUSES,
    badge,
    default_client,
    duration,
    html_table,
    plain,
    status_color,
)
from fate_nb.widgets.dag import DagView

if TYPE_CHECKING:
    from fate_nb.client import FlowClient

LOG_LINES = 30
# The status of a job the server does not know; polling stops there, as at an end status.
NOT_FOUND = "not found"
# The status when the server stayed out of reach for ``give_up_after`` seconds; polling stops.
UNREACHABLE = "unreachable"
# FATE's retcode when /v1/job/query finds no job (FATE 1.5 answers retcode 0 and no rows).
_NO_JOB_RETCODE = 101
MAX_BACKOFF_S = 30.0
_FINAL = END_STATUSES | {NOT_FOUND, UNREACHABLE}
_ROLE_ORDER = {"guest": 0, "host": 1, "arbiter": 2}
# How this server words a job's error when a task failed: "<component>: <role> <party> failed: ..."
_ORIGIN = re.compile(r"^(?P<component>\S+): (?P<role>\S+) (?P<party>\S+) failed: ")


def initiator_row(jobs: pd.DataFrame) -> pd.Series:
    """The initiator's row of ``query_job``'s frame (the first row if none is marked)."""
    if "is_initiator" in jobs:
        marked = jobs[jobs["is_initiator"].astype(bool)]
        if not marked.empty:
            return marked.iloc[0]
    return jobs.iloc[0]


def failing_task(jobs: pd.DataFrame, tasks: pd.DataFrame) -> dict[str, str] | None:
    """The task whose failure ended the job: component_name, role, party_id and its error.

    The job's error names it; without that, the failed task that ended first.
    """
    if tasks.empty:
        return None
    failed = tasks[tasks["status"].isin(["failed", "timeout"])]
    if failed.empty:
        return None
    match = _ORIGIN.match(plain(initiator_row(jobs).get("error")))
    if match:
        origin = failed[
            (failed["component_name"] == match["component"])
            & (failed["role"] == match["role"])
            & (failed["party_id"] == match["party"])
        ]
        failed = origin if not origin.empty else failed
    if "end_time" in failed:
        failed = failed.sort_values("end_time", na_position="last", kind="stable")
    row = failed.iloc[0]
    return {
        "component_name": str(row["component_name"]),
        "role": str(row["role"]),
        "party_id": str(row["party_id"]),
        "error": plain(row.get("error")),
    }


class JobMonitor:
    """Live status of one job: header, progress, a task per component and party, DAG, log.

    Polls the server from a daemon thread, so it keeps updating while other cells run, and
    stops polling when the job ends (success, failed, canceled, timeout). When a task fails,
    the log names it and shows its error and the last lines of its log. Stop stops the job.
    A job id the server does not know ends polling too: the status is ``"not found"`` and
    the log says ``no job <id> on this server``. Other poll errors are logged and retried.

    Parameters
    ----------
    job_id
        The job to watch.
    client
        The server's client; ``FlowClient()`` when None.
    interval
        Seconds between polls; errors back off from there up to 30 s.
    autostart
        Start polling at once; otherwise call ``start()``, or ``refresh()`` for one poll.

    Examples
    --------
    >>> monitor = JobMonitor(job["job_id"])      # doctest: +SKIP
    >>> monitor                                  # doctest: +SKIP
    >>> monitor.wait(timeout=300)                # doctest: +SKIP
    'success'
    """

    def __init__(
        self,
        job_id: str,
        client: FlowClient | None = None,
        interval: float = 1.0,
        autostart: bool = True,
        give_up_after: float = 120.0,
    ) -> None:
        if not isinstance(job_id, str) or not job_id:
            raise InvalidArgument(f"JobMonitor needs a job id (text), not {job_id!r}")
        self.job_id = job_id
        self.client = default_client(client)
        self.interval = interval
        self.give_up_after = give_up_after
        self.header = widgets.HTML(f"<b>Job {html.escape(job_id)}</b>")
        self.progress = widgets.IntProgress(min=0, max=100, description="progress")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop")
        self.stop_button.on_click(lambda _button: self.stop_job())
        self.tasks = widgets.HTML()
        self.dag = DagView(job_id, self.client, load=False)
        self.log = widgets.Output()
        top = widgets.HBox([self.header, self.stop_button])
        self.widget = widgets.VBox([top, self.progress, self.tasks, self.dag.widget, self.log])
        self.task_statuses: dict[tuple[str, str, str], str] = {}
        self.error = ""
        self.failed_task: dict[str, str] | None = None
        self.log_excerpt = ""
        self._status = "unknown"
        self._dependency: dict[str, Any] | None = None
        self._dag_error = ""
        self._lock = threading.RLock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        if autostart:
            self.start()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"JobMonitor({self.job_id!r}, status={self._status!r})"

    @property
    def status(self) -> str:
        """The initiator's status last polled ("unknown" at first, "not found", "unreachable")."""
        return self._status

    @property
    def polling(self) -> bool:
        """Whether the background poller runs."""
        return self._thread is not None and self._thread.is_alive()

    def refresh(self) -> str:
        """Poll once: fetch the job, its tasks, the DAG and a failure's log; return the status."""
        with self._lock:
            try:
                jobs = self.client.query_job(self.job_id)
            except FateFlowError as error:
                if error.retcode != _NO_JOB_RETCODE:
                    raise
                jobs = None
            if jobs is None or jobs.empty:
                self._show_not_found()
                return self._status
            tasks = self.client.query_task(self.job_id)
            if self._dependency is None:
                try:
                    self._dependency = self.client.dag_dependency(self.job_id)
                except Exception as error:  # the rest of the view still works
                    if not self._dag_error:
                        self.note(f"cannot fetch the DAG: {error}")
                    self._dag_error = str(error)
            log = None
            failing = failing_task(jobs, tasks)
            status = str(initiator_row(jobs)["status"])
            # Read the log once the job has ended, so that it holds the task's last words.
            if failing is not None and status in END_STATUSES and failing != self.failed_task:
                try:
                    log = self.client.task_log(
                        self.job_id,
                        failing["component_name"],
                        failing["role"],
                        failing["party_id"],
                        lines=LOG_LINES,
                    )
                except Exception as error:  # shown instead of the log
                    log = f"(cannot read the log: {error})"
            self.apply(jobs, tasks, self._dependency, log)
            return self._status

    def apply(
        self,
        jobs: pd.DataFrame,
        tasks: pd.DataFrame,
        dependency: dict[str, Any] | None = None,
        log: str | None = None,
    ) -> None:
        """Show ``query_job``'s and ``query_task``'s frames, the DAG and a failed task's log."""
        row = initiator_row(jobs)
        status = str(row["status"])
        progress = 0 if pd.isna(row.get("progress")) else int(row["progress"])
        with self._lock:
            self._status = status
            self.error = plain(row.get("error"))
            self.header.value = (
                f"<b>Job {html.escape(self.job_id)}</b> {badge(status)} "
                f"elapsed {duration(_elapsed_s(row))}"
            )
            self.progress.value = max(0, min(100, progress))
            self.progress.bar_style = BAR_STYLES.get(status, "info")
            self.stop_button.disabled = status in END_STATUSES
            self.tasks.value = self._task_table(tasks, dependency)
            if dependency is not None:
                self.dag.apply(dependency, tasks)
            failing = failing_task(jobs, tasks)
            if log is not None and failing is not None:
                self.failed_task, self.log_excerpt = failing, log
            if status in END_STATUSES - {"success"} or failing is not None:
                self._show_failure(failing)

    def _show_not_found(self) -> None:
        self._status = NOT_FOUND
        self.error = f"no job {self.job_id} on this server"
        self.header.value = f"<b>Job {html.escape(self.job_id)}</b> {badge(NOT_FOUND)}"
        self.progress.value, self.progress.bar_style = 0, "danger"
        self.stop_button.disabled = True
        self.tasks.value = ""
        self.log.outputs = ({"output_type": "stream", "name": "stdout", "text": self.error + "\n"},)

    def _task_table(self, tasks: pd.DataFrame, dependency: dict[str, Any] | None) -> str:
        self.task_statuses = {
            (str(t.component_name), str(t.role), str(t.party_id)): str(t.status)
            for t in tasks.itertuples(index=False)
        }
        order = list((dependency or {}).get("component_list") or [])
        order += [name for name, _, _ in self.task_statuses if name not in order]
        parties = sorted(
            {(role, party) for _, role, party in self.task_statuses},
            key=lambda rp: (_ROLE_ORDER.get(rp[0], 9), rp[0], rp[1]),
        )
        rows = []
        for name in order:
            cells: list[Any] = [name]
            for role, party in parties:
                found = self.task_statuses.get((name, role, party))
                cells.append((found, status_color(found)) if found else "")
            rows.append(cells)
        return html_table(["component", *(f"{r} {p}" for r, p in parties)], rows)

    def _show_failure(self, failing: dict[str, str] | None) -> None:
        if failing is None:
            text = f"job {self._status}: {self.error}" if self.error else f"job {self._status}"
        else:
            where = f"{failing['component_name']} {failing['role']} {failing['party_id']}"
            text = f"{where} failed: {failing['error'] or self.error}"
            if self.log_excerpt and self.failed_task == failing:
                text += f"\n--- the last lines of its log ---\n{self.log_excerpt}"
        stream = {"output_type": "stream", "name": "stdout", "text": text + "\n"}
        if self.log.outputs[:1] != (stream,):
            self.log.outputs = (stream,)

    def note(self, message: str) -> None:
        """Add a line to the log (safe from any thread)."""
        self.log.append_stdout(message.rstrip("\n") + "\n")

    def stop_job(self) -> None:
        """Stop the job on the server (what the Stop button does), then poll once."""
        try:
            self.client.stop_job(self.job_id)
            self.refresh()
        except Exception as error:  # a click's error goes to the log
            self.note(f"stop failed: {error}")

    def start(self) -> JobMonitor:
        """Start polling in a daemon thread (if not already); returns at once."""
        if not self.polling:
            self._stop_event.clear()
            self._thread = threading.Thread(
                target=self._poll, name=f"JobMonitor-{self.job_id}", daemon=True
            )
            self._thread.start()
        return self

    def stop_polling(self) -> None:
        """Stop the background poller; the job goes on."""
        self._stop_event.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval + 60)

    def wait(self, timeout: float | None = None) -> str:
        """Wait until polling ends (the job ended) or ``timeout`` seconds; return the status."""
        if self._thread is None and self._status not in _FINAL:
            self.start()
        if self._thread is not None:
            self._thread.join(timeout)
        return self._status

    def close(self) -> None:
        """Stop polling and close the widgets."""
        self.stop_polling()
        self.dag.widget.close()
        self.widget.close()
        for child in (self.header, self.progress, self.stop_button, self.tasks, self.log):
            child.close()

    def _poll(self) -> None:
        delay = self.interval
        answered = time.monotonic()
        while not self._stop_event.is_set():
            try:
                status = self.refresh()
            except ServerError as error:
                # A server that stays away (stopped, crashed) ends the polling, so wait() returns.
                if time.monotonic() - answered >= self.give_up_after:
                    self._status = UNREACHABLE
                    self.error = f"{error}; gave up after {self.give_up_after:g} s"
                    self.note(f"{self.error}; JobMonitor({self.job_id!r}) again once it is back")
                    self.stop_button.disabled = True
                    return
                delay = min(max(delay, 0.1) * 2, MAX_BACKOFF_S)
                self.note(f"poll failed: {error}; retrying in {delay:g} s")
            except Exception as error:  # shown in the log, then retried
                delay = min(max(delay, 0.1) * 2, MAX_BACKOFF_S)
                self.note(f"poll failed: {error}; retrying in {delay:g} s")
            else:
                answered = time.monotonic()
                delay = self.interval
                if status in _FINAL:
                    return
            self._stop_event.wait(delay)


def _elapsed_s(row: pd.Series) -> float:
    """Seconds the job has run: FATE's elapsed once it ended, else since it started."""
    elapsed = row.get("elapsed")
    if elapsed is not None and not pd.isna(elapsed):
        return float(pd.Timedelta(elapsed).total_seconds())
    start = row.get("start_time")
    if start is None or pd.isna(start):
        return 0.0
    return max(0.0, (pd.Timestamp.now(tz="UTC") - pd.Timestamp(start)).total_seconds())
