"""/v1/job: querying jobs."""

from __future__ import annotations

from tornado import web

from jupyter_ext.handlers.base import FlowHandler


class JobQueryHandler(FlowHandler):
    """POST /v1/job/query: one row per (job, role, party) matching the filters."""

    @web.authenticated
    async def post(self) -> None:
        """List the matching job rows."""
        self.reply(await self.flow.query_jobs(self.json_args()))


handlers = [(r"/v1/job/query", JobQueryHandler)]
