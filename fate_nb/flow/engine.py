"""The flow engine: what the HTTP handlers call. Blocking work runs off the event loop."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import platform
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlmodel import select

import fate_nb
from fate_nb.flow import (
    args,
    data_access,
    jobs,
    logs,
    models,
    output_data,
    queries,
    storage,
    submit,
    tables,
    tracking_views,
)
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import HomeInUse, ParameterError
from fate_nb.flow.scheduler import JobScheduler
from fate_nb.flow.serving import Serving
from fate_nb.flow.store import DataTable, Job, create_store_engine, init_store, session
from fate_nb.flow.tracking_views import TrackingReply
from fate_nb.flow.workers import kill_leftover_workers

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


def versions() -> dict[str, str]:
    """``version/get``'s answers: the API, and fate-nb's own version under FATE's module names."""
    own = f"fate-nb {fate_nb.__version__}"
    return {"API": "v1", "FATE": own, "FATEFlow": own, "PYTHON": platform.python_version()}


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
        self.serving = Serving(config, self.engine)

    def recover(self) -> None:
        """Fail what a previous server left running, queue what it left waiting, tidy up."""
        killed = kill_leftover_workers(self.config, jobs.running_worker_pids(self.engine))
        if killed:
            log.warning("stopped workers left by the last server: pids %s", killed)
        failed = jobs.fail_running_jobs(self.engine, "the server restarted while the job ran")
        if failed:
            log.warning("jobs cut short by the last shutdown, now failed: %s", ", ".join(failed))
        self._remove_upload_copies()
        self.scheduler.queue(jobs.waiting_jobs(self.engine))

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
        with session(self.engine) as db:
            waiting = set(db.exec(select(Job.job_id).where(Job.status == jobs.WAITING)))
        for copies in self.config.jobs_dir.glob("*/fate_upload_tmp"):
            if copies.parent.name not in waiting:
                shutil.rmtree(copies, ignore_errors=True)

    async def submit_job(self, request: Mapping[str, Any]) -> Reply:
        """Check a job, write its rows and queue it."""
        job_id, data = await asyncio.to_thread(submit.submit_job, self.config, self.engine, request)
        self.scheduler.start(job_id)
        return Reply(data, job_id)

    async def stop_job(self, request: Mapping[str, Any]) -> Reply:
        """Cancel a waiting job, or stop a running one's workers; an ended job stays as it is."""
        args.require(request, "job_id")
        job_id = args.text(request, "job_id") or ""
        status = _stop_status(request)
        job = await asyncio.to_thread(jobs.get_job, self.engine, job_id)
        if job.status in jobs.END_STATUSES:
            return Reply(retmsg=f"job {job_id} has already ended ({job.status}); nothing to stop")

        was_waiting = job.status == jobs.WAITING
        reason = "canceled before it started" if was_waiting else "stopped by /v1/job/stop"
        # The status is written first and is sticky: the run ending now cannot overwrite it.
        await asyncio.to_thread(jobs.update_job, self.engine, job_id, status=status, error=reason)
        await self.scheduler.stop(job_id, status, reason)
        log.info("job %s stopped (%s)", job_id, status)
        return Reply(retmsg="cancel job success" if was_waiting else "kill job success")

    async def dag_dependency(self, request: Mapping[str, Any]) -> Reply:
        """A job's component order, dependencies and need_run for one party."""
        return Reply(await asyncio.to_thread(queries.dag_dependency, self.engine, request))

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

    async def list_jobs(self, request: Mapping[str, Any]) -> Reply:
        """The newest job rows, every party's."""
        return Reply(await asyncio.to_thread(queries.list_jobs, self.engine, request))

    async def query_tasks(self, request: Mapping[str, Any]) -> Reply:
        """Task rows matching the request's filters (all tasks without one)."""
        return Reply(await asyncio.to_thread(queries.query_tasks, self.engine, request))

    async def list_tasks(self, request: Mapping[str, Any]) -> Reply:
        """The newest task rows, every party's."""
        return Reply(await asyncio.to_thread(queries.list_tasks, self.engine, request))

    async def component_list(self, request: Mapping[str, Any]) -> Reply:
        """The component names of a job's DSL."""
        return Reply(await asyncio.to_thread(queries.component_list, self.engine, request))

    def version(self, request: Mapping[str, Any]) -> Reply:
        """``{module: version}`` as FATE 1.7+ answers ``version/get`` (no module: ``API``)."""
        module = args.text(request, "module", "API") or "API"
        return Reply({module: versions().get(module)})

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

    async def tracking_data_view(self, request: Mapping[str, Any]) -> TrackingReply:
        """A job's partners, input tables and roles as one party sees them."""
        return await asyncio.to_thread(tracking_views.data_view, self.engine, request)

    async def component_metrics(self, request: Mapping[str, Any]) -> TrackingReply:
        """A component's metric names by namespace."""
        return await asyncio.to_thread(tracking_views.metric_names, self.engine, request)

    async def component_metric_all(self, request: Mapping[str, Any]) -> TrackingReply:
        """Every metric of a component: points and meta by namespace and name."""
        return await asyncio.to_thread(tracking_views.metric_all, self.engine, request)

    async def component_metric_data(self, request: Mapping[str, Any]) -> TrackingReply:
        """One metric's points, sorted by key, and its meta."""
        return await asyncio.to_thread(tracking_views.metric_data, self.engine, request)

    async def component_parameters(self, request: Mapping[str, Any]) -> TrackingReply:
        """A component's module and merged parameters for one party."""
        return await asyncio.to_thread(tracking_views.parameters, self.engine, request)

    async def component_output_model(self, request: Mapping[str, Any]) -> TrackingReply:
        """A component's model: Param as data, Meta and module name as meta."""
        return await asyncio.to_thread(tracking_views.output_model, self.engine, request)

    async def component_output_data(self, request: Mapping[str, Any]) -> TrackingReply:
        """The first rows of a component's output table, its header and row count."""
        return await asyncio.to_thread(output_data.preview, self.config, self.engine, request)

    async def component_output_data_archive(
        self, request: Mapping[str, Any]
    ) -> tuple[str, IO[bytes]]:
        """A tar.gz of a component's output tables: its file name and an open file."""
        return await asyncio.to_thread(output_data.archive, self.config, self.engine, request)

    async def component_output_tables(self, request: Mapping[str, Any]) -> TrackingReply:
        """The stored names of a component's output tables."""
        return await asyncio.to_thread(tracking_views.output_table_list, self.engine, request)

    async def component_summary(self, request: Mapping[str, Any]) -> TrackingReply:
        """The summary a component's task returned for one party."""
        return await asyncio.to_thread(tracking_views.summary, self.engine, request)

    async def table_info(self, request: Mapping[str, Any]) -> Reply:
        """Count, partition and schema of a table."""
        namespace, table_name = data_access.table_names(request)
        return Reply(await asyncio.to_thread(tables.table_info, self.engine, namespace, table_name))

    async def table_preview(self, request: Mapping[str, Any]) -> TrackingReply:
        """The first rows of a stored table, its header and its row count."""
        namespace, table_name = data_access.table_names(request)
        return await asyncio.to_thread(
            output_data.table_preview, self.config, self.engine, namespace, table_name, request
        )

    async def delete_table(self, request: Mapping[str, Any]) -> Reply:
        """Remove a table and its files."""
        namespace, table_name = data_access.table_names(request)
        await asyncio.to_thread(
            tables.delete_table, self.config, self.engine, namespace, table_name
        )
        return Reply([{"table_name": table_name, "namespace": namespace}])

    async def model_versions(self, request: Mapping[str, Any]) -> Reply:
        """The version history of one party model id, newest first."""
        return Reply(await asyncio.to_thread(models.version_history, self.engine, request))

    async def load_model(self, request: Mapping[str, Any]) -> Reply:
        """Mark a model version loaded for every party that serves it."""
        data = await asyncio.to_thread(models.load, self.engine, request)
        return Reply(data, models.new_load_id())

    async def bind_model(self, request: Mapping[str, Any]) -> Reply:
        """Bind a service id to a loaded model version."""
        retmsg = await asyncio.to_thread(models.bind, self.engine, request)
        self.serving.forget_binding(str(request.get("service_id")))
        return Reply(retmsg=retmsg)

    async def transfer_model(self, request: Mapping[str, Any]) -> Reply:
        """One party's model buffers, as FATE-Serving pulls them."""
        return Reply(await asyncio.to_thread(models.transfer, self.engine, request))

    async def deploy_model(self, request: Mapping[str, Any]) -> Reply:
        """Set the predict DSL of a model version."""
        return Reply(await asyncio.to_thread(models.deploy, self.engine, request))

    async def model_predict_dsl(self, request: Mapping[str, Any]) -> Reply:
        """The predict DSL of a model version."""
        return Reply(await asyncio.to_thread(models.predict_dsl, self.engine, request))

    async def serve_predict(self, request: Mapping[str, Any]) -> Reply:
        """Score rows with the model bound to a service id."""
        return Reply(await asyncio.to_thread(self.serving.predict, request))


def _stop_status(request: Mapping[str, Any]) -> str:
    """The status a stopped job ends in: ``stop_status`` (1.5), or failed for ``operate: kill``."""
    if request.get("operate") == "kill":
        return jobs.FAILED
    status = args.text(request, "stop_status", jobs.CANCELED) or jobs.CANCELED
    if status not in (jobs.CANCELED, jobs.FAILED):
        raise ParameterError(f"stop_status is {status!r}; use canceled or failed")
    return status
