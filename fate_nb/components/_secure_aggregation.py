"""Secure aggregation: pairwise masks that hide each client's upload and cancel in the sum.

Every pair of clients agrees on a secret by Diffie-Hellman in RFC 3526's 2048-bit MODP group
(generator 2), sending its public key straight to the other client; the server never receives
one. SHA-256 of the shared value seeds numpy's PCG64, which expands it into a fresh mask for
each (step, phase) of training. Uploads are fixed-point integers modulo 2**64: of each pair,
the client earlier in the order adds the pair's mask and the later one subtracts it. One
upload is then uniformly random to the server, while the sum of all uploads is the plain sum.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from typing import TYPE_CHECKING, Any

import gmpy2
import numpy as np

from fate_nb.flow.errors import DataError

if TYPE_CHECKING:
    from fate_nb.federation import Federation

# Fractional bits of the fixed-point values: 2**-24 is far below any weight's precision need,
# and leaves 39 bits of magnitude for count * weight.
FIXED_POINT_BITS = 24
GENERATOR = 2
KEY_BYTES = 256
DH_MESSAGE = "dh_pubkey"

Client = tuple[str, str]


@functools.cache
def modp_prime() -> int:
    """RFC 3526's 2048-bit safe prime, built from its definition in terms of the digits of pi."""
    with gmpy2.context(precision=2300):
        pi_bits = int(gmpy2.floor(gmpy2.const_pi() * gmpy2.mpz(2) ** 1918))
    return 2**2048 - 2**1984 - 1 + 2**64 * (pi_bits + 124476)


def client_order(fed: Federation) -> list[Client]:
    """The clients of a job, guests then hosts, in conf order."""
    return [("guest", party) for party in fed.parties("guest")] + [
        ("host", party) for party in fed.parties("host")
    ]


def from_clients(fed: Federation, name: str, tag: str | int) -> list[Any]:
    """Message ``name`` from every client, in client order."""
    return [fed.get(name, tag, role, [party])[0] for role, party in client_order(fed)]


def to_clients(fed: Federation, value: Any, name: str, tag: str | int) -> None:
    """Send ``value`` to every client."""
    for role in ("guest", "host"):
        if fed.parties(role):
            fed.remote(value, name, tag, role)


def to_fixed_point(values: np.ndarray, clients: int) -> np.ndarray:
    """``values`` at 2**FIXED_POINT_BITS modulo 2**64, small enough for ``clients`` to sum."""
    scaled = np.rint(np.asarray(values, dtype=np.float64) * 2.0**FIXED_POINT_BITS)
    limit = 2.0**63 / clients
    if not np.all(np.isfinite(scaled)) or np.any(np.abs(scaled) >= limit):
        raise DataError(
            "a value to aggregate is too large for secure aggregation's fixed-point integers "
            f"(|value| must stay below {limit / 2.0**FIXED_POINT_BITS:.3g}); lower "
            "learning_rate or raise alpha"
        )
    return scaled.astype(np.int64).view(np.uint64)


def unmasked_sum(uploads: list[np.ndarray]) -> np.ndarray:
    """The plain sum of every client's masked upload: the masks cancel modulo 2**64."""
    total = np.zeros(len(uploads[0]), dtype=np.uint64)
    for upload in uploads:
        part = np.asarray(upload)
        if part.dtype != np.uint64 or part.shape != total.shape:
            raise DataError(
                f"a masked upload is {part.dtype} of shape {part.shape}, not uint64 of shape "
                f"{total.shape}; every client must train on the same features"
            )
        total += part
    return total.view(np.int64).astype(np.float64) / 2.0**FIXED_POINT_BITS


class PairwiseMasks:
    """One client's mask seeds with every other client, and the masks they expand to."""

    def __init__(self, me: Client, seeds: dict[Client, int], order: list[Client]) -> None:
        self.me = me
        self.seeds = seeds
        self.order = order

    @classmethod
    def agree(cls, fed: Federation, me: Client, order: list[Client]) -> PairwiseMasks:
        """Agree on a seed with every other client by Diffie-Hellman, client to client."""
        prime = modp_prime()
        order_q = (prime - 1) // 2
        private = secrets.randbelow(order_q - 2) + 2
        public = int(gmpy2.powmod(GENERATOR, private, prime))
        others = [client for client in order if client != me]
        for role, party in others:
            fed.remote(public, DH_MESSAGE, "setup", role, [party])

        seeds = {}
        for role, party in others:
            (theirs,) = fed.get(DH_MESSAGE, "setup", role, [party])
            # A key outside the prime-order subgroup would leak bits of our private key.
            if not (
                isinstance(theirs, int)
                and 1 < theirs < prime - 1
                and gmpy2.powmod(theirs, order_q, prime) == 1
            ):
                raise DataError(
                    f"{role} {party} sent a Diffie-Hellman key outside RFC 3526's group; "
                    "run every party with the same fate-nb version"
                )
            shared = int(gmpy2.powmod(theirs, private, prime)).to_bytes(KEY_BYTES, "big")
            seeds[(role, party)] = int.from_bytes(hashlib.sha256(shared).digest(), "big")
        return cls(me, seeds, order)

    def mask(self, values: np.ndarray, step: int, phase: int) -> np.ndarray:
        """``values`` in fixed point plus this client's masks for ``(step, phase)``."""
        masked = to_fixed_point(values, len(self.order))
        position = self.order.index(self.me)
        for other, seed in self.seeds.items():
            stream = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(step, phase)))
            pad = stream.random_raw(len(masked))
            if position < self.order.index(other):
                masked += pad
            else:
                masked -= pad
        return masked
