"""/v1/version/get: the versions a FATE 1.7+ client asks for (`pipeline config check`)."""

from __future__ import annotations

from tornado import web

from jupyter_ext.handlers.base import FlowHandler


class VersionHandler(FlowHandler):
    """POST /v1/version/get: ``{module: version}`` for the requested module (FATE 1.7+)."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the module's version."""
        self.reply(self.flow.version(self.json_args()))


handlers = [(r"/v1/version/get", VersionHandler)]
