"""/v1/job: submitting and stopping jobs, querying jobs and tasks, configuration, notes, logs."""

from __future__ import annotations

from tornado import web

from jupyter_ext.handlers.base import FileHandler, FlowHandler


class JobSubmitHandler(FlowHandler):
    """POST /v1/job/submit: check a DSL and runtime conf and queue the job."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the job id, its files and its model info."""
        self.reply(await self.flow.submit_job(self.json_args()))


class JobStopHandler(FlowHandler):
    """POST /v1/job/stop: cancel a waiting job or stop a running one."""

    @web.authenticated
    async def post(self) -> None:
        """Say what was stopped."""
        self.reply(await self.flow.stop_job(self.json_args()))


class JobQueryHandler(FlowHandler):
    """POST /v1/job/query: one row per (job, role, party) matching the filters."""

    @web.authenticated
    async def post(self) -> None:
        """List the matching job rows."""
        self.reply(await self.flow.query_jobs(self.json_args()))


class JobConfigHandler(FlowHandler):
    """POST /v1/job/config: the DSL, runtime conf and model info of a job."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the job's configuration."""
        self.reply(await self.flow.job_config(self.json_args()))


class JobUpdateHandler(FlowHandler):
    """POST /v1/job/update: notes into one party's ``f_description``."""

    @web.authenticated
    async def post(self) -> None:
        """Store the notes."""
        self.reply(await self.flow.update_job_notes(self.json_args()))


class JobListHandler(FlowHandler):
    """POST /v1/job/list/job: the newest job rows, ``limit`` of them (FATE 1.5+)."""

    @web.authenticated
    async def post(self) -> None:
        """List the newest job rows."""
        self.reply(await self.flow.list_jobs(self.json_args()))


class TaskListHandler(FlowHandler):
    """POST /v1/job/list/task: the newest task rows, ``limit`` of them (FATE 1.5+)."""

    @web.authenticated
    async def post(self) -> None:
        """List the newest task rows."""
        self.reply(await self.flow.list_tasks(self.json_args()))


class TaskQueryHandler(FlowHandler):
    """POST /v1/job/task/query: one row per (task, role, party) matching the filters."""

    @web.authenticated
    async def post(self) -> None:
        """List the matching task rows."""
        self.reply(await self.flow.query_tasks(self.json_args()))


class JobLogHandler(FileHandler):
    """GET /v1/job/log (a JSON body, FATE 1.5) and POST /v1/job/log/download: the job's logs."""

    async def _send_logs(self) -> None:
        name, archive = await self.flow.job_log_archive(self.json_args())
        await self.send_file(name, archive)

    @web.authenticated
    async def get(self) -> None:
        """Send the tar.gz of the job's logs."""
        await self._send_logs()

    @web.authenticated
    async def post(self) -> None:
        """Send the tar.gz of the job's logs."""
        await self._send_logs()


handlers = [
    (r"/v1/job/submit", JobSubmitHandler),
    (r"/v1/job/stop", JobStopHandler),
    (r"/v1/job/query", JobQueryHandler),
    (r"/v1/job/list/job", JobListHandler),
    (r"/v1/job/list/task", TaskListHandler),
    (r"/v1/job/config", JobConfigHandler),
    (r"/v1/job/update", JobUpdateHandler),
    (r"/v1/job/task/query", TaskQueryHandler),
    (r"/v1/job/log", JobLogHandler),
    (r"/v1/job/log/download", JobLogHandler),
]
