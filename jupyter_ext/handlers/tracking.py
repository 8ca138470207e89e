"""/v1/tracking: a job's data view; a component's metrics, parameters, model, data, summary."""

from __future__ import annotations

from tornado import web

from fate_nb.flow.errors import RetCode
from fate_nb.flow.tracking_views import TrackingReply, summary_file
from jupyter_ext.handlers.base import FileHandler, FlowHandler, envelope


class TrackingHandler(FlowHandler):
    """A tracking endpoint: answers a ``TrackingReply``, FATE's ``meta`` beside ``data``."""

    def answer(self, reply: TrackingReply) -> None:
        """Write the reply in FATE's envelope."""
        self.set_header("Content-Type", "application/json")
        self.finish(envelope(RetCode.SUCCESS, reply.retmsg, reply.data, meta=reply.meta))


class DataViewHandler(TrackingHandler):
    """POST /v1/tracking/job/data_view: partners, input tables and roles of one party."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the party's view of the job."""
        self.answer(await self.flow.tracking_data_view(self.json_args()))


class ComponentListHandler(FlowHandler):
    """POST /v1/tracking/component/list: the names of a job's components."""

    @web.authenticated
    async def post(self) -> None:
        """List the job's components."""
        self.reply(await self.flow.component_list(self.json_args()))


class MetricsHandler(TrackingHandler):
    """POST /v1/tracking/component/metrics: metric names by namespace."""

    @web.authenticated
    async def post(self) -> None:
        """List the component's metrics."""
        self.answer(await self.flow.component_metrics(self.json_args()))


class MetricAllHandler(TrackingHandler):
    """POST /v1/tracking/component/metric/all: every metric's points and meta."""

    @web.authenticated
    async def post(self) -> None:
        """Answer every metric of the component."""
        self.answer(await self.flow.component_metric_all(self.json_args()))


class MetricDataHandler(TrackingHandler):
    """POST /v1/tracking/component/metric_data: one metric's points and its meta."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the metric."""
        self.answer(await self.flow.component_metric_data(self.json_args()))


class ParametersHandler(TrackingHandler):
    """POST /v1/tracking/component/parameters: the module and its merged parameters."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the component's parameters."""
        self.answer(await self.flow.component_parameters(self.json_args()))


class OutputModelHandler(TrackingHandler):
    """POST /v1/tracking/component/output/model: the model's Param, its Meta in meta."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the component's model."""
        self.answer(await self.flow.component_output_model(self.json_args()))


class OutputDataHandler(TrackingHandler):
    """POST /v1/tracking/component/output/data: the first rows, header and total."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the preview."""
        self.answer(await self.flow.component_output_data(self.json_args()))


class OutputTablesHandler(TrackingHandler):
    """POST /v1/tracking/component/output/data/table: the stored output tables."""

    @web.authenticated
    async def post(self) -> None:
        """List the output tables."""
        self.answer(await self.flow.component_output_tables(self.json_args()))


class OutputDataDownloadHandler(FileHandler):
    """GET (a JSON body, as FATE's clients send it) or POST .../output/data/download: a tar.gz."""

    async def _send_archive(self) -> None:
        name, archive = await self.flow.component_output_data_archive(self.json_args())
        await self.send_file(name, archive)

    @web.authenticated
    async def get(self) -> None:
        """Send every output table as CSV in a tar.gz."""
        await self._send_archive()

    @web.authenticated
    async def post(self) -> None:
        """Send every output table as CSV in a tar.gz."""
        await self._send_archive()


class SummaryDownloadHandler(FileHandler, TrackingHandler):
    """POST /v1/tracking/component/summary/download: the task's summary.

    As data in the envelope, or as a JSON file when ``filename`` is given (FATE's CLI);
    no summary is HTTP 210, FATE's answer.
    """

    @web.authenticated
    async def post(self) -> None:
        """Answer the summary."""
        request = self.json_args()
        reply = await self.flow.component_summary(request)
        attachment = summary_file(request, reply.data)
        if attachment is None:
            self.answer(reply)
            return
        name, contents = attachment
        self.set_header("Content-Type", "application/json")
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.finish(contents)


handlers = [
    (r"/v1/tracking/job/data_view", DataViewHandler),
    (r"/v1/tracking/component/list", ComponentListHandler),
    (r"/v1/tracking/component/metrics", MetricsHandler),
    (r"/v1/tracking/component/metric/all", MetricAllHandler),
    (r"/v1/tracking/component/metric_data", MetricDataHandler),
    (r"/v1/tracking/component/parameters", ParametersHandler),
    (r"/v1/tracking/component/output/model", OutputModelHandler),
    (r"/v1/tracking/component/output/data", OutputDataHandler),
    (r"/v1/tracking/component/output/data/download", OutputDataDownloadHandler),
    (r"/v1/tracking/component/output/data/table", OutputTablesHandler),
    (r"/v1/tracking/component/summary/download", SummaryDownloadHandler),
]
