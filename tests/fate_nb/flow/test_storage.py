"""Tables on disk: hash partitions of Parquet files, duplicate ids, counting and export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fate_nb.flow import storage

SCHEMA = pa.schema([("id", pa.string()), ("y", pa.int64()), ("x0", pa.float64())])


def make_table(ids: list[str], start: int = 0) -> pa.Table:
    """Rows whose ``y`` is their position (from ``start``) and ``x0`` a float of it."""
    positions = range(start, start + len(ids))
    return pa.table(
        {"id": ids, "y": list(positions), "x0": [p / 8 - 3.3 for p in positions]}, schema=SCHEMA
    )


def write_table(table_dir: Path, partition: int, *tables: pa.Table) -> storage.PartitionedWriter:
    writer = storage.PartitionedWriter(table_dir, partition, SCHEMA)
    try:
        for table in tables:
            writer.write(table)
    finally:
        writer.close()
    return writer


def ids_of(path: Path) -> list[str]:
    return pq.read_table(path, columns=["id"]).column(0).to_pylist()


# partition_of


def test_partition_of_is_deterministic() -> None:
    ids = pa.array([str(i) for i in range(1000)])
    first = storage.partition_of(ids, 16)
    again = storage.partition_of(pa.array([str(i) for i in range(1000)]), 16)
    np.testing.assert_array_equal(first, again)


def test_partition_of_depends_on_the_id_only_not_its_neighbours() -> None:
    ids = [f"id-{i}" for i in range(50)]
    whole = storage.partition_of(pa.array(ids), 7)
    one_by_one = [int(storage.partition_of(pa.array([i]), 7)[0]) for i in ids]
    assert whole.tolist() == one_by_one


def test_partition_of_is_the_same_for_chunked_and_plain_arrays() -> None:
    ids = [str(i) for i in range(200)]
    chunked = pa.chunked_array([ids[:70], ids[70:]])
    np.testing.assert_array_equal(
        storage.partition_of(chunked, 5), storage.partition_of(pa.array(ids), 5)
    )


@pytest.mark.parametrize("partition", [1, 2, 3, 16, storage.MAX_PARTITION])
def test_partition_of_is_in_range(partition: int) -> None:
    index = storage.partition_of(pa.array([str(i) for i in range(5000)]), partition)
    assert index.shape == (5000,)
    assert index.min() >= 0
    assert index.max() < partition


def test_partition_of_spreads_ids_over_every_partition() -> None:
    index = storage.partition_of(pa.array([str(i) for i in range(5000)]), 8)
    assert set(index.tolist()) == set(range(8))


# PartitionedWriter


def test_writer_creates_one_file_per_partition_even_when_empty(tmp_path: Path) -> None:
    write_table(tmp_path / "t", 6, make_table(["1"]))
    names = [path.name for path in storage.part_files(tmp_path / "t")]
    assert names == [f"part-{i:05d}.parquet" for i in range(6)]


def test_writer_puts_every_id_in_the_partition_partition_of_names(tmp_path: Path) -> None:
    ids = [str(i) for i in range(300)]
    write_table(tmp_path / "t", 4, make_table(ids[:120]), make_table(ids[120:], start=120))
    for index, path in enumerate(storage.part_files(tmp_path / "t")):
        stored = ids_of(path)
        assert stored, f"partition {index} is empty"
        assert set(storage.partition_of(pa.array(stored), 4).tolist()) == {index}


def test_writer_keeps_every_row_once_with_its_values(tmp_path: Path) -> None:
    ids = [f"s{i}" for i in range(300)]
    writer = write_table(tmp_path / "t", 4, make_table(ids[:100]), make_table(ids[100:], 100))
    stored = storage.read_table(tmp_path / "t").sort_by("y")
    assert writer.rows_written == 300
    assert stored.equals(make_table(ids))


def test_writer_keeps_source_order_within_a_partition(tmp_path: Path) -> None:
    ids = [str(i) for i in range(200)]
    write_table(tmp_path / "t", 3, make_table(ids[:50]), make_table(ids[50:], 50))
    for path in storage.part_files(tmp_path / "t"):
        positions = pq.read_table(path, columns=["y"]).column(0).to_pylist()
        assert positions == sorted(positions)


def test_writer_stores_the_given_schema(tmp_path: Path) -> None:
    write_table(tmp_path / "t", 2, make_table(["a", "b", "c"]))
    for path in storage.part_files(tmp_path / "t"):
        assert pq.read_schema(path).remove_metadata().equals(SCHEMA)


# drop_duplicate_ids


def test_drop_duplicate_ids_keeps_the_first_row_of_each_id(tmp_path: Path) -> None:
    table_dir = tmp_path / "t"
    write_table(table_dir, 3, make_table(["a", "b", "c", "a"]), make_table(["b", "a", "d"], 4))

    removed, repeated = storage.drop_duplicate_ids(table_dir)

    assert removed == 3
    assert sorted(repeated) == ["a", "b"]
    stored = storage.read_table(table_dir).sort_by("y")
    assert stored.column("id").to_pylist() == ["a", "b", "c", "d"]
    assert stored.column("y").to_pylist() == [0, 1, 2, 6]


def test_drop_duplicate_ids_updates_the_row_count(tmp_path: Path) -> None:
    table_dir = tmp_path / "t"
    write_table(table_dir, 2, make_table(["a", "a", "a", "b"]))
    storage.drop_duplicate_ids(table_dir)
    assert storage.count_rows(table_dir) == 2


def test_drop_duplicate_ids_limits_the_examples(tmp_path: Path) -> None:
    table_dir = tmp_path / "t"
    ids = [str(i) for i in range(10)]
    write_table(table_dir, 4, make_table(ids + ids))

    removed, repeated = storage.drop_duplicate_ids(table_dir, examples=3)

    assert removed == 10
    assert len(repeated) == 3
    assert set(repeated) <= set(ids)


def test_drop_duplicate_ids_without_duplicates_changes_nothing(tmp_path: Path) -> None:
    table_dir = tmp_path / "t"
    write_table(table_dir, 2, make_table(["a", "b", "c"]))
    before = {path: path.read_bytes() for path in storage.part_files(table_dir)}

    assert storage.drop_duplicate_ids(table_dir) == (0, [])
    assert {path: path.read_bytes() for path in storage.part_files(table_dir)} == before
    assert not list(table_dir.glob("*.rewrite"))


# count_rows


def test_count_rows_sums_every_partition(tmp_path: Path) -> None:
    write_table(tmp_path / "t", 5, make_table([str(i) for i in range(123)]))
    assert storage.count_rows(tmp_path / "t") == 123


def test_count_rows_of_a_table_without_rows_is_zero(tmp_path: Path) -> None:
    write_table(tmp_path / "t", 3)
    assert storage.count_rows(tmp_path / "t") == 0


def test_count_rows_of_a_missing_folder_is_zero(tmp_path: Path) -> None:
    assert storage.count_rows(tmp_path / "missing") == 0


# export_csv


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """A table of 40 rows over 4 partitions."""
    table_dir = tmp_path / "t"
    write_table(table_dir, 4, make_table([f"{i:03d}" for i in range(40)]))
    return table_dir


def read_back(path: Path, delimiter: str, header: bool) -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        sep=delimiter,
        header=0 if header else None,
        names=None if header else SCHEMA.names,
        dtype={"id": str},
    )
    return frame.sort_values("id", ignore_index=True)


@pytest.mark.parametrize("delimiter", [",", "\t"])
@pytest.mark.parametrize("header", [True, False])
def test_export_csv_round_trips_the_stored_table(
    stored: Path, tmp_path: Path, delimiter: str, header: bool
) -> None:
    output = tmp_path / "out.csv"

    rows = storage.export_csv(stored, output, delimiter=delimiter, header=header)

    assert rows == 40
    expected = storage.read_table(stored).to_pandas().sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(read_back(output, delimiter, header), expected, check_dtype=False)


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_export_csv_uses_the_delimiter(stored: Path, tmp_path: Path, delimiter: str) -> None:
    output = tmp_path / "out.csv"
    storage.export_csv(stored, output, delimiter=delimiter, header=True)
    lines = output.read_text().splitlines()
    assert lines[0] == delimiter.join(SCHEMA.names)
    assert all(line.count(delimiter) == 2 for line in lines)


def test_export_csv_writes_the_header_once_across_partitions(stored: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    storage.export_csv(stored, output, header=True)
    lines = output.read_text().splitlines()
    assert len(lines) == 41
    assert lines.count("id,y,x0") == 1


def test_export_csv_without_header_writes_only_rows(stored: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    storage.export_csv(stored, output, header=False)
    lines = output.read_text().splitlines()
    assert len(lines) == 40
    assert "id,y,x0" not in lines


def test_export_csv_keeps_leading_zeros_of_ids(stored: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    storage.export_csv(stored, output, header=False)
    ids = {line.split(",")[0] for line in output.read_text().splitlines()}
    assert ids == {f"{i:03d}" for i in range(40)}


def test_export_csv_quotes_values_holding_the_delimiter(tmp_path: Path) -> None:
    table_dir = tmp_path / "t"
    schema = pa.schema([("id", pa.string()), ("note", pa.string())])
    writer = storage.PartitionedWriter(table_dir, 1, schema)
    writer.write(pa.table({"id": ["1"], "note": ["a,b"]}, schema=schema))
    writer.close()
    output = tmp_path / "out.csv"

    storage.export_csv(table_dir, output, header=False)

    assert output.read_text() == '1,"a,b"\n'


def test_export_csv_of_a_table_without_rows_writes_only_the_header(tmp_path: Path) -> None:
    write_table(tmp_path / "t", 2)
    output = tmp_path / "out.csv"
    assert storage.export_csv(tmp_path / "t", output, delimiter="\t", header=True) == 0
    assert output.read_text() == "id\ty\tx0\n"


def test_export_csv_of_a_table_without_rows_and_header_is_empty(tmp_path: Path) -> None:
    write_table(tmp_path / "t", 2)
    output = tmp_path / "out.csv"
    assert storage.export_csv(tmp_path / "t", output, header=False) == 0
    assert output.read_text() == ""


# remove_table_dir


def test_remove_table_dir_deletes_the_folder_and_its_files(stored: Path) -> None:
    (stored / "part-00000.rewrite").write_bytes(b"left over")
    storage.remove_table_dir(stored)
    assert not stored.exists()


def test_remove_table_dir_of_a_missing_folder_does_nothing(tmp_path: Path) -> None:
    storage.remove_table_dir(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
