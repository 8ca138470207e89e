"""/v1/data: upload (JSON or multipart), download and the upload history."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from python_multipart import FormParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import File
from tornado import web

from fate_nb.flow import args
from fate_nb.flow.errors import DataError, ParameterError
from jupyter_ext.handlers.base import FlowHandler

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_TOKEN_PAIR = re.compile(r"^token=[^&]*(&|$)|&token=[^&]*$")


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", errors="replace")


def query_config(raw_query: str) -> dict[str, Any]:
    """The upload configuration from a query string: one JSON document, or key=value pairs."""
    # Jupyter's ?token= may sit before or after fate-client's JSON document.
    raw_query = _TOKEN_PAIR.sub("", raw_query)
    if not raw_query:
        return {}
    decoded = unquote(raw_query)
    if decoded.lstrip().startswith("{"):
        return args.json_object(decoded, "the query string")
    return dict(parse_qsl(raw_query, keep_blank_values=True))


class UploadHandler(FlowHandler):
    """POST /v1/data/upload: a server path in JSON, or the file itself as multipart."""

    _parser: FormParser | None = None
    _incoming: Path | None = None
    _malformed: FormParserError | None = None

    def body_limit(self) -> int:
        """Multipart uploads may be as large as the configured upload limit."""
        if self._is_multipart():
            return int(self.extensionapp.max_upload_size)
        return super().body_limit()

    def _is_multipart(self) -> bool:
        content_type = self.request.headers.get("Content-Type", "").lower()
        return content_type.startswith("multipart/form-data")

    async def prepare(self) -> None:
        """Check the configuration and open a file for the body before it arrives."""
        await super().prepare()
        self._files: list[File] = []
        self._fields: dict[str, str] = {}
        if not self._is_multipart():
            return

        # Refuse a wrong configuration before a large body is streamed for nothing.
        self._config = query_config(self.request.query)
        if self._config.get("namespace") and (
            self._config.get("table_name") or self._config.get("name")
        ):
            await self.flow.check_upload(self._config)
        self._incoming = self.flow.config.incoming_dir / uuid.uuid4().hex
        self._incoming.mkdir(parents=True)
        content_type = self.request.headers["Content-Type"]
        boundary = re.split("boundary=", content_type, maxsplit=1, flags=re.I)[-1]
        boundary = boundary.split(";")[0].strip('" ') if boundary != content_type else ""
        if not boundary:
            raise ParameterError("the multipart request has no boundary in its Content-Type")
        self._parser = FormParser(
            "multipart/form-data",
            on_field=lambda f: self._fields.__setitem__(_text(f.field_name), _text(f.value)),
            on_file=self._files.append,
            boundary=boundary,
            config={
                "UPLOAD_DIR": str(self._incoming),
                "MAX_MEMORY_FILE_SIZE": 0,
                "UPLOAD_DELETE_TMP": False,
            },
        )

    def data_received(self, chunk: bytes) -> None:
        """Stream multipart bodies to disk; collect JSON bodies."""
        if self._parser is None:
            super().data_received(chunk)
            return
        if self._malformed is not None:
            return
        try:
            self._parser.write(chunk)
        except FormParserError as error:
            # Raising here would drop the connection; post() answers with the reason instead.
            self._malformed = error

    @web.authenticated
    async def post(self) -> None:
        """Create the upload job and answer with its id."""
        if self._parser is None:
            self.reply(await self.flow.upload(self.json_args()))
            return

        try:
            if self._malformed is None:
                self._parser.finalize()
        except FormParserError as error:
            self._malformed = error
        if self._malformed is not None:
            raise ParameterError(f"the multipart body is malformed: {self._malformed}")
        parts = [f for f in self._files if f.field_name == b"file"]
        if not parts and "file" in self._fields:
            raise ParameterError(
                "the part named 'file' came as a text field; send it as a file "
                "(with a filename, e.g. curl -F file=@data.csv)"
            )
        if not parts:
            raise ParameterError(
                "the multipart body has no complete part named 'file' (was it cut short?); "
                "send the data as one part named 'file'"
            )
        if len(parts) > 1:
            raise ParameterError(f"send one multipart part named 'file', not {len(parts)}")
        part = parts[0]
        part.close()

        # Form fields are a fallback for clients that send the configuration that way.
        request = {**self._fields, **self._config}
        name = _UNSAFE_NAME.sub("_", Path(_text(part.file_name)).name).strip(".")[-100:]
        name = name or "upload.csv"
        if part.actual_file_name is None:
            raise DataError(f"the uploaded file {name} is empty: it has no header and no data rows")
        received = Path(_text(part.actual_file_name))
        uploaded = received.replace(received.with_name(name))
        self.reply(await self.flow.upload(request, uploaded))

    def on_finish(self) -> None:
        """Remove whatever of the request body the job did not take over."""
        if self._incoming is not None:
            shutil.rmtree(self._incoming, ignore_errors=True)

    def on_connection_close(self) -> None:
        """A client that went away leaves nothing behind."""
        super().on_connection_close()
        self.on_finish()


class DownloadHandler(FlowHandler):
    """POST /v1/data/download: write a table to a file on the server."""

    @web.authenticated
    async def post(self) -> None:
        """Create the download job and answer with its id."""
        self.reply(await self.flow.download(self.json_args()))


class UploadHistoryHandler(FlowHandler):
    """POST /v1/data/upload/history: successful uploads, newest first."""

    @web.authenticated
    async def post(self) -> None:
        """List the uploads."""
        self.reply(await self.flow.upload_history(self.json_args()))


handlers = [
    (r"/v1/data/upload", UploadHandler),
    (r"/v1/data/upload/history", UploadHistoryHandler),
    (r"/v1/data/download", DownloadHandler),
]
