"""Stored tables: their metadata rows, their info, replacing and deleting them."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from fate_nb.flow import storage
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import NotFound, ParameterError, TableExists
from fate_nb.flow.store import DataTable, now_ms, session

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 256


def check_name(value: str, argument: str) -> str:
    """A namespace or table name: any text that fits the store and holds no control character."""
    if not value.strip():
        raise ParameterError(f"{argument} is blank; give a name")
    if len(value) > MAX_NAME_LENGTH:
        raise ParameterError(f"{argument} is longer than {MAX_NAME_LENGTH} characters")
    if "\ufffd" in value:
        raise ParameterError(f"{argument} is not valid UTF-8 text: {value!r}")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ParameterError(f"{argument} contains a control character: {value!r}")
    return value


def get_table(engine: Engine, namespace: str, table_name: str) -> DataTable | None:
    """The metadata row of a table, or None."""
    with session(engine) as db:
        return db.get(DataTable, (namespace, table_name))


def table_dir(config: FlowConfig, table: DataTable) -> Path:
    """The folder holding a table's partitions."""
    return config.tables_dir / table.path


def new_table_dir(config: FlowConfig) -> Path:
    """A fresh folder for a table being written; it becomes the table's only at commit."""
    return config.tables_dir / uuid.uuid4().hex


def refuse_existing(engine: Engine, namespace: str, table_name: str, drop: bool) -> None:
    """Refuse to write into an existing table unless the request asked to replace it."""
    existing = get_table(engine, namespace, table_name)
    if existing is not None and not drop:
        raise TableExists(
            f"table {table_name!r} in namespace {namespace!r} already exists "
            f"({existing.count} rows); send drop=1 to replace it, or choose another table_name"
        )


def commit_table(
    config: FlowConfig,
    engine: Engine,
    *,
    namespace: str,
    table_name: str,
    folder: Path,
    count: int,
    partition: int,
    schema: dict[str, Any],
    job_id: str,
    drop: bool,
) -> DataTable:
    """Make a written folder the table's contents in one transaction; drop the old folder after."""
    replaced: Path | None = None
    with session(engine) as db:
        row = db.get(DataTable, (namespace, table_name))
        if row is not None and not drop:
            raise TableExists(
                f"table {table_name!r} in namespace {namespace!r} was created by another job "
                "while this upload ran; send drop=1 to replace it"
            )
        if row is None:
            row = DataTable(namespace=namespace, table_name=table_name)
        else:
            replaced = table_dir(config, row)
        row.count = count
        row.partition = partition
        row.table_meta = json.dumps(schema)
        row.path = folder.name
        row.job_id = job_id
        row.update_time = now_ms()
        db.add(row)
        db.commit()

    if replaced is not None and replaced != folder:
        storage.remove_table_dir(replaced)
    return row


def table_info(engine: Engine, namespace: str, table_name: str) -> dict[str, Any]:
    """Count, partition and schema; a missing table answers count 0, as FATE does."""
    table = get_table(engine, namespace, table_name)
    info: dict[str, Any] = {"table_name": table_name, "namespace": namespace}
    if table is None:
        return {**info, "count": 0, "partition": None, "schema": {}}
    return {
        **info,
        "count": table.count,
        "partition": table.partition,
        "schema": json.loads(table.table_meta),
    }


def delete_table(config: FlowConfig, engine: Engine, namespace: str, table_name: str) -> None:
    """Remove a table's row and its files."""
    with session(engine) as db:
        row = db.get(DataTable, (namespace, table_name))
        if row is None:
            raise NotFound(f"table {table_name!r} in namespace {namespace!r} does not exist")
        folder = table_dir(config, row)
        db.delete(row)
        db.commit()
    storage.remove_table_dir(folder)
    log.info("deleted table %s.%s", namespace, table_name)
