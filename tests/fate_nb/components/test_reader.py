"""Reader: a job's own copy of an uploaded table, its metric, and a table that is not there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest

from fate_nb.components import get_component, module_roles
from fate_nb.components.reader import ReaderParam
from fate_nb.flow import storage, tables
from fate_nb.flow.errors import NotFound, ParameterError
from fate_nb.flow.store import DataTable

if TYPE_CHECKING:
    from conftest import Flow

GUEST_TABLE = {"name": "breast_hetero_guest", "namespace": "experiment"}


def test_registry_lists_reader_for_guest_and_host() -> None:
    assert module_roles(dsl_only=True)["Reader"] == frozenset({"guest", "host"})
    assert get_component("Reader").param_class is ReaderParam


def test_from_conf_merges_the_table_and_reports_unknown_keys() -> None:
    conf = {"table": {**GUEST_TABLE, "extra": 1}, "tabel": {}}
    params, unknown = ReaderParam.from_conf(conf, "reader_0")
    assert params.table == {**GUEST_TABLE, "extra": 1}
    assert unknown == ["tabel"]


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({}, "reader_0.table.name is None; give the uploaded table as"),
        ({"table": {"name": "t"}}, "reader_0.table.namespace is None"),
        ({"table": {"name": "t", "namespace": 7}}, "reader_0.table.namespace is 7"),
        ({"table": {"name": " ", "namespace": "n"}}, "reader_0.table.name is ' '"),
        ({"table": "t"}, "reader_0.table must be an object, got 't'"),
    ],
)
def test_from_conf_refuses_a_table_without_name_or_namespace(
    conf: dict[str, Any], message: str
) -> None:
    with pytest.raises(ParameterError) as error:
        ReaderParam.from_conf(conf, "reader_0")
    assert error.value.message.startswith(message)


@pytest.mark.parametrize("partition", [1, 4])
def test_reader_copies_the_table(flow: Flow, partition: int) -> None:
    source = flow.upload_breast("guest", partition=partition)

    ran = flow.run("Reader", {"table": GUEST_TABLE})

    copy = ran.output_table()
    assert copy.namespace.startswith("output_data_")
    assert (copy.count, copy.partition) == (569, partition)
    assert copy.path != source.path
    before = storage.read_table(tables.table_dir(flow.config, source))
    after = storage.read_table(tables.table_dir(flow.config, copy))
    assert after.schema == before.schema
    assert after.sort_by("id").equals(before.sort_by("id"))

    frame, schema = ran.output()
    assert schema == {"sid": "id", "header": ["y", *(f"x{i}" for i in range(10))]}
    assert frame["id"].iloc[0] == "0"
    assert ran.models() == []


def test_rows_keep_their_partitions(flow: Flow) -> None:
    source = flow.upload_breast("host", partition=3)
    ran = flow.run("Reader", {"table": {"name": "breast_hetero_host", "namespace": "experiment"}})

    for index in range(3):
        before, after = (
            pq.read_table(storage.part_path(tables.table_dir(flow.config, table), index))
            for table in (source, ran.output_table())
        )
        assert before.num_rows > 0
        assert after.equals(before)


def test_reader_metric_and_summary(flow: Flow, guest_table: DataTable) -> None:
    ran = flow.run("Reader", {"table": GUEST_TABLE})

    meta = ran.metrics()["reader_namespace"]["reader_name"]["meta"]
    assert {key: meta[key] for key in meta if key != "table_info"} == {
        "name": "reader_name",
        "metric_type": "data_info",
        "table_name": "breast_hetero_guest",
        "namespace": "experiment",
        "count": 569,
        "partitions": 1,
        "storage_engine": "PARQUET",
    }
    assert list(meta["table_info"]) == ["y", *(f"x{i}" for i in range(10))]
    assert meta["table_info"]["y"] == "1,0"
    assert meta["table_info"]["x0"].split(",")[:2] == ["0.254879", "-1.142928"]
    output = ran.output_table()
    assert ran.summary == {
        "table_name": "breast_hetero_guest",
        "namespace": "experiment",
        "count": 569,
        "partitions": 1,
        "storage_engine": "PARQUET",
        "output_table": {"name": output.table_name, "namespace": output.namespace},
    }


def test_reader_keeps_the_text_and_integer_columns(flow: Flow) -> None:
    flow.upload("id,y,city\n1,1,Paris\n2,,Lyon\n", "mixed")
    ran = flow.run("Reader", {"table": {"name": "mixed", "namespace": "experiment"}})

    frame, schema = ran.output()
    assert schema["header"] == ["y", "city"]
    assert frame["city"].tolist() == ["Paris", "Lyon"]
    after = storage.read_table(tables.table_dir(flow.config, ran.output_table()))
    assert str(after.schema.field("y").type) == "int64"
    assert after.column("y").to_pylist() == [1, None]


def test_missing_table_is_not_found(flow: Flow) -> None:
    with pytest.raises(NotFound) as error:
        flow.run("Reader", {"table": {"name": "nope", "namespace": "experiment"}})
    assert error.value.message.startswith(
        "table 'nope' in namespace 'experiment' does not exist; upload it first"
    )
