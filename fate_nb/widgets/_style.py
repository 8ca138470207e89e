"""What the widgets share: status colours, HTML helpers and the default client."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from fate_nb.client import FlowClient

END_STATUSES = frozenset({"success", "failed", "canceled", "timeout"})

# Fill colours by FATE status: waiting grey, running blue, success green, failed red,
# canceled and timeout orange. Statuses FATE may add later are white.
STATUS_COLORS = {
    "waiting": "#d9d9d9",
    "ready": "#d9d9d9",
    "running": "#6fa8dc",
    "success": "#93c47d",
    "failed": "#e06666",
    "canceled": "#f6b26b",
    "timeout": "#f6b26b",
}
UNKNOWN_COLOR = "#ffffff"

# IntProgress bar styles by status.
BAR_STYLES = {"success": "success", "failed": "danger", "canceled": "warning", "timeout": "warning"}

_CELL = "padding:2px 8px;border:1px solid #ccc;"


def status_color(status: str | None) -> str:
    """The fill colour of a status."""
    return STATUS_COLORS.get(str(status or "").lower(), UNKNOWN_COLOR)


def default_client(client: FlowClient | None) -> FlowClient:
    """The given client, or a new one that finds the server by itself."""
    if client is not None:
        return client
    from fate_nb.client import FlowClient

    return FlowClient()


def badge(status: str) -> str:
    """A status as a small coloured HTML label."""
    return (
        f'<span style="background:{status_color(status)};padding:1px 6px;'
        f'border-radius:3px">{html.escape(status)}</span>'
    )


def html_table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], colors: Iterable[str | None] = ()
) -> str:
    """An HTML table; each cell is text, or ``(text, background colour)``."""
    head = "".join(f'<th style="{_CELL}text-align:left">{html.escape(h)}</th>' for h in header)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            text, color = cell if isinstance(cell, tuple) else (cell, None)
            style = _CELL + (f"background:{color};" if color else "")
            cells.append(f'<td style="{style}">{html.escape(plain(text))}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        '<table style="border-collapse:collapse;font-size:90%">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def frame_table(frame: pd.DataFrame, max_rows: int = 50) -> str:
    """A DataFrame's first rows as an HTML table, with a note of how many there are."""
    shown = frame.head(max_rows)
    table = html_table([str(c) for c in shown.columns], shown.itertuples(index=False))
    if len(frame) > max_rows:
        table += f"<div><i>{max_rows} of {len(frame)} rows</i></div>"
    return table


def plain(value: Any) -> str:
    """A cell value as short text: missing as empty, times without microseconds."""
    if value is None or (not isinstance(value, list | dict | tuple) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, pd.Timedelta):
        return duration(value.total_seconds())
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def duration(seconds: float) -> str:
    """Seconds as ``1h 02m 03s``, ``2m 03s`` or ``4.2s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def error_html(message: str) -> str:
    """An error message in red, HTML-escaped."""
    return f'<div style="color:#b00020;white-space:pre-wrap">{html.escape(message)}</div>'
