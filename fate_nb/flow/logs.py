"""A job's log files as one tar.gz, the way FATE-Flow's log download serves them."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Mapping
from typing import IO, Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from fate_nb.flow import args
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import NotFound
from fate_nb.flow.store import Job, session

# Archives are built in memory up to this size, then on disk.
SPOOL_BYTES = 8 << 20


def job_log_archive(
    config: FlowConfig, engine: Engine, request: Mapping[str, Any]
) -> tuple[str, IO[bytes]]:
    """The archive's file name and contents: every file under the job's log folder."""
    args.require(request, "job_id")
    job_id = args.text(request, "job_id") or ""
    with session(engine) as db:
        known = db.exec(select(Job.job_id).where(Job.job_id == job_id)).first()
    if known is None:
        raise NotFound(f"no job {job_id!r}: there are no logs to send")

    log_dir = config.job_log_dir(job_id)
    # Handed to the caller open: it streams the archive to the client and closes it.
    archive: IO[bytes] = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115
    try:
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            for path in sorted(log_dir.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=str(path.relative_to(log_dir)))
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return f"job_{job_id}_log.tar.gz", archive
