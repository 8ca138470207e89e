"""The data access services: submitting upload and download jobs, and the upload history."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fate_nb.flow import args, ids, ingest, jobs, tables
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import DataError, NotFound, ParameterError
from fate_nb.flow.storage import MAX_PARTITION
from fate_nb.flow.store import Job, Task, session

log = logging.getLogger(__name__)

UPLOAD_COMPONENT, UPLOAD_MODULE = "upload_0", "Upload"
DOWNLOAD_COMPONENT, DOWNLOAD_MODULE = "download_0", "Download"
DEFAULT_PARTITION = 16
MAX_FILE_NAME_BYTES = 255
MAX_HISTORY_LIMIT = 1_000_000
_REPORT_KEYS = ("message", "rejected", "rejected_examples")


def table_names(request: Mapping[str, Any]) -> tuple[str, str]:
    """``namespace`` and ``table_name`` (or FATE 1.5's ``name``), both required."""
    request = {**request, "table_name": request.get("table_name") or request.get("name")}
    args.require(request, "namespace", "table_name")
    namespace = tables.check_name(args.text(request, "namespace") or "", "namespace")
    table_name = tables.check_name(args.text(request, "table_name") or "", "table_name")
    return namespace, table_name


def _check_work_mode(request: Mapping[str, Any]) -> None:
    work_mode = args.integer(request, "work_mode", 0)
    if work_mode != 0:
        raise ParameterError(
            f"work_mode {work_mode} is not served here: fate-nb runs standalone (work_mode 0)"
        )


def _delimiter(request: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = request.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value.encode()) != 1 or value in '\r\n"':
            raise ParameterError(
                f"{name} must be one ASCII character such as ',' or a tab, got {value!r}"
            )
        return value
    return None


def _check_source(path: Path, head: bool, delimiter: str | None) -> None:
    """Refuse before any job exists a file that cannot hold a single row."""
    if not path.is_file():
        raise DataError(f"file {path.name!r} does not exist on the server or is not a file")
    try:
        layout = ingest.read_layout(path, head=head, delimiter=delimiter)
    except OSError as error:
        raise DataError(f"cannot read file {path.name!r}: {error.strerror}") from error
    if not ingest.has_data_line(path, layout):
        raise DataError(f"file {path.name} has no data rows (only a header line or blank lines)")


@dataclass(frozen=True)
class UploadOptions:
    """An upload request's arguments, checked."""

    namespace: str
    table_name: str
    head: bool
    partition: int
    drop: bool
    delimiter: str | None


def upload_options(engine: Engine, request: Mapping[str, Any]) -> UploadOptions:
    """Check everything about an upload but its file, the table's absence included."""
    namespace, table_name = table_names(request)
    _check_work_mode(request)
    options = UploadOptions(
        namespace=namespace,
        table_name=table_name,
        head=args.flag(request, "head", True),
        partition=args.integer(
            request, "partition", DEFAULT_PARTITION, minimum=1, maximum=MAX_PARTITION
        )
        or DEFAULT_PARTITION,
        drop=_drop(request),
        delimiter=_delimiter(request, "id_delimiter", "delimiter"),
    )
    tables.refuse_existing(engine, namespace, table_name, options.drop)
    return options


def _drop(request: Mapping[str, Any]) -> bool:
    """Only 1 (or true) replaces a table: FATE 1.5 clients send 2, newer ones 0, to keep it."""
    value = request.get("drop")
    if isinstance(value, bool) or str(value).strip().lower() in ("true", "false"):
        return args.flag(request, "drop", False)
    return args.integer(request, "drop", 0) == 1


def submit_upload(
    config: FlowConfig,
    engine: Engine,
    request: Mapping[str, Any],
    uploaded: Path | None = None,
) -> tuple[str, dict[str, Any]]:
    """Validate an upload and create its job; ``uploaded`` is a file sent with the request."""
    options = upload_options(engine, request)
    if uploaded is None:
        args.require(request, "file")
        source = config.server_path(args.text(request, "file") or "", "file")
    else:
        source = uploaded
    _check_source(source, options.head, options.delimiter)

    job_id = ids.new_job_id()
    if uploaded is not None:
        # The request's copy belongs to the job now; the worker removes it when done.
        target = config.job_dir(job_id) / "fate_upload_tmp" / uploaded.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(uploaded, target)
        source = target

    parameters = {
        "file": str(source),
        "uploaded": uploaded is not None,
        "head": int(options.head),
        "partition": options.partition,
        "namespace": options.namespace,
        "table_name": options.table_name,
        "drop": int(options.drop),
        "id_delimiter": options.delimiter,
        "work_mode": 0,
    }
    jobs.create_local_job(
        config,
        engine,
        job_id=job_id,
        component_name=UPLOAD_COMPONENT,
        module_name=UPLOAD_MODULE,
        parameters=parameters,
    )
    log.info("upload job %s created for table %s.%s", job_id, options.namespace, options.table_name)
    data = {"namespace": options.namespace, "table_name": options.table_name}
    return job_id, {**data, **_job_data(config, job_id)}


def submit_download(
    config: FlowConfig, engine: Engine, request: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Validate a download and create its job."""
    namespace, table_name = table_names(request)
    _check_work_mode(request)
    args.require(request, "output_path")
    output = check_output_path(config, args.text(request, "output_path") or "")
    delimiter = _delimiter(request, "delimitor", "delimiter") or ","
    header = args.flag(request, "head", False)
    if tables.get_table(engine, namespace, table_name) is None:
        raise NotFound(f"table {table_name!r} in namespace {namespace!r} does not exist")

    job_id = ids.new_job_id()
    parameters = {
        "namespace": namespace,
        "table_name": table_name,
        "output_path": str(output),
        "delimitor": delimiter,
        "head": int(header),
        "work_mode": 0,
    }
    jobs.create_local_job(
        config,
        engine,
        job_id=job_id,
        component_name=DOWNLOAD_COMPONENT,
        module_name=DOWNLOAD_MODULE,
        parameters=parameters,
    )
    log.info("download job %s created for table %s.%s", job_id, namespace, table_name)
    return job_id, _job_data(config, job_id)


def check_output_path(config: FlowConfig, value: str) -> Path:
    """A file path a download may write: in the root, not a folder, under folders only."""
    output = config.server_path(value, "output_path")
    try:
        if output.is_dir():
            raise ParameterError(f"output_path {value!r} is a folder; give a file path")
        existing = next((p for p in output.parents if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise ParameterError(f"output_path {value!r} goes through {existing.name!r}, a file")
        if len(output.name.encode()) > MAX_FILE_NAME_BYTES:
            raise ParameterError(f"output_path {value!r} has a file name that is too long")
    except OSError as error:
        raise ParameterError(f"output_path {value!r} is not usable: {error.strerror}") from None
    return output


def _job_data(config: FlowConfig, job_id: str) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "board_url": f"v1/job/query?job_id={job_id}&role=local&party_id=0",
        "model_info": {
            "model_id": f"{jobs.LOCAL_ROLE}-{jobs.LOCAL_PARTY_ID}#model",
            "model_version": job_id,
        },
        **jobs.job_paths(config, job_id),
    }


def upload_history(engine: Engine, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Successful uploads, newest first, each as ``{job_id: {upload_info, notes, meta}}``."""
    limit = args.integer(request, "limit", None, minimum=0, maximum=MAX_HISTORY_LIMIT)
    job_id = args.text(request, "job_id")

    query = select(Task, Job).where(
        Task.component_name == UPLOAD_COMPONENT,
        Task.status == jobs.SUCCESS,
        Job.job_id == Task.job_id,
        Job.role == Task.role,
        Job.party_id == Task.party_id,
    )
    if job_id is not None:
        query = query.where(Task.job_id == job_id)
    query = query.order_by(col(Task.create_time).desc())
    if limit is not None:
        query = query.limit(limit)

    with session(engine) as db:
        found = list(db.exec(query))
    history = []
    for task, job in found:
        summary = json.loads(task.summary or "{}")
        schema = summary.get("schema", {})
        record = {
            "upload_info": summary.get("upload_info", {}),
            "notes": job.description,
            "meta": schema,
            "schema": schema,
            "summary": {key: summary[key] for key in _REPORT_KEYS if key in summary},
        }
        history.append({task.job_id: record})
    return history
