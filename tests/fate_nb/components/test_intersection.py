"""Intersection: guest and hosts run at once in threads and talk through a real broker."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gmpy2
import pandas as pd
import pytest
from csv_files import DATA_DIR

from fate_nb.components import _psi, module_roles
from fate_nb.components.intersection import Intersection, IntersectionParam
from fate_nb.federation import IntArray
from fate_nb.federation.codec import decode
from fate_nb.flow import tracking
from fate_nb.flow.errors import ParameterError
from fate_nb.flow.store import DataTable

if TYPE_CHECKING:
    from conftest import Flow, RunningBroker

    from fate_nb.components import TaskContext

GUEST, HOST, HOST_2 = ("guest", "9999"), ("host", "10000"), ("host", "10001")
ONE_HOST = {"guest": [9999], "host": [10000], "arbiter": [10000]}
TWO_HOSTS = {"guest": [9999], "host": [10000, 10001], "arbiter": [10000]}
FAST_RSA = {"intersect_method": "rsa", "rsa_params": {"key_length": 512}}
RAW = {"intersect_method": "raw"}


@dataclass
class Done:
    """A finished party: its context and summary, and readers of what it stored."""

    ctx: TaskContext
    summary: dict[str, Any]

    def output(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        task = self.ctx.task
        table = tracking.output_table(
            self.ctx.engine, task.job_id, task.component_name, task.role, task.party_id, "data"
        )
        return self.ctx.read_frame(table)

    def ids(self) -> set[str]:
        frame, _ = self.output()
        return set(frame["id"].astype(str))

    def metric(self) -> dict[str, Any]:
        task = self.ctx.task
        found = tracking.metrics(
            self.ctx.engine, task.job_id, task.component_name, task.role, task.party_id
        )
        return found["train"]["intersection"]


def intersect(
    flow: Flow,
    broker: RunningBroker,
    tables: dict[tuple[str, str], DataTable],
    conf: dict[str, Any],
    roles: dict[str, list[int]] = ONE_HOST,
) -> dict[tuple[str, str], Done]:
    """Run Intersection on every party of ``tables`` at once, each in its own thread."""
    component = broker.new_component()
    contexts = {}
    for party, table in tables.items():
        ctx = flow.context("Intersection", conf, data=table, party=party)
        ctx.roles = roles
        ctx.federation = broker.client(ctx, component, roles)
        contexts[party] = ctx

    with ThreadPoolExecutor(len(contexts)) as pool:
        futures = {party: pool.submit(Intersection().run, ctx) for party, ctx in contexts.items()}
        _, pending = wait(futures.values(), timeout=120, return_when=FIRST_EXCEPTION)
        if pending:
            broker.drop_job(next(iter(contexts.values())).task.job_id)
        return {party: Done(contexts[party], future.result()) for party, future in futures.items()}


def breast(party: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / f"breast_hetero_{party}.csv", dtype={"id": str})


def upload_rows(flow: Flow, frame: pd.DataFrame, name: str) -> DataTable:
    return flow.upload(frame.to_csv(index=False), name=name)


@pytest.fixture
def overlap(flow: Flow) -> tuple[DataTable, DataTable, set[str]]:
    """Guest without its first 100 rows, host without its last 120 and every 7th row."""
    guest, host = breast("guest").iloc[100:], breast("host").iloc[:449]
    host = host[host.index % 7 != 0]
    expected = set(guest["id"]) & set(host["id"])
    assert 0 < len(expected) < min(len(guest), len(host))
    return upload_rows(flow, guest, "guest_part"), upload_rows(flow, host, "host_part"), expected


@pytest.mark.parametrize(
    "conf",
    [
        FAST_RSA,
        RAW,
        {**RAW, "join_role": "host"},
        {**RAW, "with_encode": True, "encode_params": {"encode_method": "sha256", "salt": "s"}},
        {**RAW, "with_encode": True, "encode_params": {"encode_method": "md5", "base64": True}},
    ],
    ids=["rsa", "raw", "raw-host-joins", "raw-sha256", "raw-md5-base64"],
)
def test_both_parties_keep_exactly_the_common_rows(
    flow: Flow,
    broker: RunningBroker,
    overlap: tuple[DataTable, DataTable, set[str]],
    conf: dict[str, Any],
) -> None:
    guest_table, host_table, expected = overlap

    done = intersect(flow, broker, {GUEST: guest_table, HOST: host_table}, conf)

    for party, table in ((GUEST, guest_table), (HOST, host_table)):
        output, schema = done[party].output()
        source, source_schema = done[party].ctx.read_frame(table)
        assert set(output["id"]) == expected
        kept = source[source["id"].isin(expected)].reset_index(drop=True)
        pd.testing.assert_frame_equal(output, kept)
        assert schema == source_schema


def test_the_schema_of_dataio_output_is_kept(
    flow: Flow, broker: RunningBroker, overlap: tuple[DataTable, DataTable, set[str]]
) -> None:
    guest_table, host_table, expected = overlap
    guest_io = flow.run("DataIO", {"with_label": True}, data=guest_table, party=GUEST)
    host_io = flow.run("DataIO", {}, data=host_table, party=HOST)

    done = intersect(
        flow, broker, {GUEST: guest_io.output_table(), HOST: host_io.output_table()}, FAST_RSA
    )

    output, schema = done[GUEST].output()
    assert set(output["id"]) == expected
    assert list(output.columns) == ["id", "y", *[f"x{i}" for i in range(10)]]
    assert schema == guest_io.output()[1]
    assert done[HOST].output()[1] == host_io.output()[1]


@pytest.mark.parametrize(
    "conf",
    [FAST_RSA, RAW, {**RAW, "join_role": "host"}],
    ids=["rsa", "raw", "raw-host-joins"],
)
def test_two_hosts_all_get_what_all_three_share(
    flow: Flow, broker: RunningBroker, conf: dict[str, Any]
) -> None:
    guest, host = breast("guest"), breast("host")
    parts = {GUEST: guest.iloc[50:], HOST: host.iloc[:400], HOST_2: host.iloc[200:]}
    tables = {party: upload_rows(flow, rows, f"part_{party[1]}") for party, rows in parts.items()}
    expected = set(guest["id"].iloc[50:]) & set(host["id"].iloc[200:400])

    done = intersect(flow, broker, tables, conf, roles=TWO_HOSTS)

    assert {party: result.ids() for party, result in done.items()} == dict.fromkeys(parts, expected)


def test_only_output_key_keeps_the_id_column_alone(
    flow: Flow, broker: RunningBroker, overlap: tuple[DataTable, DataTable, set[str]]
) -> None:
    guest_table, host_table, expected = overlap
    guest_io = flow.run("DataIO", {"with_label": True}, data=guest_table, party=GUEST)

    done = intersect(
        flow,
        broker,
        {GUEST: guest_io.output_table(), HOST: host_table},
        {**FAST_RSA, "only_output_key": True},
    )

    for party in (GUEST, HOST):
        output, schema = done[party].output()
        assert list(output.columns) == ["id"]
        assert set(output["id"]) == expected
        assert schema["header"] == []
        assert "label_name" not in schema


@pytest.mark.parametrize("conf", [FAST_RSA, RAW], ids=["rsa", "raw"])
def test_without_sync_the_host_gets_no_rows(
    flow: Flow,
    broker: RunningBroker,
    overlap: tuple[DataTable, DataTable, set[str]],
    conf: dict[str, Any],
) -> None:
    guest_table, host_table, expected = overlap

    done = intersect(
        flow, broker, {GUEST: guest_table, HOST: host_table}, {**conf, "sync_intersect_ids": False}
    )

    assert done[GUEST].ids() == expected
    output, _ = done[HOST].output()
    assert len(output) == 0
    assert list(output.columns) == ["id", *[f"x{i}" for i in range(20)]]
    assert done[HOST].metric()["data"] == [["intersect_count", -1], ["intersect_rate", -1.0]]
    assert done[HOST].summary["intersect_num"] == -1


def test_the_guest_logs_the_count_and_rate_of_its_rows(
    flow: Flow, broker: RunningBroker, overlap: tuple[DataTable, DataTable, set[str]]
) -> None:
    guest_table, host_table, expected = overlap
    guest_rows, host_rows = 569 - 100, len(breast("host").iloc[:449].query("index % 7 != 0"))

    done = intersect(flow, broker, {GUEST: guest_table, HOST: host_table}, FAST_RSA)

    assert done[GUEST].metric() == {
        "data": [
            ["intersect_count", len(expected)],
            ["intersect_rate", len(expected) / guest_rows],
        ],
        "meta": {"name": "intersection", "metric_type": "INTERSECTION"},
    }
    assert done[GUEST].summary == {
        "intersect_num": len(expected),
        "intersect_rate": len(expected) / guest_rows,
        "input_count": guest_rows,
    }
    assert done[HOST].metric()["data"][1] == ["intersect_rate", len(expected) / host_rows]


def values_in(value: Any) -> Iterator[Any]:
    """Every scalar inside a decoded message."""
    if isinstance(value, dict):
        for item in value.values():
            yield from values_in(item)
    elif isinstance(value, (list, tuple, IntArray)):
        for item in value:
            yield from values_in(item)
    else:
        yield value


def test_in_rsa_the_host_sees_only_blinded_guest_ids(
    flow: Flow, broker: RunningBroker, overlap: tuple[DataTable, DataTable, set[str]]
) -> None:
    guest_table, host_table, expected = overlap
    guest_ids = set(breast("guest")["id"].iloc[100:])
    seen: list[tuple[str, str, Any]] = []
    broker.broker.observers.append(lambda key, payload: seen.append((key[2], key[6], payload)))

    done = intersect(flow, broker, {GUEST: guest_table, HOST: host_table}, FAST_RSA)

    to_host = {name: decode(payload) for name, role, payload in seen if role == "host"}
    assert sorted(to_host) == ["guest_pubkey_ids", "intersect_ids"]
    hashed = set(_psi.hash_ids(guest_ids, "sha256", ""))
    plain = guest_ids | {int(sample_id) for sample_id in guest_ids} | hashed
    leaked = [value for value in values_in(list(to_host.values())) if value in plain]
    assert leaked == []
    blinded = to_host["guest_pubkey_ids"]
    assert isinstance(blinded, IntArray)
    assert len(set(blinded)) == len(guest_ids)

    # What comes back to the host are its own tokens of the common ids, and only those.
    to_guest = {name: decode(payload) for name, role, payload in seen if role == "guest"}
    key = to_guest["host_pubkey"]
    assert all(value < key["n"] for value in blinded)
    assert len(to_host["intersect_ids"]) == len(expected) == len(done[HOST].ids())
    assert set(to_host["intersect_ids"]) <= set(to_guest["host_prvkey_ids"])


def test_a_1024_bit_intersection_of_the_whole_tables(
    flow: Flow, broker: RunningBroker, guest_table: DataTable, host_table: DataTable
) -> None:
    started = time.perf_counter()
    done = intersect(
        flow, broker, {GUEST: guest_table, HOST: host_table}, {"intersect_method": "rsa"}
    )
    elapsed = time.perf_counter() - started

    assert done[GUEST].ids() == done[HOST].ids() == set(breast("guest")["id"])
    assert done[GUEST].metric()["data"] == [["intersect_count", 569], ["intersect_rate", 1.0]]
    assert elapsed < 30


def test_rsa_key_signs_and_blinding_comes_off() -> None:
    key = _psi.RsaKey.generate(512)
    hashed = _psi.hash_ids(["133", "273"], "sha256", "salt")

    signed = key.sign(hashed)
    blinded, factors = _psi.blind(hashed, key.e, key.n, 128)

    assert key.n.bit_length() == 512
    assert [int(gmpy2.powmod(value, key.e, key.n)) for value in signed] == hashed
    assert blinded != hashed
    assert _psi.unblind(key.sign(blinded), factors, key.n) == signed


def test_ids_hash_as_salted_hex_digests() -> None:
    assert _psi.digest("133", "sha256", "s") == hashlib.sha256(b"133s").hexdigest()
    assert _psi.digest("133", "md5", "", as_base64=True) == base64.b64encode(
        hashlib.md5(b"133").digest()
    ).decode("ascii")
    assert _psi.digest("133", "none", "s") == "133s"
    assert _psi.hash_ids(["1"], "sha256", "") == [int(hashlib.sha256(b"1").hexdigest(), 16)]


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"intersect_method": "dh"}, "intersect_method 'dh' is not implemented; use 'rsa' or"),
        ({"intersect_method": "psi"}, "intersect_method is 'psi'; use one of ['rsa', 'raw']"),
        ({"rsa_params": {"hash_method": "sm3"}}, "'sm3' is not available here"),
        ({"rsa_params": {"hash_method": "md5"}}, "rsa_params.hash_method is 'md5'; use one of"),
        ({"rsa_params": {"key_length": 256}}, "key_length is 256; use a whole number of bits"),
        ({"rsa_params": {"split_calculation": True}}, "split_calculation and random_base"),
        ({"rsa_params": {"keylength": 2048}}, "rsa_params has unknown keys ['keylength']"),
        ({"random_bit": 16}, "random_bit is 16; use a whole number from 64"),
        ({"repeated_id_process": True}, "repeated_id_process is True, which fate-nb's"),
        ({"join_role": "arbiter"}, "join_role is 'arbiter'; use one of ['guest', 'host']"),
        ({"raw_params": {"use_hash": True}}, "raw_params (FATE 1.11) is not implemented"),
    ],
)
def test_unsupported_settings_are_refused(conf: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as raised:
        IntersectionParam.from_conf(conf, "intersection_0")

    assert message in raised.value.message
    assert raised.value.message.startswith("intersection_0")


def test_defaults_and_roles_follow_fate() -> None:
    params, unknown = IntersectionParam.from_conf({"intersect_method": "RSA"}, "intersection_0")

    assert module_roles()["Intersection"] == frozenset({"guest", "host"})
    assert unknown == []
    assert params.intersect_method == "rsa"
    assert (params.random_bit, params.sync_intersect_ids, params.join_role) == (128, True, "guest")
    assert params.rsa_params["key_length"] == 1024
    assert params.encode_params == {"encode_method": "none", "salt": "", "base64": False}
