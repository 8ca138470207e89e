"""TableBrowser: the uploaded tables with their counts and schemas, and a preview of one."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from fate_nb.exceptions import FateNbError
from fate_nb.widgets._style import default_client, error_html, frame_table, html_table

if TYPE_CHECKING:
    from fate_nb.client import FlowClient


class TableBrowser:
    """The tables uploaded to the server, with counts and schemas; pick one to preview it.

    Parameters
    ----------
    client
        The server's client; ``FlowClient()`` when None.
    limit
        How many recent uploads to list (a table uploaded again shows once, its newest).
    preview_rows
        How many rows a preview shows.

    Examples
    --------
    >>> browser = TableBrowser()                                       # doctest: +SKIP
    >>> browser.select.value = ("experiment", "breast_hetero_guest")   # doctest: +SKIP
    """

    def __init__(
        self, client: FlowClient | None = None, limit: int = 100, preview_rows: int = 20
    ) -> None:
        self.client = default_client(client)
        self.limit, self.preview_rows = limit, preview_rows
        self.tables = pd.DataFrame()
        self.table = widgets.HTML()
        self.select = widgets.Dropdown(description="preview", options=[("", None)], value=None)
        self.select.observe(self._on_select, names="value")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _button: self._safely(self.refresh))
        self.preview_html = widgets.HTML()
        controls = widgets.HBox([self.select, self.refresh_button])
        self.widget = widgets.VBox([self.table, controls, self.preview_html])
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def refresh(self) -> pd.DataFrame:
        """Fetch the upload history and list its tables; return them, one row per table."""
        self.apply(self.client.upload_history(limit=self.limit))
        return self.tables

    def apply(self, history: pd.DataFrame) -> None:
        """List ``upload_history``'s tables: namespace, name, count, partitions, features."""
        tables = history.drop_duplicates(["namespace", "table_name"]).reset_index(drop=True)
        self.tables = tables
        rows = [
            (
                row.namespace,
                row.table_name,
                row.count,
                getattr(row, "partition", ""),
                _schema(getattr(row, "header", None)),
            )
            for row in tables.itertuples(index=False)
        ]
        header = ["namespace", "table_name", "count", "partition", "schema"]
        self.table.value = html_table(header, rows) if rows else "<i>No tables uploaded.</i>"
        options = [("", None)] + [
            (f"{row.namespace}.{row.table_name}", (str(row.namespace), str(row.table_name)))
            for row in tables.itertuples(index=False)
        ]
        current = self.select.value
        self.select.options = options
        self.select.value = current if current in dict(options).values() else None

    def preview(self, namespace: str, table_name: str) -> pd.DataFrame:
        """Show and return a table's first rows (``table_preview``)."""
        frame = self.client.table_preview(namespace, table_name, limit=self.preview_rows)
        total = frame.attrs.get("total")
        self.preview_html.value = (
            f"<b>{html.escape(namespace)}.{html.escape(table_name)}</b>: {total} rows"
            + frame_table(frame, max_rows=self.preview_rows)
        )
        return frame

    def _on_select(self, change: dict[str, Any]) -> None:
        if change["new"] is None:
            self.preview_html.value = ""
        else:
            self._safely(lambda: self.preview(*change["new"]))

    def _safely(self, action: Any) -> None:
        try:
            action()
        except FateNbError as error:
            self.preview_html.value = error_html(str(error))


def _schema(header: Any) -> str:
    """A table's feature names, shortened past eight."""
    names = [str(name) for name in header] if isinstance(header, list | tuple) else []
    if not names:
        return ""
    shown = ", ".join(names[:8]) + (f", ... ({len(names)} columns)" if len(names) > 8 else "")
    return shown
