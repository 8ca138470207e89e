"""What crosses between parties: values round-trip exactly; anything else is refused."""

from __future__ import annotations

import pickle
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from fate_nb.federation.codec import CodecError, IntArray, decode, encode

PAILLIER_SIZED = 2**2047 + 12345


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        -7,
        2**64 - 1,
        -(2**63),
        PAILLIER_SIZED,
        -PAILLIER_SIZED,
        1.5,
        "guest",
        b"\x00\x01",
        {"n": PAILLIER_SIZED, "ids": ["a", "b"], "nested": {"k": [1, 2**70]}},
    ],
)
def test_values_round_trip(value: Any) -> None:
    assert decode(encode(value)) == value


def test_tuples_arrive_as_lists() -> None:
    assert decode(encode((1, (2, 3)))) == [1, [2, 3]]


def test_numpy_arrays_keep_dtype_shape_and_values() -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4) / 7

    back = decode(encode({"x": array, "flags": np.array([True, False])}))

    assert back["x"].dtype == np.float32
    assert back["x"].shape == (3, 4)
    np.testing.assert_array_equal(back["x"], array)
    np.testing.assert_array_equal(back["flags"], [True, False])


def test_int_arrays_pack_big_integers_at_one_width() -> None:
    values = IntArray([0, 1, PAILLIER_SIZED, 2**1024 + 3])

    data = encode(values)

    assert decode(data) == values
    # Four values of 256 bytes each, plus the width and msgpack's framing.
    assert len(data) < 4 * 256 + 16


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.array([object()], dtype=object), "numpy arrays of Python objects"),
        (Fraction(1, 3), "a Fraction cannot cross between parties"),
        ({1: "a"}, "message keys must be strings"),
        ({"x": {2, 3}}, "a set cannot cross between parties"),
    ],
)
def test_other_values_are_refused(value: Any, expected: str) -> None:
    with pytest.raises(CodecError, match=expected):
        encode(value)


def test_negative_values_do_not_fit_an_int_array() -> None:
    with pytest.raises(CodecError, match="non-negative"):
        IntArray([-1])


@pytest.mark.parametrize(
    "data",
    [b"\xc1", pickle.dumps({"a": 1}), b"\xc7\x01\x09x", b"\xc7\x03\x02abc"],
    ids=["reserved byte", "a pickle", "unknown extension", "not an npy array"],
)
def test_bytes_that_are_not_a_message_are_refused(data: bytes) -> None:
    with pytest.raises(CodecError):
        decode(data)
