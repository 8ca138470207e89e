"""Download: write a table to a delimited text file on the server."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fate_nb.components.base import Component, TaskContext
from fate_nb.components.params import Params
from fate_nb.flow import storage, tables
from fate_nb.flow.data_access import check_output_path
from fate_nb.flow.errors import DataError, NotFound, PathNotAllowed

log = logging.getLogger(__name__)

READ_ATTEMPTS = 5


@dataclass
class DownloadParam(Params):
    """What ``/v1/data/download`` checked and handed to the task."""

    namespace: str = ""
    table_name: str = ""
    output_path: str = ""
    delimitor: str = ","
    head: int = 0
    work_mode: int = 0


class Download(Component):
    """Write a table to a delimited text file on the server; runs only as a local job."""

    module = "Download"
    roles = frozenset({"local"})
    needs_data_input = False
    param_class = DownloadParam
    in_dsl = False

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Write every row to a temporary file beside the target, then move it into place."""
        return _download(ctx, ctx.params)


def _export(ctx: TaskContext, namespace: str, table_name: str, staging: Path) -> int:
    """Write the table's current contents; read again if a replacement swapped them meanwhile."""
    for _ in range(READ_ATTEMPTS):
        table = tables.get_table(ctx.engine, namespace, table_name)
        if table is None:
            raise NotFound(f"table {table_name!r} in namespace {namespace!r} does not exist")
        try:
            count = storage.export_csv(
                tables.table_dir(ctx.config, table),
                staging,
                delimiter=ctx.params.delimitor or ",",
                header=bool(int(ctx.params.head)),
            )
        except FileNotFoundError:
            count = -1
        current = tables.get_table(ctx.engine, namespace, table_name)
        if count == table.count and current is not None and current.path == table.path:
            return count
        log.info(
            "table %s.%s was replaced while it was read; reading it again", namespace, table_name
        )
    raise DataError(f"table {table_name!r} kept being replaced while it was read; try again")


def _download(ctx: TaskContext, params: DownloadParam) -> dict[str, Any]:
    namespace, table_name = params.namespace, params.table_name
    # The path was checked at submit; check again now, in case a link changed meanwhile.
    output = check_output_path(ctx.config, params.output_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    # A short staging name: the output's own name may already be as long as names can be.
    staging = output.with_name(f".fate_nb_{os.getpid()}.part")
    try:
        count = _export(ctx, namespace, table_name, staging)
        if check_output_path(ctx.config, params.output_path) != output:
            raise PathNotAllowed("output_path changed while the table was written; try again")
        staging.replace(output)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise

    log.info("table %s.%s written to %s: %d rows", namespace, table_name, output, count)
    return {"count": count, "output_path": str(output)}
