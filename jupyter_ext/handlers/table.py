"""/v1/table: table info, a preview of the rows, and deletion."""

from __future__ import annotations

from tornado import web

from jupyter_ext.handlers.base import FlowHandler
from jupyter_ext.handlers.tracking import TrackingHandler


class TableInfoHandler(FlowHandler):
    """POST /v1/table/table_info: count, partition and schema of a table."""

    @web.authenticated
    async def post(self) -> None:
        """Describe the table."""
        self.reply(await self.flow.table_info(self.json_args()))


class TablePreviewHandler(TrackingHandler):
    """POST /v1/table/preview (fate-nb's own): the first rows of a table, header and total."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the rows."""
        self.answer(await self.flow.table_preview(self.json_args()))


class TableDeleteHandler(FlowHandler):
    """POST /v1/table/delete: remove a table and its files."""

    @web.authenticated
    async def post(self) -> None:
        """Delete the table."""
        self.reply(await self.flow.delete_table(self.json_args()))


handlers = [
    (r"/v1/table/table_info", TableInfoHandler),
    (r"/v1/table/preview", TablePreviewHandler),
    (r"/v1/table/delete", TableDeleteHandler),
]
