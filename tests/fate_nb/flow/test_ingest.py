"""Reading delimited files into stored tables: layout, chunks, column types and rejected rows."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fate_nb.flow import ingest, storage
from fate_nb.flow.errors import DataError

DATA_DIR = Path(__file__).resolve().parents[4] / "shared" / "data"
BREAST_GUEST = DATA_DIR / "breast_hetero_guest.csv"
BREAST_ROWS = 569


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    """A file with exactly these bytes (text is UTF-8, newlines untranslated)."""
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


Loaded = tuple[ingest.CsvLayout, ingest.IngestReport, pa.Table]
Loader = Callable[..., Loaded]


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    """Import a file (or text written to ``data.csv``) into ``tmp_path``; read the table back."""

    def load(
        source: Path | str | bytes, *, head: bool = True, partition: int = 1, **options: Any
    ) -> Loaded:
        path = source if isinstance(source, Path) else write(tmp_path, source)
        table_dir = tmp_path / "table"
        layout, report = ingest.ingest_csv(
            path, table_dir, head=head, partition=partition, **options
        )
        return layout, report, storage.read_table(table_dir)

    return load


def by_id(table: pa.Table) -> dict[str, dict[str, object]]:
    """Stored rows keyed by id."""
    return {row["id"]: row for row in table.to_pylist()}


def source_ids(path: Path) -> list[str]:
    return pd.read_csv(path, dtype={"id": str}, usecols=["id"])["id"].tolist()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Read files in 256-byte chunks, so a few dozen short lines span several chunks."""
    monkeypatch.setattr(ingest, "CHUNK_BYTES", 256)
    return 256


# read_layout


def test_read_layout_sniffs_a_comma_separator(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, "id,y,x0\n1,0,0.5\n"), head=True)
    assert layout.delimiter == ","
    assert layout.column_names == ["id", "y", "x0"]
    assert layout.data_offset == len("id,y,x0\n")


def test_read_layout_sniffs_a_tab_separator(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, "id\ty\tx0\n1\t0\t0.5\n"), head=True)
    assert layout.delimiter == "\t"
    assert layout.column_names == ["id", "y", "x0"]


def test_read_layout_prefers_commas_when_the_header_has_both(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, "id,x\t0\n1,2\n"), head=True)
    assert layout.delimiter == ","
    assert layout.column_names == ["id", "x\t0"]


def test_read_layout_uses_an_explicit_delimiter(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, "id;x0;x1\n1;2;3\n"), head=True, delimiter=";")
    assert layout.delimiter == ";"
    assert layout.column_names == ["id", "x0", "x1"]


def test_read_layout_explicit_delimiter_overrides_sniffing(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, "id\tx,0\n"), head=True, delimiter="\t")
    assert layout.column_names == ["id", "x,0"]


def test_read_layout_strips_the_bom_from_the_id_name(tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF8 + b"id,y,x0\n1,0,0.5\n")
    layout = ingest.read_layout(path, head=True)
    assert layout.column_names[0] == "id"
    assert layout.sid == "id"


def test_read_layout_strips_the_bom_from_a_tab_header(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, codecs.BOM_UTF8 + b"id\tx0\n1\t2\n"), head=True)
    assert layout.delimiter == "\t"
    assert layout.column_names == ["id", "x0"]


def test_read_layout_strips_spaces_around_header_names(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, " id , y ,x0 \r\n1,0,2\r\n"), head=True)
    assert layout.column_names == ["id", "y", "x0"]
    assert layout.sid == "id"
    assert layout.header == ["y", "x0"]


def test_read_layout_unquotes_header_names(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, '"id","x, 0"\n1,2\n'), head=True)
    assert layout.column_names == ["id", "x, 0"]


def test_read_layout_skips_blank_lines_before_the_header(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, "\n  \r\nid,x0\n1,2\n"), head=True)
    assert layout.column_names == ["id", "x0"]
    assert layout.data_offset == len("\n  \r\nid,x0\n")


@pytest.mark.parametrize("header", ["id,x0,x0", "id,x0, x0 ", "id,id"])
def test_read_layout_refuses_repeated_column_names(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, header + "\n1,2,3\n")
    with pytest.raises(DataError, match="repeats column names: "):
        ingest.read_layout(path, head=True)


def test_read_layout_names_the_repeated_column(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        ingest.read_layout(write(tmp_path, "id,x0,x1,x0\n"), head=True)
    assert caught.value.message.endswith("repeats column names: x0")


@pytest.mark.parametrize("header", ["id,,x1", "id,x0,", "id, ,x1", ",x0"])
def test_read_layout_refuses_empty_column_names(tmp_path: Path, header: str) -> None:
    with pytest.raises(DataError, match="has an empty column name"):
        ingest.read_layout(write(tmp_path, header + "\n"), head=True)


@pytest.mark.parametrize("content", [b"", b"\n", b"\r\n  \r\n\n", codecs.BOM_UTF8])
def test_read_layout_refuses_an_empty_file(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(DataError, match="data.csv is empty"):
        ingest.read_layout(write(tmp_path, content), head=True)


def test_read_layout_without_header_names_columns_id_and_x(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, "7,0.1,0.2,0.3\n8,1,2,3\n"), head=False)
    assert layout.column_names == ["id", "x0", "x1", "x2"]
    assert layout.data_offset == 0


def test_read_layout_without_header_keeps_leading_blank_lines_out(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, "\n\n7\t0.1\n"), head=False)
    assert layout.column_names == ["id", "x0"]
    assert layout.delimiter == "\t"
    assert layout.data_offset == 2


def test_read_layout_without_header_allows_values_that_repeat(tmp_path: Path) -> None:
    layout = ingest.read_layout(write(tmp_path, "1,1,,1\n"), head=False)
    assert layout.column_names == ["id", "x0", "x1", "x2"]


# has_data_line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,a\n1,2\n", True),
        ("id,a\n\n\n1,2", True),
        ("id,a\n", False),
        ("id,a", False),
        ("id,a\r\n  \r\n\t\n", False),
    ],
)
def test_has_data_line_looks_past_the_header(tmp_path: Path, text: str, expected: bool) -> None:
    path = write(tmp_path, text)
    assert ingest.has_data_line(path, ingest.read_layout(path, head=True)) is expected


def test_has_data_line_without_header_counts_the_first_line(tmp_path: Path) -> None:
    path = write(tmp_path, "\n1,2\n")
    assert ingest.has_data_line(path, ingest.read_layout(path, head=False)) is True


# ingest_csv on FATE's data


def test_breast_guest_stores_every_row(load: Loader) -> None:
    _, report, table = load(BREAST_GUEST)
    assert table.num_rows == BREAST_ROWS
    assert report.upload_count == BREAST_ROWS
    assert report.actual_count == BREAST_ROWS
    assert report.rejected_count == 0
    assert report.message() == f"{BREAST_ROWS} of {BREAST_ROWS} rows stored"


def test_breast_guest_schema_is_string_id_and_numeric_features(load: Loader) -> None:
    layout, _, table = load(BREAST_GUEST)
    assert layout.column_names == ["id", "y", *(f"x{i}" for i in range(10))]
    assert table.schema.names == layout.column_names
    assert table.schema.field("id").type == pa.string()
    assert table.schema.field("y").type == pa.int64()
    for i in range(10):
        assert table.schema.field(f"x{i}").type == pa.float64()


def test_breast_guest_values_equal_pandas_read_joined_on_id(load: Loader) -> None:
    _, _, table = load(BREAST_GUEST)
    expected = pd.read_csv(BREAST_GUEST, dtype={"id": str}).set_index("id").sort_index()
    stored = table.to_pandas().set_index("id").sort_index()
    pd.testing.assert_frame_equal(stored, expected, check_exact=True)


@pytest.mark.parametrize("partition", [1, 4, 16])
def test_partition_count_gives_that_many_files_holding_every_row(
    tmp_path: Path, partition: int
) -> None:
    table_dir = tmp_path / "table"
    ingest.ingest_csv(BREAST_GUEST, table_dir, head=True, partition=partition)
    files = storage.part_files(table_dir)
    assert [path.name for path in files] == [f"part-{i:05d}.parquet" for i in range(partition)]
    assert storage.count_rows(table_dir) == BREAST_ROWS


def test_partitioned_rows_sit_in_the_partition_of_their_id(tmp_path: Path) -> None:
    table_dir = tmp_path / "table"
    ingest.ingest_csv(BREAST_GUEST, table_dir, head=True, partition=4)
    for index, path in enumerate(storage.part_files(table_dir)):
        ids = pq.read_table(path, columns=["id"]).column(0)
        assert ids.length() > 0
        assert set(storage.partition_of(ids, 4).tolist()) == {index}


@pytest.mark.parametrize("chunk_bytes", [1, 64, 256, 1000])
def test_chunk_boundaries_never_lose_or_repeat_a_row(
    load: Loader, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    monkeypatch.setattr(ingest, "CHUNK_BYTES", chunk_bytes)
    _, report, table = load(BREAST_GUEST, partition=3)
    assert sorted(table.column("id").to_pylist()) == sorted(source_ids(BREAST_GUEST))
    assert report.upload_count == BREAST_ROWS
    assert report.rejected_count == 0


def test_small_chunks_store_the_same_values_as_one_chunk(load: Loader, small_chunks: int) -> None:
    _, _, table = load(BREAST_GUEST)
    expected = pd.read_csv(BREAST_GUEST, dtype={"id": str}).set_index("id").sort_index()
    pd.testing.assert_frame_equal(table.to_pandas().set_index("id").sort_index(), expected)


def test_progress_reaches_the_end_of_the_file(tmp_path: Path, small_chunks: int) -> None:
    seen: list[float] = []
    ingest.ingest_csv(BREAST_GUEST, tmp_path / "t", head=True, partition=1, progress=seen.append)
    assert len(seen) > 1
    assert seen == sorted(seen)
    assert seen[0] > 0
    assert seen[-1] == 1.0


# line ends, blank lines, quoting


def crlf_rows(count: int) -> list[str]:
    return [f"{i},{i / 4},name{i}" for i in range(count)]


def test_crlf_file_ending_with_a_blank_line_stores_every_row(load: Loader) -> None:
    _, report, table = load("id,x0,tag\r\n" + "\r\n".join(crlf_rows(10)) + "\r\n\r\n")
    assert report.upload_count == 10
    assert report.actual_count == 10
    assert table.column("tag").to_pylist() == [f"name{i}" for i in range(10)]


def test_crlf_file_without_a_final_line_end_stores_every_row(load: Loader) -> None:
    _, report, table = load("id,x0,tag\r\n" + "\r\n".join(crlf_rows(10)))
    assert report.actual_count == 10
    assert table.column("tag").to_pylist()[-1] == "name9"


def test_crlf_rows_split_over_chunks_keep_no_carriage_return(
    load: Loader, small_chunks: int
) -> None:
    _, report, table = load("id,x0,tag\r\n" + "\r\n".join(crlf_rows(30)) + "\r\n\r\n")
    assert report.upload_count == report.actual_count == 30
    assert not any(tag.endswith("\r") for tag in table.column("tag").to_pylist())


def test_blank_lines_between_rows_are_not_rows(load: Loader, small_chunks: int) -> None:
    lines = crlf_rows(30)
    text = "id,x0,tag\r\n" + "\r\n\r\n".join(lines) + "\r\n"
    _, report, table = load(text)
    assert report.upload_count == report.actual_count == 30
    assert report.rejected_count == 0


def test_quoted_fields_keep_their_commas_and_quotes(load: Loader) -> None:
    text = 'id,note,x0\n1,"a,b",0.5\n2,"say ""hi"", then go",1.5\n"3",plain,2.5\n'
    _, report, table = load(text)
    rows = by_id(table)
    assert report.actual_count == 3
    assert rows["1"]["note"] == "a,b"
    assert rows["2"]["note"] == 'say "hi", then go'
    assert rows["3"] == {"id": "3", "note": "plain", "x0": 2.5}


def test_tab_separated_file_is_stored(load: Loader) -> None:
    text = "id\ty\tx0\n1\t0\t0.5\n2\t1\t-1.5\n"
    layout, _, table = load(text)
    assert layout.delimiter == "\t"
    assert by_id(table) == {
        "1": {"id": "1", "y": 0, "x0": 0.5},
        "2": {"id": "2", "y": 1, "x0": -1.5},
    }


def test_explicit_delimiter_is_used_for_the_rows(load: Loader) -> None:
    _, _, table = load("id;x0\n1;0,5\n2;1\n", delimiter=";")
    assert table.column("x0").to_pylist() == ["0,5", "1"]


def test_bom_file_stores_its_first_column_as_id(load: Loader) -> None:
    layout, _, table = load(codecs.BOM_UTF8 + b"id,x0\n10,0.5\n11,1.5\n")
    assert layout.sid == "id"
    assert table.column("id").to_pylist() == ["10", "11"]


def test_file_without_header_stores_its_first_line_as_a_row(load: Loader) -> None:
    _, report, table = load(codecs.BOM_UTF8 + b"10,0.5,1\n11,1.5,2\n", head=False)
    assert report.actual_count == 2
    assert table.schema.names == ["id", "x0", "x1"]
    assert table.column("id").to_pylist() == ["10", "11"]


def test_ids_keep_their_text(load: Loader) -> None:
    _, _, table = load("id,x0\n007,1\n1e3,2\n-0,3\n")
    assert table.column("id").to_pylist() == ["007", "1e3", "-0"]


def test_non_ascii_text_survives_chunk_cuts(load: Loader, small_chunks: int) -> None:
    lines = [f"{i},ünïcødé-{i}-日本" for i in range(60)]
    _, _, table = load("id,tag\n" + "\n".join(lines) + "\n")
    assert table.column("tag").to_pylist() == [line.split(",")[1] for line in lines]


# rejected rows


def test_rows_with_too_many_or_too_few_fields_are_rejected(load: Loader) -> None:
    text = "id,a,b\n1,2,3\n2,3\n3,4,5,6\n4,5,6\n"
    _, report, table = load(text)
    assert sorted(table.column("id").to_pylist()) == ["1", "4"]
    assert report.upload_count == 4
    assert report.actual_count == 2
    assert report.rejected == {ingest.REASON_FIELDS: 2}
    assert sorted(report.examples[ingest.REASON_FIELDS]) == ["2,3", "3,4,5,6"]


def test_wrong_field_count_is_named_in_the_message(load: Loader) -> None:
    _, report, _ = load("id,a,b\n1,2,3\n2,3\n")
    assert (
        report.message() == "1 of 2 rows stored; 1 rejected for wrong number of fields (e.g. '2,3')"
    )


def test_wrong_field_count_examples_are_capped(load: Loader) -> None:
    bad = [f"{i},{i}" for i in range(20)]
    text = "id,a,b\n" + "\n".join(bad) + "\n100,1,2\n"
    _, report, _ = load(text)
    assert report.rejected[ingest.REASON_FIELDS] == 20
    assert len(report.examples[ingest.REASON_FIELDS]) == ingest.EXAMPLES_PER_REASON
    assert set(report.examples[ingest.REASON_FIELDS]) <= set(bad)


def test_wrong_field_counts_in_later_chunks_are_counted(load: Loader, small_chunks: int) -> None:
    lines = [f"{i},{i},{i}" for i in range(80)]
    lines[5] += ",extra"
    lines[70] = "70,only"
    _, report, table = load("id,a,b\n" + "\n".join(lines) + "\n")
    assert report.upload_count == 80
    assert report.actual_count == table.num_rows == 78
    assert report.rejected[ingest.REASON_FIELDS] == 2


def test_rows_without_an_id_are_rejected(load: Loader) -> None:
    text = 'id,a\n1,2\n,3\n  ,4\n"",5\n6,7\n'
    _, report, table = load(text)
    assert sorted(table.column("id").to_pylist()) == ["1", "6"]
    assert report.upload_count == 5
    assert report.rejected == {ingest.REASON_EMPTY_ID: 3}


def test_duplicate_ids_keep_the_first_row(load: Loader) -> None:
    text = "id,a\n1,10\n2,20\n1,11\n2,21\n3,30\n1,12\n"
    _, report, table = load(text)
    assert by_id(table) == {
        "1": {"id": "1", "a": 10},
        "2": {"id": "2", "a": 20},
        "3": {"id": "3", "a": 30},
    }
    assert table.num_rows == 3


def test_duplicate_ids_are_reported_with_counts_and_examples(load: Loader) -> None:
    text = "id,a\n1,10\n2,20\n1,11\n2,21\n3,30\n1,12\n"
    _, report, _ = load(text)
    assert report.upload_count == 6
    assert report.actual_count == 3
    assert report.rejected == {ingest.REASON_DUPLICATE_ID: 3}
    assert sorted(report.examples[ingest.REASON_DUPLICATE_ID]) == ["1", "2"]
    assert "3 of 6 rows stored; 3 rejected for duplicate id" in report.message()


def test_duplicate_ids_far_apart_keep_the_first_across_chunks_and_partitions(
    load: Loader, small_chunks: int
) -> None:
    lines = [f"{i},{i}" for i in range(100)] + ["5,-1", "50,-1", "99,-1"]
    _, report, table = load("id,a\n" + "\n".join(lines) + "\n", partition=4)
    rows = by_id(table)
    assert len(rows) == table.num_rows == 100
    assert all(row["a"] == int(row["id"]) for row in rows.values())
    assert sorted(report.examples[ingest.REASON_DUPLICATE_ID], key=int) == ["5", "50", "99"]
    assert report.upload_count - report.actual_count == 3


def test_counts_add_up_when_rows_are_rejected_for_several_reasons(load: Loader) -> None:
    text = "id,a,b\n1,1,1\n,2,2\n1,3,3\n4,4\n5,5,5\n"
    _, report, table = load(text)
    assert report.upload_count == 5
    assert report.actual_count == table.num_rows == 2
    assert report.rejected_count == 3
    assert report.upload_count == report.actual_count + report.rejected_count
    summary = report.to_summary()
    assert summary["rejected"] == {
        ingest.REASON_FIELDS: 1,
        ingest.REASON_EMPTY_ID: 1,
        ingest.REASON_DUPLICATE_ID: 1,
    }


@pytest.mark.parametrize("text", ["id,a\n", "id,a", "id,a\r\n\r\n\n", "\n\nid,a\n\n"])
def test_header_only_file_is_refused_clearly(load: Loader, text: str) -> None:
    with pytest.raises(DataError) as caught:
        load(text)
    assert caught.value.message == (
        "file data.csv has no data rows (only a header line or blank lines)"
    )


def test_file_whose_every_row_is_rejected_is_refused(load: Loader) -> None:
    with pytest.raises(DataError, match="no row of data.csv could be stored: 0 of 2 rows stored"):
        load("id,a,b\n1,2\n,3,4\n")


def test_text_that_is_not_utf8_is_refused_naming_the_column(load: Loader) -> None:
    with pytest.raises(DataError) as caught:
        load("id,name,x0\n1,café,2\n2,ok,3\n".encode("latin-1"))
    assert caught.value.message == (
        "column name of data.csv holds text that is not UTF-8; save the file as UTF-8"
    )


def test_id_that_is_not_utf8_is_refused(load: Loader) -> None:
    with pytest.raises(DataError, match="column id of data.csv holds text that is not UTF-8"):
        load("id,x0\ncafé,2\n2,3\n".encode("latin-1"))


def test_text_that_is_not_utf8_in_a_later_chunk_is_refused(load: Loader, small_chunks: int) -> None:
    lines = [f"{i},n{i}" for i in range(40)] + ["99,café"]
    with pytest.raises(DataError, match="column name of data.csv holds text that is not UTF-8"):
        load(("id,name\n" + "\n".join(lines) + "\n").encode("latin-1"))


def test_missing_value_markers_in_a_numeric_column_are_stored_as_null(load: Loader) -> None:
    _, report, table = load("id,a\n1,1.5\n2,NA\n3,nan\n4,\n5,null\n")
    assert table.schema.field("a").type == pa.float64()
    assert table.column("a").to_pylist() == [1.5, None, None, None, None]
    assert report.actual_count == 5


# column types across chunks


def numbered(count: int) -> list[str]:
    """Lines ``i,i,i % 3``: columns a and b look like integers."""
    return [f"{i},{i},{i % 3}" for i in range(count)]


def test_non_numeric_value_in_a_later_chunk_makes_the_column_string(
    tmp_path: Path, small_chunks: int, load: Loader
) -> None:
    lines = numbered(80)
    lines[70] = "70,abc,1"
    path = write(tmp_path, "id,a,b\n" + "\n".join(lines) + "\n")
    assert path.stat().st_size > 2 * small_chunks

    _, report, table = load(path)

    assert table.schema.field("a").type == pa.string()
    assert table.schema.field("b").type == pa.int64()
    assert report.upload_count == report.actual_count == table.num_rows == 80
    expected = {line.split(",")[0]: line.split(",")[1] for line in lines}
    assert {row["id"]: row["a"] for row in table.to_pylist()} == expected


def test_int_column_that_later_holds_floats_becomes_float(load: Loader, small_chunks: int) -> None:
    lines = numbered(80)
    lines[75] = "75,2.5,0"
    _, report, table = load("id,a,b\n" + "\n".join(lines) + "\n")
    assert table.schema.field("a").type == pa.float64()
    assert report.actual_count == 80
    values = {row["id"]: row["a"] for row in table.to_pylist()}
    assert values["75"] == 2.5
    assert values["3"] == 3.0


def test_int_then_float_then_text_ends_as_string(load: Loader, small_chunks: int) -> None:
    lines = numbered(120)
    lines[40] = "40,0.25,1"
    lines[110] = "110,abc,2"
    _, report, table = load("id,a,b\n" + "\n".join(lines) + "\n")
    assert table.schema.field("a").type == pa.string()
    assert report.actual_count == 120
    values = {row["id"]: row["a"] for row in table.to_pylist()}
    assert (values["0"], values["40"], values["110"]) == ("0", "0.25", "abc")


def test_late_conflicts_in_several_columns_are_all_settled(load: Loader, small_chunks: int) -> None:
    lines = [f"{i},{i},{i},{i}" for i in range(100)]
    lines[60] = "60,1.5,x,60"
    lines[90] = "90,90,90,y"
    _, report, table = load("id,a,b,c\n" + "\n".join(lines) + "\n")
    types = [table.schema.field(name).type for name in ("a", "b", "c")]
    assert types == [pa.float64(), pa.string(), pa.string()]
    assert report.actual_count == 100


def test_value_that_does_not_fit_late_in_a_large_first_chunk(tmp_path: Path, load: Loader) -> None:
    # pyarrow guesses column types from its first block (1 MiB) of each buffer it reads.
    lines = [f"{i},{i}" for i in range(120_000)]
    lines[110_000] = "110000,late"
    path = write(tmp_path, "id,a\n" + "\n".join(lines) + "\n")
    assert 1 << 20 < path.stat().st_size < ingest.CHUNK_BYTES

    _, report, table = load(path)

    assert table.schema.field("a").type == pa.string()
    assert report.actual_count == 120_000


def test_column_empty_in_the_first_chunk_becomes_float(load: Loader, small_chunks: int) -> None:
    lines = [f"{i},,{i}" for i in range(30)] + [f"{i},{i}.5,{i}" for i in range(30, 60)]
    _, report, table = load("id,a,b\n" + "\n".join(lines) + "\n")
    assert table.schema.field("a").type == pa.float64()
    assert report.actual_count == 60
    values = {row["id"]: row["a"] for row in table.to_pylist()}
    assert values["0"] is None
    assert values["45"] == 45.5


def test_column_empty_in_the_first_chunk_then_text_becomes_string(
    load: Loader, small_chunks: int
) -> None:
    lines = [f"{i},,{i}" for i in range(30)] + [f"{i},t{i},{i}" for i in range(30, 60)]
    _, report, table = load("id,a,b\n" + "\n".join(lines) + "\n")
    assert table.schema.field("a").type == pa.string()
    assert report.actual_count == 60
    values = {row["id"]: row["a"] for row in table.to_pylist()}
    assert values["0"] == ""
    assert values["59"] == "t59"


def test_column_empty_in_every_row_is_stored_as_float_nulls(load: Loader) -> None:
    _, _, table = load("id,a\n1,\n2,\n")
    assert table.schema.field("a").type == pa.float64()
    assert table.column("a").null_count == 2


def test_type_retries_leave_only_the_final_partitions(tmp_path: Path, small_chunks: int) -> None:
    lines = numbered(80)
    lines[70] = "70,abc,1"
    path = write(tmp_path, "id,a,b\n" + "\n".join(lines) + "\n")
    table_dir = tmp_path / "table"

    ingest.ingest_csv(path, table_dir, head=True, partition=3)

    assert sorted(p.name for p in table_dir.iterdir()) == [
        f"part-{i:05d}.parquet" for i in range(3)
    ]
    assert storage.count_rows(table_dir) == 80
