"""Component parameters: dataclasses with FATE's names and defaults, filled from a job's conf."""

from __future__ import annotations

import copy
import dataclasses
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from fate_nb.flow.errors import ParameterError

P = TypeVar("P", bound="Params")


@dataclasses.dataclass
class Params:
    """Base of every component's parameters; ``need_run`` is common to all of them.

    Subclasses declare fields with FATE's defaults. Values from the conf are checked against
    the default's type: a bool stays a bool, numbers accept ints and floats, and an object
    default is merged key by key with the conf's object. ``check`` adds each component's rules.
    """

    need_run: bool = True

    @classmethod
    def from_conf(cls: type[P], values: Mapping[str, Any], where: str) -> tuple[P, list[str]]:
        """Parameters from merged conf values, and the keys the component does not know."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        unknown: list[str] = []
        for key, value in values.items():
            if key not in known:
                unknown.append(key)
                continue
            kwargs[key] = _coerce(value, _default(known[key]), hints[key], f"{where}.{key}")
        params = cls(**kwargs)
        params.check(where)
        return params, unknown

    def check(self, where: str) -> None:
        """Refuse values outside what the component supports; ``where`` names the conf place."""

    def as_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready object."""
        return dataclasses.asdict(self)


def one_of(value: Any, allowed: Iterable[Any], where: str) -> None:
    """Refuse ``value`` unless it is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ParameterError(f"{where} is {value!r}; use one of {allowed}")


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _coerce(value: Any, default: Any, hint: Any, where: str) -> Any:
    """Check a conf value against its field's default and type hint; merge objects."""
    if value is None:
        if default is None or type(None) in typing.get_args(hint):
            return None
        raise ParameterError(f"{where} must not be null")
    # A field typed ``int | list[int]`` (FATE's "-1 or a list of indexes") takes either form.
    containers = {typing.get_origin(arg) or arg for arg in typing.get_args(hint)}
    if isinstance(value, list) and list in containers:
        return copy.deepcopy(value)
    if isinstance(value, Mapping) and dict in containers and not isinstance(default, dict):
        return copy.deepcopy(dict(value))
    if isinstance(default, bool) or hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ParameterError(f"{where} must be true or false, got {value!r}")
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"{where} must be a number, got {value!r}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ParameterError(f"{where} must be a string, got {value!r}")
        return value
    if isinstance(default, dict):
        if not isinstance(value, Mapping):
            raise ParameterError(f"{where} must be an object, got {value!r}")
        merged = copy.deepcopy(default)
        for key, item in value.items():
            if isinstance(item, Mapping) and isinstance(merged.get(key), dict):
                merged[key] = _coerce(item, merged[key], dict, f"{where}.{key}")
            else:
                merged[key] = copy.deepcopy(item)
        return merged
    return copy.deepcopy(value)
