"""Reading a delimited text file into a stored table, chunk by chunk.

The file is read in chunks cut at line ends and each chunk is parsed by pyarrow's CSV reader
(quoted fields, CRLF, blank lines). The header line is read here, so a UTF-8 BOM, spaces or a
tab separator never leak into column names. Column types come from the first chunk; when a
later chunk holds a value that does not fit, the import starts over with that column widened
(integer to float, anything to string), so the stored types hold for every row.

Rows are never merged silently: a row with the wrong number of fields, an empty id or an id
seen before is rejected, counted and named in the report.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from fate_nb.flow import storage
from fate_nb.flow.errors import DataError

CHUNK_BYTES = 16 << 20
MAX_HEADER_BYTES = 1 << 20
EXAMPLES_PER_REASON = 5

REASON_FIELDS = "wrong number of fields"
REASON_EMPTY_ID = "empty id"
REASON_DUPLICATE_ID = "duplicate id (the first row with this id was kept)"

_CONVERSION_ERROR = re.compile(r"In CSV column #(\d+): CSV conversion error")


@dataclass(frozen=True)
class CsvLayout:
    """What the first line of a file says: separator, column names, lines before the data."""

    delimiter: str
    column_names: list[str]
    skip_lines: int

    @property
    def sid(self) -> str:
        """Name of the id column (always the first)."""
        return self.column_names[0]

    @property
    def header(self) -> list[str]:
        """Names of the columns after the id."""
        return self.column_names[1:]


@dataclass
class IngestReport:
    """Rows read, stored and rejected by one import, with the reasons."""

    upload_count: int = 0
    actual_count: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rejected_count(self) -> int:
        """Rows read but not stored."""
        return sum(self.rejected.values())

    def reject(self, reason: str, count: int, examples: list[str]) -> None:
        """Count ``count`` rejected rows and keep a few of them as examples."""
        if count <= 0:
            return
        self.rejected[reason] += count
        kept = self.examples.setdefault(reason, [])
        kept.extend(examples[: EXAMPLES_PER_REASON - len(kept)])

    def message(self) -> str:
        """One sentence for people: what was stored and why rows were left out."""
        text = f"{self.actual_count} of {self.upload_count} rows stored"
        if not self.rejected:
            return text
        reasons = []
        for reason, count in self.rejected.items():
            examples = ", ".join(map(repr, self.examples.get(reason, [])))
            reasons.append(
                f"{count} rejected for {reason}" + (f" (e.g. {examples})" if examples else "")
            )
        return f"{text}; {'; '.join(reasons)}"

    def to_summary(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return {
            "upload_count": self.upload_count,
            "actual_count": self.actual_count,
            "rejected_count": self.rejected_count,
            "rejected": dict(self.rejected),
            "rejected_examples": self.examples,
            "message": self.message(),
        }


class _TypeConflict(Exception):
    """A chunk has a value that does not fit the type chosen for a column."""

    def __init__(self, column: int) -> None:
        super().__init__(column)
        self.column = column


def read_layout(path: Path, *, head: bool, delimiter: str | None = None) -> CsvLayout:
    """Read the first non-blank line: the separator and the column names."""
    with path.open("rb") as stream:
        skipped = 0
        for raw in iter(lambda: stream.readline(MAX_HEADER_BYTES), b""):
            line = raw.removeprefix(codecs.BOM_UTF8) if skipped == 0 else raw
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            skipped += 1
            if text.strip():
                break
        else:
            raise DataError(f"file {path.name} is empty: it has no header and no data rows")

    if delimiter is None:
        delimiter = "\t" if "\t" in text and "," not in text else ","
    fields = next(csv.reader([text], delimiter=delimiter))
    if len(fields) < 1:
        raise DataError(f"the first line of {path.name} has no fields")

    if not head:
        names = ["id", *(f"x{i}" for i in range(len(fields) - 1))]
        return CsvLayout(delimiter, names, skipped - 1)

    names = [name.strip() for name in fields]
    if any(not name for name in names):
        raise DataError(f"the header of {path.name} has an empty column name: {text!r}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"the header of {path.name} repeats column names: {', '.join(repeated)}")
    return CsvLayout(delimiter, names, skipped)


def has_data_line(path: Path, layout: CsvLayout) -> bool:
    """Whether any non-blank line follows the header."""
    with path.open("rb") as stream:
        for _ in range(layout.skip_lines):
            stream.readline()
        return any(line.strip(codecs.BOM_UTF8 + b" \t\r\n") for line in stream)


def _chunks(path: Path, skip_lines: int, chunk_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Byte chunks that end at a line end, with the file offset reached after each."""
    with path.open("rb") as stream:
        for _ in range(skip_lines):
            stream.readline()
        carry = stream.read(len(codecs.BOM_UTF8)).removeprefix(codecs.BOM_UTF8)
        while True:
            block = stream.read(chunk_bytes)
            if not block:
                if carry:
                    yield carry, stream.tell()
                return
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            carry = data[cut:]
            yield data[:cut], stream.tell() - len(carry)


def _widen(current: pa.DataType) -> pa.DataType:
    """The next wider type for a column whose values stopped fitting."""
    if pa.types.is_integer(current) or pa.types.is_null(current):
        return pa.float64()
    return pa.string()


class _Importer:
    """One attempt at reading the whole file with a fixed set of column types."""

    def __init__(self, path: Path, layout: CsvLayout, types: dict[str, pa.DataType]) -> None:
        self.path = path
        self.layout = layout
        self.types = dict(types)
        self.report = IngestReport()
        self._bad_rows: list[str] = []

    def _on_invalid_row(self, row: Any) -> str:
        self._bad_rows.append(row.text)
        return "skip"

    def _parse(self, data: bytes) -> pa.Table:
        read = pa_csv.ReadOptions(column_names=self.layout.column_names)
        parse = pa_csv.ParseOptions(
            delimiter=self.layout.delimiter, invalid_row_handler=self._on_invalid_row
        )
        convert = pa_csv.ConvertOptions(column_types=self.types, strings_can_be_null=False)
        try:
            return pa_csv.read_csv(pa.py_buffer(data), read, parse, convert)
        except pa.ArrowInvalid as error:
            match = _CONVERSION_ERROR.search(str(error))
            if match:
                raise _TypeConflict(int(match.group(1))) from error
            raise DataError(f"cannot parse {self.path.name}: {error}") from error

    def _clean(self, table: pa.Table) -> pa.Table:
        """Drop rows without an id and count them."""
        empty = pc.equal(pc.utf8_trim_whitespace(table.column(0)), "")
        count = pc.sum(empty).as_py() or 0
        if count:
            self.report.reject(REASON_EMPTY_ID, count, [])
            table = table.filter(pc.invert(empty))
        return table

    def run(
        self, table_dir: Path, partition: int, progress: Callable[[float], None] | None
    ) -> pa.Schema | None:
        """Read, clean and write every chunk; the schema stored, or None for no data rows."""
        total = max(self.path.stat().st_size, 1)
        writer: storage.PartitionedWriter | None = None
        try:
            for data, offset in _chunks(self.path, self.layout.skip_lines, CHUNK_BYTES):
                if not data.strip():
                    continue
                table = self._parse(data)
                self.report.upload_count += table.num_rows + len(self._bad_rows)
                self.report.reject(REASON_FIELDS, len(self._bad_rows), self._bad_rows)
                self._bad_rows.clear()

                if writer is None:
                    # Fix every column's type from the first chunk, for all later chunks.
                    schema = pa.schema(
                        [
                            f.with_type(pa.float64()) if pa.types.is_null(f.type) else f
                            for f in table.schema
                        ]
                    )
                    self.types = {f.name: f.type for f in schema}
                    writer = storage.PartitionedWriter(table_dir, partition, schema)
                    table = table.cast(schema)

                writer.write(self._clean(table))
                if progress is not None:
                    progress(offset / total)
        finally:
            if writer is not None:
                writer.close()
        return writer.schema if writer is not None else None


def ingest_csv(
    path: Path,
    table_dir: Path,
    *,
    head: bool,
    partition: int,
    delimiter: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[CsvLayout, IngestReport]:
    """Store the rows of ``path`` as a partitioned table in ``table_dir``."""
    layout = read_layout(path, head=head, delimiter=delimiter)
    types: dict[str, pa.DataType] = {layout.sid: pa.string()}

    # Each retry widens one column, so there are at most two per column.
    for _ in range(2 * len(layout.column_names) + 1):
        importer = _Importer(path, layout, types)
        try:
            schema = importer.run(table_dir, partition, progress)
            break
        except _TypeConflict as conflict:
            storage.remove_table_dir(table_dir)
            name = layout.column_names[conflict.column]
            types = {**importer.types, name: _widen(importer.types.get(name, pa.null()))}
    else:
        raise DataError(f"cannot settle the column types of {path.name}")

    report = importer.report
    if schema is None or report.upload_count == 0:
        raise DataError(f"file {path.name} has no data rows (only a header line or blank lines)")

    removed, repeated_ids = storage.drop_duplicate_ids(table_dir, EXAMPLES_PER_REASON)
    report.reject(REASON_DUPLICATE_ID, removed, repeated_ids)
    report.actual_count = storage.count_rows(table_dir)
    if report.actual_count == 0:
        raise DataError(f"no row of {path.name} could be stored: {report.message()}")
    return layout, report
