"""Reading request arguments the way FATE's clients send them: numbers and flags as strings too."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fate_nb.flow.errors import ParameterError

_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


def require(args: Mapping[str, Any], *names: str) -> None:
    """Refuse the request when any of ``names`` is missing or empty."""
    missing = [name for name in names if args.get(name) in (None, "")]
    if missing:
        raise ParameterError(f"missing required arguments: {', '.join(missing)}")


def text(args: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    """A string argument; numbers are accepted and turned into strings."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ParameterError(f"{name} must be a string, not {type(value).__name__}")
    return str(value)


def integer(
    args: Mapping[str, Any],
    name: str,
    default: int | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """An integer argument given as a number or a string such as ``"16"``."""
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        number = int(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be an integer, got {value!r}") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        if minimum is not None and maximum is not None:
            allowed = f"between {minimum} and {maximum}"
        elif minimum is not None:
            allowed = f"at least {minimum}"
        else:
            allowed = f"at most {maximum}"
        raise ParameterError(f"{name} must be {allowed}, got {number}")
    return number


def flag(args: Mapping[str, Any], name: str, default: bool) -> bool:
    """A 0/1 or true/false argument, as a number, a boolean or a string."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ParameterError(f"{name} must be 0 or 1 (or true/false), got {value!r}")


MAX_JSON_DEPTH = 64


def json_object(text: str | bytes, what: str) -> dict[str, Any]:
    """A JSON object from a request: strict JSON (no NaN), nested at most ``MAX_JSON_DEPTH``."""

    too_deep = f"{what} is nested too deeply; at most {MAX_JSON_DEPTH} levels"

    def refuse_constant(name: str) -> None:
        raise ParameterError(f"{what} is not valid JSON: {name} is not a JSON number")

    try:
        parsed = json.loads(text, parse_constant=refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ParameterError(f"{what} is not valid JSON: {error}") from None
    except RecursionError:
        raise ParameterError(too_deep) from None
    if _depth(parsed) > MAX_JSON_DEPTH:
        raise ParameterError(too_deep)
    if not isinstance(parsed, dict):
        raise ParameterError(f"{what} must be a JSON object, not a {type(parsed).__name__}")
    return parsed


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value``, found without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, level = pending.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level)
            pending.extend((item, level + 1) for item in node)
    return deepest
