"""Table contents on disk: one Parquet file per partition, rows placed by a hash of their id.

A table folder holds ``part-00000.parquet`` .. ``part-<n-1>.parquet``. The first column is the
id (sid) and is always a string; the other columns keep the types they were stored with.
Hashing the id to pick the partition keeps every copy of an id in one file, so a partition
can be checked for duplicate ids on its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PART_GLOB = "part-*.parquet"
MAX_PARTITION = 1024

# Dictionary encoding buys nothing for float features and costs a third of the write time.
_PARQUET_OPTIONS = {"use_dictionary": False, "compression": "snappy"}


def part_path(table_dir: Path, index: int) -> Path:
    """The file of partition ``index``."""
    return table_dir / f"part-{index:05d}.parquet"


def partition_of(ids: pa.Array | pa.ChunkedArray, partition: int) -> np.ndarray:
    """The partition index of each id: a stable 64-bit hash of the id, modulo ``partition``."""
    values = ids.to_numpy(zero_copy_only=False)
    hashes = pd.util.hash_array(values, categorize=False)
    return (hashes % np.uint64(partition)).astype(np.intp)


class PartitionedWriter:
    """Writes tables into ``partition`` Parquet files, each row into the file of its id."""

    def __init__(self, table_dir: Path, partition: int, schema: pa.Schema) -> None:
        self.table_dir = table_dir
        self.partition = partition
        self.schema = schema
        self.rows_written = 0
        self._writers: dict[int, pq.ParquetWriter] = {}
        # One writer thread overlaps Parquet encoding with the caller's parsing of the next chunk.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-writer")
        self._pending: Future[None] | None = None
        table_dir.mkdir(parents=True, exist_ok=True)

    def write(self, table: pa.Table) -> None:
        """Queue ``table`` for writing; at most one chunk waits, which bounds memory."""
        self._wait()
        self._pending = self._pool.submit(self._write_now, table)

    def close(self) -> None:
        """Finish pending writes and close every file, writing empty partitions too."""
        try:
            self._wait()
            for index in range(self.partition):
                if index not in self._writers:
                    self._writer(index)
        finally:
            # The writer thread must be done before its files are closed, even when a stop
            # request interrupted the wait above.
            self._pool.shutdown(wait=True)
            for writer in self._writers.values():
                writer.close()

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _writer(self, index: int) -> pq.ParquetWriter:
        if index not in self._writers:
            path = part_path(self.table_dir, index)
            self._writers[index] = pq.ParquetWriter(path, self.schema, **_PARQUET_OPTIONS)
        return self._writers[index]

    def _write_now(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return

        if self.partition == 1:
            self._writer(0).write_table(table)
            self.rows_written += table.num_rows
            return

        # Sort the rows by partition once, then hand each file its contiguous slice.
        index = partition_of(table.column(0), self.partition)
        order = np.argsort(index, kind="stable")
        bounds = np.searchsorted(index[order], np.arange(self.partition + 1))
        ordered = table.take(pa.array(order))
        for part in range(self.partition):
            start, stop = int(bounds[part]), int(bounds[part + 1])
            if stop > start:
                self._writer(part).write_table(ordered.slice(start, stop - start))
        self.rows_written += table.num_rows


def part_files(table_dir: Path) -> list[Path]:
    """The partition files of a table, in partition order."""
    return sorted(table_dir.glob(PART_GLOB))


def count_rows(table_dir: Path) -> int:
    """Number of rows stored, read from the Parquet footers."""
    return sum(pq.ParquetFile(path).metadata.num_rows for path in part_files(table_dir))


def drop_duplicate_ids(table_dir: Path, examples: int = 5) -> tuple[int, list[str]]:
    """Keep the first row of each id in every partition; return rows removed and some ids."""
    removed = 0
    sample: list[str] = []
    for path in part_files(table_dir):
        parquet = pq.ParquetFile(path)
        sid = parquet.schema_arrow.names[0]
        ids = parquet.read(columns=[sid]).column(0).to_pandas()
        repeated = ids.duplicated(keep="first").to_numpy()
        if not repeated.any():
            continue

        removed += int(repeated.sum())
        sample.extend(ids[repeated].unique()[: max(0, examples - len(sample))].tolist())
        kept = parquet.read().filter(pa.array(~repeated))
        staging = path.with_suffix(".rewrite")
        pq.write_table(kept, staging, **_PARQUET_OPTIONS)
        staging.replace(path)
    return removed, sample


def iter_batches(table_dir: Path, batch_size: int = 65536) -> Iterator[pa.RecordBatch]:
    """Every row of a table, partition after partition, in record batches."""
    for path in part_files(table_dir):
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_size)


def read_table(table_dir: Path) -> pa.Table:
    """The whole table in memory (for small tables and tests)."""
    files = part_files(table_dir)
    if not files:
        return pa.table({})
    return pa.concat_tables(pq.read_table(path) for path in files)


def export_csv(table_dir: Path, output: Path, *, delimiter: str = ",", header: bool = False) -> int:
    """Write a table as delimited text, one line per row; return the number of rows."""
    if not table_dir.is_dir():
        raise FileNotFoundError(f"no table folder {table_dir}")
    rows = 0
    with output.open("w", encoding="utf-8", newline="") as out:
        for batch in iter_batches(table_dir):
            # Arrow-backed columns keep integers with gaps as integers, not floats.
            frame = batch.to_pandas(types_mapper=pd.ArrowDtype)
            frame.to_csv(out, sep=delimiter, header=header and rows == 0, index=False)
            rows += batch.num_rows

        if header and rows == 0:
            files = part_files(table_dir)
            if not files:
                raise FileNotFoundError(f"no partition files in {table_dir}")
            names = pq.ParquetFile(files[0]).schema_arrow.names
            pd.DataFrame(columns=names).to_csv(out, sep=delimiter, index=False)
    return rows


def remove_table_dir(table_dir: Path) -> None:
    """Delete a table's folder and everything in it."""
    shutil.rmtree(table_dir, ignore_errors=True)
