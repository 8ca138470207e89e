"""Intersection: the sample ids the guest shares with every host, found without showing the rest."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fate_nb.components import _psi
from fate_nb.components.base import Component, TaskContext
from fate_nb.components.params import Params, one_of
from fate_nb.federation import Federation
from fate_nb.flow.errors import ParameterError

log = logging.getLogger(__name__)

RSA, RAW = "rsa", "raw"
GUEST, HOST = _psi.GUEST, _psi.HOST
DEFAULT_RANDOM_BIT = 128
MIN_KEY_LENGTH = 512
# With fewer bits a host could try every blinding factor and undo it.
MIN_RANDOM_BIT = 64

# Switches of FATE's IntersectParam this component does not implement, at their only value here.
_FIXED = {
    "repeated_id_process": False,
    "with_sample_id": False,
    "allow_info_share": False,
    "join_method": "inner_join",
    "new_sample_id": False,
    "run_cache": False,
    "cardinality_only": False,
    "run_preprocess": False,
}


def _encode_defaults() -> dict[str, Any]:
    return {"encode_method": "none", "salt": "", "base64": False}


def _rsa_defaults() -> dict[str, Any]:
    return {
        "salt": "",
        "hash_method": "sha256",
        "final_hash_method": "sha256",
        "split_calculation": False,
        "random_base_fraction": None,
        "key_length": 1024,
        "random_bit": DEFAULT_RANDOM_BIT,
    }


def _raw_defaults() -> dict[str, Any]:
    return {
        "use_hash": False,
        "salt": "",
        "hash_method": "none",
        "base64": False,
        "join_role": GUEST,
    }


@dataclass
class IntersectionParam(Params):
    """FATE's IntersectParam (1.6 to 1.11 keys); features left out are refused unless default."""

    intersect_method: str = RSA
    random_bit: int = DEFAULT_RANDOM_BIT
    sync_intersect_ids: bool = True
    join_role: str = GUEST
    with_encode: bool = False
    only_output_key: bool = False
    encode_params: dict[str, Any] = field(default_factory=_encode_defaults)
    rsa_params: dict[str, Any] = field(default_factory=_rsa_defaults)
    raw_params: dict[str, Any] = field(default_factory=_raw_defaults)
    dh_params: dict[str, Any] = field(default_factory=dict)
    ecdh_params: dict[str, Any] = field(default_factory=dict)
    intersect_cache_param: dict[str, Any] = field(default_factory=dict)
    intersect_preprocess_params: dict[str, Any] = field(default_factory=dict)
    join_method: str = "inner_join"
    new_sample_id: bool = False
    sample_id_generator: str = GUEST
    run_cache: bool = False
    cardinality_only: bool = False
    sync_cardinality: bool = False
    cardinality_method: str = "ecdh"
    run_preprocess: bool = False
    repeated_id_process: bool = False
    repeated_id_owner: str = GUEST
    with_sample_id: bool = False
    allow_info_share: bool = False
    info_owner: str = GUEST

    def check(self, where: str) -> None:
        """Refuse methods, hashes and switches this component does not implement."""
        self.intersect_method = self.intersect_method.lower()
        if self.intersect_method in ("dh", "ecdh"):
            raise ParameterError(
                f"{where}.intersect_method {self.intersect_method!r} is not implemented; "
                "use 'rsa' or 'raw'"
            )
        one_of(self.intersect_method, [RSA, RAW], f"{where}.intersect_method")
        self.join_role = self.join_role.lower()
        one_of(self.join_role, [GUEST, HOST], f"{where}.join_role")
        for key, value in _FIXED.items():
            if getattr(self, key) != value:
                raise ParameterError(
                    f"{where}.{key} is {getattr(self, key)!r}, which fate-nb's Intersection does "
                    f"not implement; leave it at {value!r}"
                )

        _known_keys(self.encode_params, _encode_defaults(), f"{where}.encode_params")
        encode = self.encode_params
        _hash_method(
            encode, "encode_method", ("none", *_psi.HASH_METHODS), f"{where}.encode_params"
        )
        _text(encode["salt"], f"{where}.encode_params.salt")
        if not isinstance(encode["base64"], bool):
            raise ParameterError(f"{where}.encode_params.base64 must be true or false")

        _known_keys(self.rsa_params, _rsa_defaults(), f"{where}.rsa_params")
        rsa = self.rsa_params
        _hash_method(rsa, "hash_method", ("sha256", "sha384", "sha512"), f"{where}.rsa_params")
        _hash_method(rsa, "final_hash_method", _psi.HASH_METHODS, f"{where}.rsa_params")
        _text(rsa["salt"], f"{where}.rsa_params.salt")
        if rsa["split_calculation"] is not False or rsa["random_base_fraction"] is not None:
            raise ParameterError(
                f"{where}.rsa_params: split_calculation and random_base_fraction are not "
                "implemented; leave them at false and null"
            )
        key_length = rsa["key_length"]
        if not _is_int(key_length) or key_length < MIN_KEY_LENGTH:
            raise ParameterError(
                f"{where}.rsa_params.key_length is {key_length!r}; use a whole number of bits, "
                f"at least {MIN_KEY_LENGTH} (FATE's default is 1024)"
            )
        bits = blinding_bits(self)
        if not _is_int(bits) or not MIN_RANDOM_BIT <= bits < key_length:
            raise ParameterError(
                f"{where}.random_bit is {bits!r}; use a whole number from {MIN_RANDOM_BIT} to "
                f"below the key length {key_length} (FATE's default is {DEFAULT_RANDOM_BIT})"
            )

        if self.raw_params != _raw_defaults():
            raise ParameterError(
                f"{where}.raw_params (FATE 1.11) is not implemented; leave it out, and set "
                "join_role, with_encode and encode_params instead"
            )


class Intersection(Component):
    """FATE's Intersection: keep the rows whose ids the guest and every host have in common.

    Every party's input is its DataIO or Reader table, the id in the first column. Messages are
    named as FATE's transfer variables; what crosses and what each party learns:

    RSA (FATE's unified mode; one RSA key per host):

    1. ``host_pubkey`` host -> guest: ``{"e", "n"}`` of a fresh key of ``rsa_params.key_length``
       bits. The guest learns the public key.
    2. ``host_prvkey_ids`` host -> guest: ``H2(H1(y)^d mod n)`` for every host id y, sorted (not
       in row order). H1 is the salted ``rsa_params.hash_method`` digest of the id read as an
       integer, H2 the salted ``final_hash_method`` digest of a number's decimal text. The
       guest learns the host's id count; it cannot compute such a token without ``d``.
    3. ``guest_pubkey_ids`` guest -> host: ``r^e * H1(x) mod n`` for every guest id x, with a
       fresh secret r of ``random_bit`` bits per id and host. Without r these say nothing
       of H1(x): the host learns only the guest's id count.
    4. ``host_sign_guest_ids`` host -> guest: each value of 3 raised to ``d``, in order. The
       guest divides out r, applies H2 and keeps the ids whose token is among those of 2: it
       learns the ids it shares with each host, nothing about the hosts' other ids.
    5. With several hosts the guest keeps the ids shared with all of them.
    6. ``intersect_ids`` guest -> each host, only with ``sync_intersect_ids``: that host's
       tokens (from 2) of the final ids, sorted. The host maps them back to its ids and
       learns the final intersection; without sync the host learns nothing and outputs none.

    RAW (ids, or their salted ``encode_params`` digests when ``with_encode``, cross as they
    are, sorted; the joining side sees all of the other side's ids or digests):

    - join_role guest: ``send_ids_host`` host -> guest; the guest intersects its ids with every
      host's and, with sync, sends the result as ``intersect_ids_guest`` to every host.
    - join_role host: ``send_ids_guest`` guest -> every host; each host intersects and, with
      sync, returns its result as ``intersect_ids_host``; with several hosts the guest sends
      the common part back as ``sync_intersect_ids_multi_hosts``. Without sync the guest
      learns nothing and each host keeps its own intersection with the guest.

    Output: the input rows whose ids are in the intersection, all columns and the schema kept
    (the id column alone, header empty, with ``only_output_key``); a party that did not learn
    the intersection stores an empty table of its columns. Each party logs metric
    ``train/intersection`` (INTERSECTION) with ``intersect_count`` and ``intersect_rate`` over
    its own input rows, -1 and -1 when it did not learn the intersection, as FATE does.
    """

    module = "Intersection"
    roles = frozenset({GUEST, HOST})
    needs_roles = roles
    param_class = IntersectionParam

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Run the chosen protocol with the other parties and keep the common rows."""
        params: IntersectionParam = ctx.params
        where = ctx.task.component_name
        federation = _federation(ctx, where)
        table = ctx.input_table()
        frame, schema = ctx.read_frame(table)
        ids = list(dict.fromkeys(frame[frame.columns[0]].astype(str)))
        ctx.progress(0.1)

        sync = params.sync_intersect_ids
        if params.intersect_method == RSA and ctx.role == GUEST:
            common = _psi.rsa_guest(federation, ids, params.rsa_params, blinding_bits(params), sync)
        elif params.intersect_method == RSA:
            common = _psi.rsa_host(federation, ids, params.rsa_params, sync)
        else:
            encode = params.encode_params
            method = encode["encode_method"] if params.with_encode else "none"
            codes = _psi.encode_ids(ids, method, encode["salt"], encode["base64"])
            raw = _psi.raw_guest if ctx.role == GUEST else _psi.raw_host
            common = raw(federation, codes, params.join_role, sync)
        ctx.progress(0.9)

        output, output_schema = _select(frame, schema, common, params.only_output_key)
        ctx.save_data(output, output_schema, table.partition)
        count, rate = -1, -1.0
        if common is not None:
            count, rate = len(common), len(common) / max(len(frame), 1)
        ctx.log_metric_data(
            "train", "intersection", [("intersect_count", count), ("intersect_rate", rate)]
        )
        ctx.set_metric_meta(
            "train", "intersection", {"name": "intersection", "metric_type": "INTERSECTION"}
        )
        log.info(
            "%s: %s intersection of %s %s: %d of %d ids",
            where,
            params.intersect_method,
            ctx.role,
            ctx.party_id,
            count,
            len(ids),
        )
        return {"intersect_num": count, "intersect_rate": rate, "input_count": len(frame)}


def blinding_bits(params: IntersectionParam) -> Any:
    """The blinding factor's size: FATE 1.11's ``rsa_params.random_bit`` when set, else 1.6's."""
    nested = params.rsa_params.get("random_bit", DEFAULT_RANDOM_BIT)
    return params.random_bit if nested == DEFAULT_RANDOM_BIT else nested


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise ParameterError(f'{where} is {value!r}; use a string ("" for no salt)')


def _known_keys(values: dict[str, Any], defaults: dict[str, Any], where: str) -> None:
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise ParameterError(f"{where} has unknown keys {unknown}; use keys of {sorted(defaults)}")


def _hash_method(values: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> None:
    """Check ``values[key]`` against ``allowed`` and store it in lower case, as FATE does."""
    method = values[key].lower() if isinstance(values[key], str) else values[key]
    if method == "sm3":
        raise ParameterError(f"{where}.{key} 'sm3' is not available here; use one of {allowed}")
    one_of(method, list(allowed), f"{where}.{key}")
    values[key] = method


def _federation(ctx: TaskContext, where: str) -> Federation:
    if ctx.federation is None:
        raise ParameterError(
            f"{where} exchanges ids with the other parties; run it in a job, not on its own"
        )
    if not ctx.federation.parties(HOST):
        raise ParameterError(f"{where} needs at least one host in the job's role list")
    return ctx.federation


def _select(
    frame: pd.DataFrame, schema: dict[str, Any], common: set[str] | None, only_output_key: bool
) -> tuple[pd.DataFrame, dict[str, Any]]:
    id_column = frame.columns[0]
    kept = frame[frame[id_column].astype(str).isin(common or set())].reset_index(drop=True)
    if not only_output_key:
        return kept, schema
    key_schema = {key: value for key, value in schema.items() if key != "label_name"}
    return kept[[id_column]], {**key_schema, "header": []}
