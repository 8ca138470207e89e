"""Widget tests: a fresh widget registry per test."""

from __future__ import annotations

from collections.abc import Iterator

import ipywidgets as widgets
import pytest


@pytest.fixture(autouse=True)
def _close_widgets() -> Iterator[None]:
    """Close every widget a test made."""
    yield
    widgets.Widget.close_all()
