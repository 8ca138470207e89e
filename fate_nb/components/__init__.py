"""Components, by FATE module name: every ``Component`` subclass in this package."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil

from fate_nb.components.base import Component, TaskContext
from fate_nb.components.params import Params

__all__ = ["Component", "Params", "TaskContext", "get_component", "module_roles", "registry"]

# Modules of this package that hold shared code, not components.
_SUPPORT_MODULES = frozenset({"base", "params"})


@functools.cache
def registry() -> dict[str, type[Component]]:
    """Every component class, by module name; the package's modules are imported once."""
    found: dict[str, type[Component]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in _SUPPORT_MODULES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for _, member in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(member, Component)
                and member is not Component
                and member.__module__ == module.__name__
            ):
                if member.module in found:
                    raise RuntimeError(f"two components are called {member.module!r}")
                found[member.module] = member
    return found


def get_component(module_name: str) -> type[Component]:
    """The class of module ``module_name``."""
    try:
        return registry()[module_name]
    except KeyError:
        raise LookupError(f"no component named {module_name!r}") from None


def module_roles(*, dsl_only: bool = False) -> dict[str, frozenset[str]]:
    """The roles each module runs on (only modules a DSL may name, with ``dsl_only``)."""
    return {
        name: component.roles
        for name, component in registry().items()
        if component.in_dsl or not dsl_only
    }
