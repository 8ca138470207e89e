"""Download: write a table to a delimited text file on the server."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from fate_nb.components import TaskContext
from fate_nb.flow import storage, tables
from fate_nb.flow.errors import NotFound

log = logging.getLogger(__name__)


def run(ctx: TaskContext) -> dict[str, Any]:
    """Write every row to a temporary file beside the target, then move it into place."""
    params = ctx.parameters
    namespace, table_name = params["namespace"], params["table_name"]
    table = tables.get_table(ctx.engine, namespace, table_name)
    if table is None:
        raise NotFound(f"table {table_name!r} in namespace {namespace!r} does not exist")

    output = Path(params["output_path"])
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.with_name(f".{output.name}.{os.getpid()}.part")
    try:
        count = storage.export_csv(
            tables.table_dir(ctx.config, table),
            staging,
            delimiter=params.get("delimitor") or ",",
            header=bool(int(params.get("head", 0))),
        )
        staging.replace(output)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise

    log.info("table %s.%s written to %s: %d rows", namespace, table_name, output, count)
    return {"count": count, "output_path": str(output)}
