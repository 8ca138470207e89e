"""The flow engine: what the HTTP handlers call. Blocking work runs off the event loop."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlmodel import select

from fate_nb.flow import data_access, jobs, logs, queries, storage, tables
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import HomeInUse
from fate_nb.flow.scheduler import JobScheduler
from fate_nb.flow.store import DataTable, create_store_engine, init_store, session

log = logging.getLogger(__name__)

LOCK_NAME = "fate_nb.lock"


def _lock_home(home: Path) -> IO[bytes]:
    """Hold the home folder for this server alone; a second server would fail its jobs."""
    lock = (home / LOCK_NAME).open("ab")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise HomeInUse(
            f"another fate-nb server already uses {home}; give this one its own home with "
            "FATE_NB_HOME or --FateApp.home_dir"
        ) from None
    return lock


@dataclass(frozen=True)
class Reply:
    """What an endpoint answers: ``data``, and ``jobId`` when a job was created."""

    data: Any = None
    job_id: str | None = None
    retmsg: str = "success"


class FlowEngine:
    """Owns the store and the scheduler; one method per API operation."""

    def __init__(self, config: FlowConfig) -> None:
        self.config = config
        config.make_dirs()
        self._home_lock = _lock_home(config.home)
        self.engine = create_store_engine(config.db_url)
        init_store(self.engine)
        self.scheduler = JobScheduler(config, self.engine)

    def recover(self) -> None:
        """Fail what a previous server left running and remove what it left half-written."""
        failed = jobs.fail_interrupted_jobs(self.engine, "the server restarted while it ran")
        if failed:
            log.warning("jobs cut short by the last shutdown, now failed: %s", ", ".join(failed))
        self._remove_upload_copies()

        with session(self.engine) as db:
            in_use = {row.path for row in db.exec(select(DataTable))}
        for folder in self.config.tables_dir.iterdir():
            if folder.name not in in_use:
                storage.remove_table_dir(folder)
        for leftover in self.config.incoming_dir.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)

    async def close(self) -> None:
        """Stop running jobs, remove their uploaded copies, release the database and home."""
        await self.scheduler.shutdown()
        await asyncio.to_thread(self._remove_upload_copies)
        self.engine.dispose()
        self._home_lock.close()

    def _remove_upload_copies(self) -> None:
        """Files sent with uploads that will never run; call only when no job runs."""
        for copies in self.config.jobs_dir.glob("*/fate_upload_tmp"):
            shutil.rmtree(copies, ignore_errors=True)

    async def upload(self, request: Mapping[str, Any], uploaded: Path | None = None) -> Reply:
        """Create an upload job and start it."""
        job_id, data = await asyncio.to_thread(
            data_access.submit_upload, self.config, self.engine, request, uploaded
        )
        self.scheduler.start(job_id)
        return Reply(data, job_id)

    async def check_upload(self, request: Mapping[str, Any]) -> None:
        """Refuse an upload's configuration before its file is received."""
        await asyncio.to_thread(data_access.upload_options, self.engine, request)

    async def download(self, request: Mapping[str, Any]) -> Reply:
        """Create a download job and start it."""
        job_id, data = await asyncio.to_thread(
            data_access.submit_download, self.config, self.engine, request
        )
        self.scheduler.start(job_id)
        return Reply(data, job_id)

    async def upload_history(self, request: Mapping[str, Any]) -> Reply:
        """Successful uploads, newest first."""
        return Reply(await asyncio.to_thread(data_access.upload_history, self.engine, request))

    async def query_jobs(self, request: Mapping[str, Any]) -> Reply:
        """Job rows matching the request's filters."""
        return Reply(await asyncio.to_thread(queries.query_jobs, self.engine, request))

    async def query_tasks(self, request: Mapping[str, Any]) -> Reply:
        """Task rows matching the request's filters (all tasks without one)."""
        return Reply(await asyncio.to_thread(queries.query_tasks, self.engine, request))

    async def job_config(self, request: Mapping[str, Any]) -> Reply:
        """The DSL, runtime conf and model info of a job."""
        return Reply(await asyncio.to_thread(queries.job_config, self.engine, request))

    async def job_log_archive(self, request: Mapping[str, Any]) -> tuple[str, IO[bytes]]:
        """A tar.gz of a job's logs: its file name and an open file positioned at the start."""
        return await asyncio.to_thread(logs.job_log_archive, self.config, self.engine, request)

    async def update_job_notes(self, request: Mapping[str, Any]) -> Reply:
        """Store notes in one party's job row."""
        await asyncio.to_thread(queries.update_notes, self.engine, request)
        return Reply()

    async def table_info(self, request: Mapping[str, Any]) -> Reply:
        """Count, partition and schema of a table."""
        namespace, table_name = data_access.table_names(request)
        return Reply(await asyncio.to_thread(tables.table_info, self.engine, namespace, table_name))

    async def delete_table(self, request: Mapping[str, Any]) -> Reply:
        """Remove a table and its files."""
        namespace, table_name = data_access.table_names(request)
        await asyncio.to_thread(
            tables.delete_table, self.config, self.engine, namespace, table_name
        )
        return Reply([{"table_name": table_name, "namespace": namespace}])
