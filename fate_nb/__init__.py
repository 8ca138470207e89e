"""fate-nb: FATE-Flow's v1 job service inside Jupyter, and the notebook side of it.

In a notebook: ``from fate_nb import FlowClient`` for the REST API with DataFrames,
``fate_nb.widgets`` for live views, and ``%load_ext fate_nb`` for the ``%fate`` magics.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# Imported on first use: the server and its workers import fate_nb too, and need none of it.
_LAZY = {
    "FlowClient": "fate_nb.client",
    "FateFlowError": "fate_nb.exceptions",
    "FateNbError": "fate_nb.exceptions",
    "InvalidArgument": "fate_nb.exceptions",
}

__all__ = [
    "FateFlowError",
    "FateNbError",
    "FlowClient",
    "InvalidArgument",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fate_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext fate_nb``: register the ``%fate`` and ``%%fate`` magics."""
    from fate_nb.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext fate_nb``: remove the magics and close their client."""
    from fate_nb.magics import unload_ipython_extension as unload

    unload(ipython)
