"""Request arguments read the way FATE's clients send them."""

from __future__ import annotations

import pytest

from fate_nb.flow import args
from fate_nb.flow.errors import ParameterError

# require


def test_require_accepts_present_arguments() -> None:
    args.require({"namespace": "ns", "table_name": "t", "partition": 0}, "namespace", "partition")


@pytest.mark.parametrize("request_args", [{}, {"namespace": None}, {"namespace": ""}])
def test_require_refuses_missing_or_empty_argument(request_args: dict[str, object]) -> None:
    with pytest.raises(ParameterError, match="missing required arguments: namespace"):
        args.require(request_args, "namespace")


def test_require_names_every_missing_argument() -> None:
    with pytest.raises(ParameterError) as caught:
        args.require({"table_name": "t"}, "namespace", "table_name", "file")
    assert caught.value.message == "missing required arguments: namespace, file"


# text


def test_text_returns_a_string_as_it_is() -> None:
    assert args.text({"namespace": " experiment "}, "namespace") == " experiment "


@pytest.mark.parametrize(("value", "expected"), [(9999, "9999"), (1.5, "1.5")])
def test_text_turns_numbers_into_strings(value: object, expected: str) -> None:
    assert args.text({"party_id": value}, "party_id") == expected


@pytest.mark.parametrize("request_args", [{}, {"name": None}, {"name": ""}])
def test_text_gives_the_default_when_missing_or_empty(request_args: dict[str, object]) -> None:
    assert args.text(request_args, "name", "fallback") == "fallback"
    assert args.text(request_args, "name") is None


@pytest.mark.parametrize("value", [True, ["a"], {"a": 1}])
def test_text_refuses_booleans_and_containers(value: object) -> None:
    with pytest.raises(ParameterError, match="^name must be a string"):
        args.text({"name": value}, "name")


# integer


@pytest.mark.parametrize(
    ("value", "expected"), [(16, 16), ("16", 16), (" 16 ", 16), ("-3", -3), (2.0, 2), (0, 0)]
)
def test_integer_accepts_numbers_and_numeric_strings(value: object, expected: int) -> None:
    assert args.integer({"partition": value}, "partition") == expected


@pytest.mark.parametrize("request_args", [{}, {"partition": None}, {"partition": ""}])
def test_integer_gives_the_default_when_missing_or_empty(request_args: dict[str, object]) -> None:
    assert args.integer(request_args, "partition", 16) == 16
    assert args.integer(request_args, "partition") is None


@pytest.mark.parametrize("value", [True, False])
def test_integer_refuses_booleans(value: bool) -> None:
    with pytest.raises(ParameterError, match="^partition must be an integer, got"):
        args.integer({"partition": value}, "partition")


@pytest.mark.parametrize("value", [2.5, "2.5", float("nan"), float("inf"), "many", "1e3", [4]])
def test_integer_refuses_fractions_and_non_numbers(value: object) -> None:
    with pytest.raises(ParameterError) as caught:
        args.integer({"partition": value}, "partition")
    assert caught.value.message == f"partition must be an integer, got {value!r}"


@pytest.mark.parametrize("value", [1, 8, 1024])
def test_integer_accepts_values_on_and_inside_the_bounds(value: int) -> None:
    assert args.integer({"partition": value}, "partition", minimum=1, maximum=1024) == value


@pytest.mark.parametrize("value", [0, 1025, "2000"])
def test_integer_out_of_range_names_both_bounds_and_the_value(value: object) -> None:
    with pytest.raises(ParameterError) as caught:
        args.integer({"partition": value}, "partition", minimum=1, maximum=1024)
    assert caught.value.message == f"partition must be between 1 and 1024, got {int(value)}"


def test_integer_below_a_lone_minimum_says_at_least() -> None:
    with pytest.raises(ParameterError) as caught:
        args.integer({"limit": -1}, "limit", minimum=0)
    assert caught.value.message == "limit must be at least 0, got -1"


def test_integer_above_a_lone_maximum_says_at_most() -> None:
    with pytest.raises(ParameterError) as caught:
        args.integer({"limit": 11}, "limit", maximum=10)
    assert caught.value.message == "limit must be at most 10, got 11"


def test_integer_default_is_not_range_checked() -> None:
    assert args.integer({}, "limit", None, minimum=0) is None


# flag


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("0", False),
        ("true", True),
        ("false", False),
        ("True", True),
        (" FALSE ", False),
        (1, True),
        (0, False),
        (True, True),
        (False, False),
    ],
)
def test_flag_reads_numbers_words_and_booleans(value: object, expected: bool) -> None:
    assert args.flag({"head": value}, "head", not expected) is expected


@pytest.mark.parametrize("request_args", [{}, {"head": None}, {"head": ""}])
def test_flag_gives_the_default_when_missing_or_empty(request_args: dict[str, object]) -> None:
    assert args.flag(request_args, "head", True) is True
    assert args.flag(request_args, "head", False) is False


@pytest.mark.parametrize("value", [2, -1, "2", "maybe", "on", 1.5])
def test_flag_refuses_other_values_naming_the_argument(value: object) -> None:
    with pytest.raises(ParameterError) as caught:
        args.flag({"head": value}, "head", True)
    assert caught.value.message == f"head must be 0 or 1 (or true/false), got {value!r}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"timeout": NaN}', "the body is not valid JSON: NaN is not a JSON number"),
        ('{"timeout": -Infinity}', "the body is not valid JSON: -Infinity is not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, "the body is nested too deeply; at most 64 levels"),
        ('{"a": ' * 65 + "1" + "}" * 65, "the body is nested too deeply; at most 64 levels"),
        ("[1, 2]", "the body must be a JSON object, not a list"),
        ("null", "the body must be a JSON object, not a NoneType"),
        ("{", "the body is not valid JSON: Expecting property name"),
    ],
)
def test_json_object_refuses_what_json_does_not_allow(text: str, expected: str) -> None:
    with pytest.raises(ParameterError) as raised:
        args.json_object(text, "the body")

    assert raised.value.message.startswith(expected)


def test_json_object_takes_sixty_four_levels() -> None:
    text = '{"a": ' * 64 + "1" + "}" * 64

    assert args.json_object(text, "the body")["a"]["a"]["a"]
