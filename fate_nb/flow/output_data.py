"""A component's output data: FATE's preview of the first rows, and every row as a tar.gz.

Rows are the stored table's columns in order, the id first; the header is their names.
Values are JSON values: a ``predict_detail`` is an object such as ``{"0": 0.1, "1": 0.9}``,
missing numbers are null.

The archive of ``/v1/tracking/component/output/data/download`` holds, at its root, for each
output data name ``<name>``: ``<name>.csv`` (the header line, then every row) and
``<name>.meta`` (``{"header": [...]}``), the files FATE 1.5+ serves and its clients read.
FATE-Flow 1.4's own names for the first output, ``output_data.csv`` (a hard link to the
first ``<name>.csv``) and ``output_data_meta.json``, sit in the folder ``fate_flow_1.4/``:
FATE's pipeline counts the ``.csv`` files at the root to tell one output from several.
CSV cells are text as it is, numbers, booleans, objects and lists as JSON, and an empty
field for a missing value.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pyarrow.parquet as pq
from sqlalchemy.engine import Engine

from fate_nb.flow import args, storage, tables
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import DataError, NotFound, ParameterError
from fate_nb.flow.store import DataTable
from fate_nb.flow.tracking_views import (
    NO_DATA,
    TrackingReply,
    output_tables,
    party_component,
    safe_file_name,
)

PREVIEW_ROWS = 100
MAX_PREVIEW_ROWS = 10_000
# Columns stored as JSON text whose values are answered as the JSON they hold.
JSON_COLUMNS = frozenset({"predict_detail"})
FATE_1_4_DIR = "fate_flow_1.4"
# Archives are built in memory up to this size, then on disk.
SPOOL_BYTES = 8 << 20


def preview(config: FlowConfig, engine: Engine, request: Mapping[str, Any]) -> TrackingReply:
    """``/v1/tracking/component/output/data``: the first rows of the first output table.

    ``limit`` (default 100, at most 10,000) caps the rows; ``meta.total`` counts them all.
    """
    ref = party_component(engine, request)
    limit = args.integer(request, "limit", PREVIEW_ROWS, minimum=1, maximum=MAX_PREVIEW_ROWS)
    outputs = output_tables(engine, ref)
    if not outputs:
        return TrackingReply([], retmsg=NO_DATA)
    _, table = outputs[0]
    folder = _table_folder(config, table)
    rows = list(_rows(folder, limit))
    return TrackingReply(rows, {"header": _header(folder), "total": table.count})


def table_preview(
    config: FlowConfig, engine: Engine, namespace: str, table_name: str, request: Mapping[str, Any]
) -> TrackingReply:
    """``/v1/table/preview`` (fate-nb's own): the first rows of any stored table.

    The same shape as the output data preview; ``limit`` as there.
    """
    limit = args.integer(request, "limit", PREVIEW_ROWS, minimum=1, maximum=MAX_PREVIEW_ROWS)
    table = tables.get_table(engine, namespace, table_name)
    if table is None:
        raise NotFound(f"table {table_name!r} in namespace {namespace!r} does not exist")
    folder = _table_folder(config, table)
    rows = list(_rows(folder, limit))
    return TrackingReply(rows, {"header": _header(folder), "total": table.count})


def archive(
    config: FlowConfig, engine: Engine, request: Mapping[str, Any]
) -> tuple[str, IO[bytes]]:
    """The download's file name and an open tar.gz of every output table (see the module).

    ``limit`` -1 (the default) writes every row, a positive one that many; ``head`` 0 leaves
    the header line out of the CSV files.
    """
    ref = party_component(engine, request)
    limit = args.integer(request, "limit", -1)
    if limit == 0:
        raise ParameterError("limit is 0; give -1 for every row, or a number of rows")
    head = args.flag(request, "head", True)
    outputs = output_tables(engine, ref)
    if not outputs:
        raise NotFound(f"{ref.describe()} has no output data")

    job_id, component_name, role, party_id = ref.key
    name = f"job_{job_id}_{component_name}_{role}_{party_id}_output_data.tar.gz"
    # Handed to the caller open: it streams the archive to the client and closes it.
    contents: IO[bytes] = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115
    try:
        with tarfile.open(fileobj=contents, mode="w:gz") as tar:
            for position, (data_name, table) in enumerate(outputs):
                folder = _table_folder(config, table)
                stem = _file_stem(data_name)
                header = _header(folder)
                _add_csv(tar, f"{stem}.csv", header if head else None, folder, limit)
                _add_bytes(tar, f"{stem}.meta", json.dumps({"header": header}).encode())
                if position == 0:
                    link = _member(f"{FATE_1_4_DIR}/output_data.csv", 0)
                    link.type, link.linkname = tarfile.LNKTYPE, f"{stem}.csv"
                    tar.addfile(link)
                    meta = json.dumps({"header": header}).encode()
                    _add_bytes(tar, f"{FATE_1_4_DIR}/output_data_meta.json", meta)
    except BaseException:
        contents.close()
        raise
    contents.seek(0)
    return name, contents


def _table_folder(config: FlowConfig, table: DataTable) -> Path:
    folder = tables.table_dir(config, table)
    if not storage.part_files(folder):
        raise DataError(
            f"output table {table.table_name!r} in namespace {table.namespace!r} has no files; "
            "run the job again"
        )
    return folder


def _header(folder: Path) -> list[str]:
    """The column names of a stored table, the id first."""
    return list(pq.ParquetFile(storage.part_files(folder)[0]).schema_arrow.names)


def _rows(folder: Path, limit: int | None) -> Iterator[list[Any]]:
    """The table's rows in storage order as lists of JSON values; ``limit`` None for all."""
    left = limit
    for batch in storage.iter_batches(folder, batch_size=8192):
        if left is not None:
            if left <= 0:
                return
            batch = batch.slice(0, left)
            left -= batch.num_rows
        decode = [name in JSON_COLUMNS for name in batch.schema.names]
        columns = [column.to_pylist() for column in batch.columns]
        for values in zip(*columns, strict=True):
            yield [_json_value(value, parse) for value, parse in zip(values, decode, strict=True)]


def _json_value(value: Any, parse: bool) -> Any:
    """A stored value as JSON can carry it: NaN and infinities become null."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        if parse and value[:1] in ("{", "["):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value
    if isinstance(value, (dict, list)):
        return value
    return str(value)


def _csv_cell(value: Any) -> str:
    """A JSON value as a CSV field: text as it is, missing as empty, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _file_stem(data_name: str) -> str:
    """An output data name as a file name at the archive's root."""
    stem = safe_file_name(data_name)
    return stem if stem.strip("._") else f"data_{stem}"


def _member(name: str, size: int) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.size = size
    member.mode = 0o644
    member.mtime = int(time.time())
    return member


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_member(name, len(data)), io.BytesIO(data))


def _add_csv(
    tar: tarfile.TarFile, name: str, header: list[str] | None, folder: Path, limit: int
) -> None:
    """Write the rows as CSV into a scratch file, then add it to the archive."""
    with tempfile.TemporaryFile() as scratch:
        text = io.TextIOWrapper(scratch, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        if header is not None:
            writer.writerow(header)
        for row in _rows(folder, limit if limit > 0 else None):
            writer.writerow([_csv_cell(value) for value in row])
        text.flush()
        text.detach()
        size = scratch.tell()
        scratch.seek(0)
        tar.addfile(_member(name, size), scratch)
