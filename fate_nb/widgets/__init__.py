"""Live notebook views of fate-nb: jobs, their DAGs, metrics, tables, and a job editor.

Each widget talks to the server only through a ``FlowClient`` (its ``client`` argument, or
``FlowClient()``), works from a plain script too, and displays itself as a cell's last line.
"""

from __future__ import annotations

from fate_nb.widgets.dag import DagView, InvalidDsl, parse_dsl
from fate_nb.widgets.jobs import JobList
from fate_nb.widgets.metrics import MetricsView
from fate_nb.widgets.monitor import JobMonitor
from fate_nb.widgets.submitter import JobSubmitter
from fate_nb.widgets.tables import TableBrowser

__all__ = [
    "DagView",
    "InvalidDsl",
    "JobList",
    "JobMonitor",
    "JobSubmitter",
    "MetricsView",
    "TableBrowser",
    "parse_dsl",
]
