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
import mmap
import os
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from fate_nb.flow import storage
from fate_nb.flow.errors import DataError

CHUNK_BYTES = 16 << 20
FIRST_CHUNK_BYTES = 1 << 20
# pyarrow parses a chunk block by block; blocks that fit the CPU caches parse fastest.
PARSE_BLOCK_BYTES = 1 << 20
MAX_ROW_BYTES = 1 << 30
PARSE_THREADS = max(2, min(4, os.cpu_count() or 2))
MAX_HEADER_BYTES = 1 << 20
EXAMPLES_PER_REASON = 5

REASON_FIELDS = "wrong number of fields"
REASON_EMPTY_ID = "empty id"
REASON_DUPLICATE_ID = "duplicate id (the first row with this id was kept)"

# Single-threaded reads name the row too: "In CSV column #1: Row #5: CSV conversion error".
_CONVERSION_ERROR = re.compile(r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error")


@dataclass(frozen=True)
class CsvLayout:
    """What the first line of a file says: separator, column names, where the data starts."""

    delimiter: str
    column_names: list[str]
    data_offset: int

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
        first = True
        while True:
            line_start = stream.tell()
            raw = stream.readline(MAX_HEADER_BYTES + 1)
            if not raw:
                raise DataError(f"file {path.name} is empty: it has no header and no data rows")
            if len(raw) > MAX_HEADER_BYTES:
                raise DataError(
                    f"the first line of {path.name} is longer than {MAX_HEADER_BYTES} bytes"
                )
            if first and raw.startswith(codecs.BOM_UTF8):
                raw, line_start = raw[len(codecs.BOM_UTF8) :], line_start + len(codecs.BOM_UTF8)
            first = False
            text = _header_text(path, raw)
            if text.strip():
                break
        after_line = stream.tell()

    if delimiter is None:
        delimiter = "\t" if "\t" in text and "," not in text else ","
    if "\r" in text:
        raise DataError(
            f"the first line of {path.name} holds a carriage return (\\r); lines must end "
            "with \\n or \\r\\n"
        )
    try:
        fields = next(csv.reader([text], delimiter=delimiter))
    except csv.Error as error:
        raise DataError(f"cannot read the first line of {path.name}: {error}") from None

    if not head:
        names = ["id", *(f"x{i}" for i in range(len(fields) - 1))]
        return CsvLayout(delimiter, names, line_start)

    names = [name.strip() for name in fields]
    if any(not name for name in names):
        raise DataError(f"the header of {path.name} has an empty column name: {text!r}")
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        shown = ", ".join(repeated[:10]) + (
            f" and {len(repeated) - 10} more" if len(repeated) > 10 else ""
        )
        raise DataError(f"the header of {path.name} repeats column names: {shown}")
    return CsvLayout(delimiter, names, after_line)


def _header_text(path: Path, raw: bytes) -> str:
    """A header line as text; refuse bytes that are not UTF-8 text."""
    if b"\x00" in raw:
        raise DataError(
            f"{path.name} holds NUL bytes: it is binary or UTF-16, not a UTF-8 text file"
        )
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise DataError(
            f"the first line of {path.name} is not UTF-8 text; save the file as UTF-8"
        ) from None


def has_data_line(path: Path, layout: CsvLayout) -> bool:
    """Whether anything but blank space follows the header (read in bounded blocks)."""
    with path.open("rb") as stream:
        stream.seek(layout.data_offset)
        return any(block.strip() for block in iter(lambda: stream.read(1 << 20), b""))


class _MappedFile:
    """The data part of a file, memory-mapped and cut into chunks at line ends, never copied."""

    def __init__(self, path: Path, start: int) -> None:
        self.start = start
        self.size = path.stat().st_size
        self._mapped: mmap.mmap | None = None
        if self.size > start:
            with path.open("rb") as stream:
                self._mapped = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)

    def chunks(self, first_bytes: int, chunk_bytes: int) -> Iterator[tuple[memoryview, int, int]]:
        """Views that end at a line end, with their start and end: a short one, then long ones."""
        if self._mapped is None:
            return
        view = memoryview(self._mapped)
        start, length = self.start, first_bytes
        while start < self.size:
            end = self._mapped.find(b"\n", min(start + length, self.size) - 1)
            end = self.size if end < 0 else end + 1
            yield view[start:end], start, end
            start, length = end, chunk_bytes

    def has_quote(self, start: int, end: int) -> bool:
        """Whether a double quote occurs in the range (quoted values need a closer look)."""
        return self._mapped is not None and self._mapped.find(b'"', start, end) >= 0

    def release(self, start: int, end: int) -> None:
        """Drop the pages of a parsed range from memory; the file itself is untouched."""
        if self._mapped is None:
            return
        first = start - start % mmap.PAGESIZE
        self._mapped.madvise(mmap.MADV_DONTNEED, first, end - first)


def _widen(current: pa.DataType) -> pa.DataType:
    """The next wider type for a column whose values stopped fitting."""
    if pa.types.is_integer(current) or pa.types.is_null(current):
        return pa.float64()
    return pa.string()


def _not_utf8(path: Path, column: str) -> DataError:
    return DataError(
        f"column {column} of {path.name} holds text that is not UTF-8; save the file as UTF-8"
    )


def _refuse_binary(path: Path, schema: pa.Schema) -> None:
    """pyarrow reads a column with bytes that are not UTF-8 as binary; such text is refused."""
    for field_ in schema:
        if pa.types.is_binary(field_.type):
            raise _not_utf8(path, field_.name)


class _Importer:
    """One attempt at reading the whole file with a fixed set of column types."""

    def __init__(self, path: Path, layout: CsvLayout, types: dict[str, pa.DataType]) -> None:
        self.path = path
        self.layout = layout
        self.types = dict(types)
        self.report = IngestReport()

    def _parse(self, data: memoryview, quoted: bool = False) -> tuple[pa.Table, list[str]]:
        """Parse one chunk; return its rows and the text of the rows it had to skip."""
        parsed = self._parse_any_length(data)
        if quoted:
            self._check_one_row_per_line(data, *parsed)
        return parsed

    def _parse_any_length(self, data: memoryview) -> tuple[pa.Table, list[str]]:
        try:
            return self._parse_blocks(data, PARSE_BLOCK_BYTES)
        except pa.ArrowInvalid as error:
            if "straddle" not in str(error):
                raise self._explain(error) from error
        # A row longer than a block: parse the chunk as one block (slower, but it fits).
        if len(data) > MAX_ROW_BYTES:
            raise DataError(f"{self.path.name} has a line longer than {MAX_ROW_BYTES} bytes")
        try:
            return self._parse_blocks(data, len(data) + 1)
        except pa.ArrowInvalid as error:
            raise self._explain(error) from error

    def _check_one_row_per_line(self, data: memoryview, table: pa.Table, skipped: list) -> None:
        """A quoted value that runs over a line end would swallow rows: refuse it instead."""
        lines = sum(1 for line in bytes(data).split(b"\n") if line not in (b"", b"\r"))
        if table.num_rows + len(skipped) < lines:
            raise DataError(
                f"{self.path.name} has a quoted value that runs over a line end, or a quote "
                "that is never closed; fate-nb reads one row per line, so close every quote "
                "on its own line"
            )

    def _parse_blocks(self, data: memoryview, block_bytes: int) -> tuple[pa.Table, list[str]]:
        skipped: list[str] = []

        def on_invalid_row(row: Any) -> str:
            skipped.append(row.text)
            return "skip"

        # pyarrow's own threads gain nothing on a chunk this size; chunks run in parallel.
        read = pa_csv.ReadOptions(
            column_names=self.layout.column_names, use_threads=False, block_size=block_bytes
        )
        parse = pa_csv.ParseOptions(
            delimiter=self.layout.delimiter, invalid_row_handler=on_invalid_row
        )
        convert = pa_csv.ConvertOptions(column_types=self.types, strings_can_be_null=False)
        return pa_csv.read_csv(pa.py_buffer(data), read, parse, convert), skipped

    def _explain(self, error: pa.ArrowInvalid) -> Exception:
        """A type conflict to settle by widening, or a data error for the client."""
        match = _CONVERSION_ERROR.search(str(error))
        if match:
            return _TypeConflict(int(match.group(1)))
        return DataError(f"cannot parse {self.path.name}: {error}")

    def _clean(self, table: pa.Table, skipped: list[str]) -> pa.Table:
        """Count the rows read; drop and count rows without an id."""
        self.report.upload_count += table.num_rows + len(skipped)
        self.report.reject(REASON_FIELDS, len(skipped), skipped)
        empty = pc.equal(pc.utf8_trim_whitespace(table.column(0)), "")
        count = pc.sum(empty).as_py() or 0
        if count:
            self.report.reject(REASON_EMPTY_ID, count, [])
            table = table.filter(pc.invert(empty))
        return table

    def _open_writer(
        self, table: pa.Table, table_dir: Path, partition: int
    ) -> storage.PartitionedWriter:
        """Fix every column's type from the first chunk, for all later chunks."""
        _refuse_binary(self.path, table.schema)
        schema = pa.schema(
            [f.with_type(pa.float64()) if pa.types.is_null(f.type) else f for f in table.schema]
        )
        self.types = {f.name: f.type for f in schema}
        return storage.PartitionedWriter(table_dir, partition, schema)

    def run(
        self, table_dir: Path, partition: int, progress: Callable[[float], None] | None
    ) -> pa.Schema | None:
        """Read, clean and write every chunk; the schema stored, or None for no data rows."""
        source = _MappedFile(self.path, self.layout.data_offset)
        total = max(source.size, 1)
        writer: storage.PartitionedWriter | None = None
        parsing: deque[tuple[Future[tuple[pa.Table, list[str]]], int, int]] = deque()

        def store_oldest() -> None:
            future, start, end = parsing.popleft()
            writer.write(self._clean(*future.result()))  # type: ignore[union-attr]
            source.release(start, end)
            if progress is not None:
                progress(end / total)

        pool = ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="csv-parser")
        try:
            # The first chunk, parsed alone, only has to settle the column types: keep it short.
            for data, start, end in source.chunks(min(FIRST_CHUNK_BYTES, CHUNK_BYTES), CHUNK_BYTES):
                if writer is None:
                    table, skipped = self._parse(data, source.has_quote(start, end))
                    if table.num_rows == 0 and not skipped:
                        continue
                    writer = self._open_writer(table, table_dir, partition)
                    writer.write(self._clean(table.cast(writer.schema), skipped))
                    source.release(start, end)
                    continue

                # Chunks are parsed in parallel but stored in file order.
                quoted = source.has_quote(start, end)
                parsing.append((pool.submit(self._parse, data, quoted), start, end))
                if len(parsing) > PARSE_THREADS:
                    store_oldest()
            while parsing:
                store_oldest()
        finally:
            for future, _, _ in parsing:
                future.cancel()
            pool.shutdown(wait=True)
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
            current = importer.types.get(name, pa.null())
            if pa.types.is_string(current):
                # Only bytes that are not UTF-8 fail to convert to a string: no wider type helps.
                raise _not_utf8(path, name) from conflict
            types = {**importer.types, name: _widen(current)}
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
