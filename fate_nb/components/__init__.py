"""Components, by FATE module name, and what a running task hands them."""

from __future__ import annotations

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


def get_component(module_name: str) -> Component:
    """The function that runs ``module_name``; it returns the task's summary."""
    from fate_nb.components import download, upload

    registry: dict[str, Component] = {"Upload": upload.run, "Download": download.run}
    try:
        return registry[module_name]
    except KeyError:
        raise LookupError(f"no component named {module_name!r}") from None
