"""fate-nb's Jupyter server extension: FATE-Flow's v1 REST API on the Jupyter server."""

from __future__ import annotations

from typing import Any

from jupyter_ext.app import FateApp


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "jupyter_ext", "app": FateApp}]


__all__ = ["FateApp"]
