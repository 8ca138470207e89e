"""/v1/serving: scoring rows online with the model bound to a service id."""

from __future__ import annotations

from tornado import web

from jupyter_ext.handlers.base import FlowHandler


class ServingPredictHandler(FlowHandler):
    """POST /v1/serving/predict: score one row or a list of rows."""

    @web.authenticated
    async def post(self) -> None:
        """Answer a prediction per row, in the request's order."""
        self.reply(await self.flow.serve_predict(self.json_args()))


handlers = [(r"/v1/serving/predict", ServingPredictHandler)]
