"""Upload: store a delimited text file as a table."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fate_nb.components.base import Component, TaskContext
from fate_nb.components.params import Params
from fate_nb.flow import ingest, storage, tables

log = logging.getLogger(__name__)


@dataclass
class UploadParam(Params):
    """What ``/v1/data/upload`` checked and handed to the task."""

    file: str = ""
    uploaded: bool = False
    head: int = 1
    partition: int = 1
    namespace: str = ""
    table_name: str = ""
    drop: int = 0
    id_delimiter: str | None = None
    work_mode: int = 0


class Upload(Component):
    """Store a delimited text file as a table; runs only as a local job."""

    module = "Upload"
    roles = frozenset({"local"})
    needs_data_input = False
    param_class = UploadParam
    in_dsl = False

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Read the file into a new folder, then make it the table in one commit."""
        return _upload(ctx, ctx.params)


def _upload(ctx: TaskContext, params: UploadParam) -> dict[str, Any]:
    # The path was checked at submit; check again now, in case a link changed meanwhile.
    source = Path(params.file)
    if not params.uploaded:
        source = ctx.config.server_path(params.file, "file")
    namespace, table_name = params.namespace, params.table_name
    partition = int(params.partition)
    drop = int(params.drop) == 1
    folder = tables.new_table_dir(ctx.config)

    try:
        tables.refuse_existing(ctx.engine, namespace, table_name, drop)
        layout, report = ingest.ingest_csv(
            source,
            folder,
            head=bool(int(params.head)),
            partition=partition,
            delimiter=params.id_delimiter,
            progress=ctx.progress,
        )
        schema = {"header": ",".join(layout.header), "sid": layout.sid}
        ctx.progress(0.99)
        tables.commit_table(
            ctx.config,
            ctx.engine,
            namespace=namespace,
            table_name=table_name,
            folder=folder,
            count=report.actual_count,
            partition=partition,
            schema=schema,
            job_id=ctx.task.job_id,
            drop=drop,
        )
    except BaseException:
        storage.remove_table_dir(folder)
        raise
    finally:
        if params.uploaded:
            source.unlink(missing_ok=True)

    log.info("table %s.%s stored: %s", namespace, table_name, report.message())
    upload_info = {
        "table_name": table_name,
        "namespace": namespace,
        "partition": partition,
        "upload_count": report.upload_count,
        "actual_count": report.actual_count,
        "rejected_count": report.rejected_count,
    }
    return {"upload_info": upload_info, "schema": schema, **report.to_summary()}
