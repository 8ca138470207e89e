"""What may cross between parties, and how it is written: msgpack with three extension types.

Allowed values are JSON-like ones (None, bool, int, float, str, bytes, lists, tuples as lists,
dicts with str keys), integers of any size (Paillier ciphertexts, RSA values), numpy arrays of
numbers, bools or fixed-width strings, and ``IntArray``: a sequence of non-negative big
integers packed at one width. Anything else is refused when it is written; nothing is ever
unpickled when it is read.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import msgpack
import numpy as np

BIG_INT, NDARRAY, INT_ARRAY = 1, 2, 3
# Integers msgpack holds natively; larger ones go as BIG_INT.
_NATIVE_MIN, _NATIVE_MAX = -(2**63), 2**64 - 1


class CodecError(ValueError):
    """A value that may not cross between parties, or bytes that are not a message."""


class IntArray(Sequence[int]):
    """Non-negative big integers (such as ciphertexts) packed big-endian at one width."""

    def __init__(self, values: Iterable[int]) -> None:
        self.values = [int(value) for value in values]
        if any(value < 0 for value in self.values):
            raise CodecError("IntArray holds non-negative integers only")

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: Any) -> Any:
        return self.values[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntArray) and self.values == other.values

    def __hash__(self) -> int:
        return hash(tuple(self.values))

    def pack(self) -> bytes:
        """Width (4 bytes) then every value at that width."""
        width = max((value.bit_length() + 7) // 8 for value in self.values) if self.values else 0
        parts = [width.to_bytes(4, "big")]
        parts += [value.to_bytes(width, "big") for value in self.values]
        return b"".join(parts)

    @classmethod
    def unpack(cls, data: bytes) -> IntArray:
        """The values packed by ``pack``."""
        width = int.from_bytes(data[:4], "big")
        body = data[4:]
        if width == 0:
            return cls([])
        if len(body) % width:
            raise CodecError("an IntArray's bytes are not a whole number of values")
        return cls(int.from_bytes(body[i : i + width], "big") for i in range(0, len(body), width))


def _default(value: Any) -> msgpack.ExtType:
    if isinstance(value, IntArray):
        return msgpack.ExtType(INT_ARRAY, value.pack())
    if isinstance(value, int) and not isinstance(value, bool):
        sign = b"-" if value < 0 else b"+"
        magnitude = abs(value)
        return msgpack.ExtType(
            BIG_INT, sign + magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")
        )
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise CodecError("numpy arrays of Python objects cannot cross between parties")
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return msgpack.ExtType(NDARRAY, buffer.getvalue())
    if isinstance(value, np.generic):
        return value.item()
    raise CodecError(f"a {type(value).__name__} cannot cross between parties")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == BIG_INT:
        magnitude = int.from_bytes(data[1:], "big")
        return -magnitude if data[:1] == b"-" else magnitude
    if code == NDARRAY:
        return np.load(io.BytesIO(data), allow_pickle=False)
    if code == INT_ARRAY:
        return IntArray.unpack(data)
    raise CodecError(f"unknown extension type {code} in a message")


def _wrap_ints(value: Any) -> Any:
    """Integers beyond msgpack's 64 bits, anywhere in the value, become BIG_INT extensions."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return _default(value) if not _NATIVE_MIN <= value <= _NATIVE_MAX else value
    if isinstance(value, (list, tuple)):
        return [_wrap_ints(item) for item in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CodecError(f"message keys must be strings, got {type(key).__name__}")
        return {key: _wrap_ints(item) for key, item in value.items()}
    return value


def encode(value: Any) -> bytes:
    """The bytes of a message."""
    try:
        return msgpack.packb(_wrap_ints(value), default=_default, use_bin_type=True)
    except (TypeError, OverflowError) as error:
        raise CodecError(f"this value cannot cross between parties: {error}") from None


def decode(data: bytes) -> Any:
    """A message's value; raises CodecError on anything that is not a well-formed message."""
    try:
        return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=True)
    except CodecError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException) as error:
        raise CodecError(f"a message could not be read: {error}") from None
