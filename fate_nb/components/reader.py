"""Reader: copy a stored table into the job as the component's data output."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from fate_nb.components.base import Component, TaskContext
from fate_nb.components.params import Params
from fate_nb.flow import storage, tables
from fate_nb.flow.errors import DataError, NotFound, ParameterError
from fate_nb.flow.tracking import header_of

log = logging.getLogger(__name__)

# The metric's table_info shows each column's distinct values among this many first rows.
TABLE_INFO_VALUES = 5


@dataclass
class ReaderParam(Params):
    """FATE-Flow's ReaderParam: the stored table to read, as ``{"name", "namespace"}``."""

    table: dict[str, Any] = field(default_factory=dict)

    def check(self, where: str) -> None:
        """Refuse a table without a name or a namespace."""
        for key in ("name", "namespace"):
            value = self.table.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ParameterError(
                    f"{where}.table.{key} is {value!r}; give the uploaded table as "
                    '{"name": "<table_name>", "namespace": "<namespace>"}'
                )


class Reader(Component):
    """FATE-Flow's Reader: the job's own copy of an uploaded table."""

    module = "Reader"
    roles = frozenset({"guest", "host"})
    needs_data_input = False
    param_class = ReaderParam

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Copy the table with its columns, types and partition count."""
        name, namespace = ctx.params.table["name"], ctx.params.table["namespace"]
        source = tables.get_table(ctx.engine, namespace, name)
        if source is None:
            raise NotFound(
                f"table {name!r} in namespace {namespace!r} does not exist; upload it first, "
                f"or correct the table of {ctx.task.component_name}"
            )
        folder = tables.table_dir(ctx.config, source)
        if not folder.is_dir():
            raise DataError(
                f"table {name!r} in namespace {namespace!r} has no files; upload it again"
            )
        data = storage.read_table(folder)
        ctx.progress(0.5)

        schema = json.loads(source.table_meta)
        sid = data.column_names[0] if data.num_columns else str(schema.get("sid", "id"))
        output_schema: dict[str, Any] = {"sid": sid, "header": header_of(schema)}
        if schema.get("label_name"):
            output_schema["label_name"] = schema["label_name"]
        stored = ctx.save_data(data, output_schema, source.partition)

        info = {
            "table_name": name,
            "namespace": namespace,
            "count": data.num_rows,
            "partitions": source.partition,
            "storage_engine": "PARQUET",
            "table_info": _table_info(data),
        }
        meta = {"name": "reader_name", "metric_type": "data_info", **info}
        ctx.set_metric_meta("reader_namespace", "reader_name", meta)
        log.info("read %s.%s: %d rows", namespace, name, data.num_rows)
        return {
            **{key: value for key, value in info.items() if key != "table_info"},
            "output_table": (
                {"name": stored.table_name, "namespace": stored.namespace} if stored else None
            ),
        }


def _table_info(data: pa.Table) -> dict[str, str]:
    """A few distinct values of each column after the id, from the first rows, comma-joined."""
    head = data.slice(0, TABLE_INFO_VALUES)
    info: dict[str, str] = {}
    for name in head.column_names[1:]:
        values = [str(value) for value in head.column(name).to_pylist()]
        info[name] = ",".join(dict.fromkeys(values))
    return info
