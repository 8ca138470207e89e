"""/v1/table: table info and deletion."""

from __future__ import annotations

from tornado import web

from jupyter_ext.handlers.base import FlowHandler


class TableInfoHandler(FlowHandler):
    """POST /v1/table/table_info: count, partition and schema of a table."""

    @web.authenticated
    async def post(self) -> None:
        """Describe the table."""
        self.reply(await self.flow.table_info(self.json_args()))


class TableDeleteHandler(FlowHandler):
    """POST /v1/table/delete: remove a table and its files."""

    @web.authenticated
    async def post(self) -> None:
        """Delete the table."""
        self.reply(await self.flow.delete_table(self.json_args()))


handlers = [
    (r"/v1/table/table_info", TableInfoHandler),
    (r"/v1/table/delete", TableDeleteHandler),
]
