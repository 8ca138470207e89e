"""TableBrowser: the uploaded breast tables, their counts and schemas, a preview."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from fate_nb import examples
from fate_nb.client import FlowClient
from fate_nb.widgets import TableBrowser

GUEST = (examples.NAMESPACE, examples.GUEST_TABLE["name"])
HOST = (examples.NAMESPACE, examples.HOST_TABLE["name"])


def test_the_breast_tables_are_listed_with_counts_and_schemas(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """Each uploaded table once, with 569 rows and its features."""
    browser = TableBrowser(session_client)

    tables = browser.tables.set_index(["namespace", "table_name"])
    assert tables.loc[GUEST, "count"] == 569
    assert tables.loc[HOST, "count"] == 569
    assert not browser.tables.duplicated(["namespace", "table_name"]).any()
    shown = html.unescape(browser.table.value)
    assert "breast_hetero_guest" in shown and "569" in shown
    assert "y, x0, x1, x2, x3, x4, x5, x6, ... (11 columns)" in shown
    assert GUEST in [value for _, value in browser.select.options]


def test_choosing_a_table_previews_it(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """Selecting the guest table shows its first rows and its total; a missing table's error
    is shown instead of raised."""
    browser = TableBrowser(session_client, preview_rows=5)
    browser.select.value = GUEST

    shown = html.unescape(browser.preview_html.value)
    assert "<b>experiment.breast_hetero_guest</b>: 569 rows" in shown
    assert "x9" in shown
    frame = browser.preview(*GUEST)
    assert list(frame.columns[:3]) == ["id", "y", "x0"]
    assert len(frame) == 5 and frame.attrs["total"] == 569
    assert pd.api.types.is_string_dtype(frame["id"])

    browser._on_select({"new": (examples.NAMESPACE, "no_such_table")})
    assert "table 'no_such_table' in namespace 'experiment' does not exist" in html.unescape(
        browser.preview_html.value
    )
    browser.select.value = None
    assert browser.preview_html.value == ""
