"""/v1/pipeline: a job's DAG as FATE's clients draw it."""

from __future__ import annotations

from tornado import web

from jupyter_ext.handlers.base import FlowHandler


class DagDependencyHandler(FlowHandler):
    """POST /v1/pipeline/dag/dependency: component order, edges, modules and need_run."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the DAG of one party's view of the job."""
        self.reply(await self.flow.dag_dependency(self.json_args()))


handlers = [(r"/v1/pipeline/dag/dependency", DagDependencyHandler)]
