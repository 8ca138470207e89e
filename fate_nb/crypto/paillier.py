"""Paillier encryption for vectors of fixed-point numbers, with gmpy2 for the arithmetic.

Keys come from ``phe`` (python-paillier), which also decrypts (with the CRT). Encryption and
the homomorphic operations work on whole vectors of raw ciphertexts, since a federated model
encrypts and combines thousands of values per iteration:

- a real number x is encoded as the integer round(x * 2**bits) modulo n (negative numbers
  wrap around, as in phe); sums and products keep track of their scale in the caller;
- encryption is (1 + m*n) * h**a mod n**2, where h = r**n mod n**2 is part of the public key
  and a is a fresh random exponent of ``OBFUSCATION_BITS`` bits (the Damgård-Jurik-Nielsen
  speed-up: one short exponentiation instead of r**n per value);
- a vector of ciphertexts times a vector of integers, summed (a dot product), is one
  multi-exponentiation with shared squarings.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gmpy2
import numpy as np
import phe

OBFUSCATION_BITS = 256
# Encryption uses a table of powers of h, one row per window of this many exponent bits.
FIXED_BASE_WINDOW = 8

Cipher = Any  # a gmpy2.mpz holding one ciphertext


def encode(values: np.ndarray | Sequence[float], bits: int) -> list[int]:
    """Fixed-point integers round(x * 2**bits) of real numbers (signed)."""
    scaled = np.rint(np.asarray(values, dtype=np.float64) * float(2**bits))
    return [int(value) for value in scaled]


@dataclass(frozen=True)
class PublicKey:
    """n and the obfuscation base h; what the key holder sends to the other parties."""

    n: int
    h: int
    nsquare: Any = field(init=False, repr=False, compare=False)
    _n: Any = field(init=False, repr=False, compare=False)
    _h: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_n", gmpy2.mpz(self.n))
        object.__setattr__(self, "_h", gmpy2.mpz(self.h))
        object.__setattr__(self, "nsquare", self._n * self._n)

    def to_message(self) -> dict[str, int]:
        """The key as a message value."""
        return {"n": self.n, "h": self.h}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> PublicKey:
        """A key received from the key holder."""
        return cls(int(message["n"]), int(message["h"]))

    def encrypt(self, plaintexts: Sequence[int]) -> list[Cipher]:
        """Fresh ciphertexts of signed integers (each reduced modulo n)."""
        n, nsquare = self._n, self.nsquare
        table = self._powers_of_h()
        mask = (1 << FIXED_BASE_WINDOW) - 1
        ciphers = []
        for m in plaintexts:
            # h**a for a random a, from the table: one multiplication per window of a's bits.
            exponent = secrets.randbits(OBFUSCATION_BITS)
            obfuscator = gmpy2.mpz(1)
            for row in table:
                digit = exponent & mask
                if digit:
                    obfuscator = (obfuscator * row[digit]) % nsquare
                exponent >>= FIXED_BASE_WINDOW
            ciphers.append(((1 + (m % n) * n) * obfuscator) % nsquare)
        return ciphers

    def _powers_of_h(self) -> list[list[Any]]:
        """h**(d * 2**(w*k)) for every window k of the exponent and digit d, made once."""
        cached = self.__dict__.get("_table")
        if cached is not None:
            return cached
        nsquare, size = self.nsquare, 1 << FIXED_BASE_WINDOW
        table = []
        base = self._h
        for _ in range(-(-OBFUSCATION_BITS // FIXED_BASE_WINDOW)):
            row = [gmpy2.mpz(1), base]
            for _ in range(size - 2):
                row.append((row[-1] * base) % nsquare)
            table.append(row)
            base = (row[-1] * base) % nsquare
        object.__setattr__(self, "_table", table)
        return table

    def add(self, left: Sequence[Cipher], right: Sequence[Cipher]) -> list[Cipher]:
        """Element-wise sums of two ciphertext vectors."""
        nsquare = self.nsquare
        return [(a * b) % nsquare for a, b in zip(left, right, strict=True)]

    def add_plain(self, ciphers: Sequence[Cipher], plaintexts: Sequence[int]) -> list[Cipher]:
        """Element-wise sums of ciphertexts and signed integers (no new randomness needed)."""
        n, nsquare = self._n, self.nsquare
        return [(c * (1 + (m % n) * n)) % nsquare for c, m in zip(ciphers, plaintexts, strict=True)]

    def mul_plain(self, ciphers: Sequence[Cipher], factors: Sequence[int]) -> list[Cipher]:
        """Element-wise products of ciphertexts and signed integers."""
        return [self._power(c, k) for c, k in zip(ciphers, factors, strict=True)]

    def total(self, ciphers: Sequence[Cipher]) -> Cipher:
        """The encrypted sum of a vector."""
        nsquare = self.nsquare
        result = gmpy2.mpz(1)
        for c in ciphers:
            result = (result * c) % nsquare
        return result

    def dot(self, ciphers: Sequence[Cipher], matrix: np.ndarray) -> list[Cipher]:
        """Encrypted sums over rows: for each column j, the sum of c_i * matrix[i, j]."""
        inverses = [gmpy2.invert(c, self.nsquare) for c in ciphers]
        return [
            self._multi_power(ciphers, inverses, [int(k) for k in matrix[:, j]])
            for j in range(matrix.shape[1])
        ]

    def _power(self, c: Cipher, k: int) -> Cipher:
        if k < 0:
            return gmpy2.powmod(gmpy2.invert(c, self.nsquare), -k, self.nsquare)
        return gmpy2.powmod(c, k, self.nsquare)

    def _multi_power(
        self, bases: Sequence[Cipher], inverses: Sequence[Cipher], exponents: Sequence[int]
    ) -> Cipher:
        """The product of bases[i] ** exponents[i] (inverse bases for negative exponents)."""
        nsquare = self.nsquare
        signed = [
            (b if e >= 0 else inv, abs(e))
            for b, inv, e in zip(bases, inverses, exponents, strict=True)
            if e
        ]
        if not signed:
            return gmpy2.mpz(1)
        top = max(e.bit_length() for _, e in signed)
        window = _best_window(len(signed), top)
        mask = (1 << window) - 1
        result = gmpy2.mpz(1)
        for shift in range(((top - 1) // window) * window, -1, -window):
            for _ in range(window):
                result = (result * result) % nsquare
            buckets: list[Any] = [None] * (mask + 1)
            for base, exponent in signed:
                digit = (exponent >> shift) & mask
                if digit:
                    held = buckets[digit]
                    buckets[digit] = base if held is None else (held * base) % nsquare
            running, window_total = gmpy2.mpz(1), gmpy2.mpz(1)
            for digit in range(mask, 0, -1):
                if buckets[digit] is not None:
                    running = (running * buckets[digit]) % nsquare
                window_total = (window_total * running) % nsquare
            result = (result * window_total) % nsquare
        return result


def _best_window(bases: int, bits: int) -> int:
    """Pippenger's window: each pass costs a product per base and two per bucket."""
    return min(range(1, 17), key=lambda w: -(-bits // w) * (bases + 2 ** (w + 1)))


class KeyPair:
    """A Paillier key pair; only the party that made it can decrypt."""

    def __init__(self, key_length: int) -> None:
        self._public, self._private = phe.generate_paillier_keypair(n_length=key_length)
        n = gmpy2.mpz(self._public.n)
        r = gmpy2.mpz(secrets.randbelow(int(n) - 2) + 2)
        self.public_key = PublicKey(int(n), int(gmpy2.powmod(r, n, n * n)))

    def decrypt(self, ciphers: Sequence[Cipher]) -> list[int]:
        """Signed integers: values above n/2 stand for negative numbers."""
        n = self._public.n
        half = n // 2
        plain = [self._private.raw_decrypt(int(c)) for c in ciphers]
        return [m - n if m > half else m for m in plain]
