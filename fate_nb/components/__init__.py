"""Components, by FATE module name, and what a running task hands them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from fate_nb.flow.config import FlowConfig
from fate_nb.flow.store import Task


@dataclass
class TaskContext:
    """One task of one party, as a component sees it."""

    config: FlowConfig
    engine: Engine
    task: Task
    parameters: dict[str, Any]
    progress: Callable[[float], None]


Component = Callable[[TaskContext], dict[str, Any]]


# Module name -> the module holding its ``run``; imported when first needed.
_REGISTRY = {
    "Upload": "fate_nb.components.upload",
    "Download": "fate_nb.components.download",
}


def get_component(module_name: str) -> Component:
    """The function that runs ``module_name``; it returns the task's summary."""
    try:
        module = importlib.import_module(_REGISTRY[module_name])
    except KeyError:
        raise LookupError(f"no component named {module_name!r}") from None
    run: Component = module.run
    return run


def preload_components() -> None:
    """Import every component, so that a standby worker starts its task at once."""
    for module in _REGISTRY.values():
        importlib.import_module(module)
