"""The base of every /v1 handler: authentication, body limits and FATE's reply envelope."""

from __future__ import annotations

import inspect
import json
from http import HTTPStatus
from typing import IO, Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from fate_nb.flow import args
from fate_nb.flow.engine import FlowEngine, Reply
from fate_nb.flow.errors import FlowError, RequestTooLarge, RetCode

FILE_CHUNK_BYTES = 1 << 20
AUTH_MESSAGE = (
    "authentication required: send the Jupyter server's token as 'Authorization: token <token>'"
)


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return f"HTTP {status_code}"


def envelope(
    retcode: int, retmsg: str, data: Any = None, job_id: str | None = None, meta: Any = None
) -> str:
    """FATE's JSON reply; keys whose value is None are left out, as FATE 1.5 does."""
    reply = {"retcode": int(retcode), "retmsg": retmsg, "data": data, "jobId": job_id, "meta": meta}
    return json.dumps({key: value for key, value in reply.items() if value is not None})


@web.stream_request_body
class FlowHandler(ExtensionHandlerMixin, APIHandler):
    """Authenticates before the body arrives, caps its size, and answers in FATE's envelope."""

    # FATE-Flow answers failures with HTTP 200, except on file downloads (see FileHandler).
    error_status = 200

    @property
    def flow(self) -> FlowEngine:
        """The engine every operation goes through."""
        return self.extensionapp.flow

    def body_limit(self) -> int:
        """The largest request body this endpoint accepts, in bytes."""
        return int(self.extensionapp.max_json_body_size)

    async def prepare(self) -> None:
        """Refuse unauthenticated or oversized requests before reading their body."""
        result = super().prepare()
        if inspect.isawaitable(result):
            await result
        if self.current_user is None:
            raise web.HTTPError(403, AUTH_MESSAGE)

        self._body_parts: list[bytes] = []
        self._body_size = 0
        limit = self.body_limit()
        self.request.connection.set_max_body_size(limit)
        length = self.request.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > limit:
            raise RequestTooLarge(
                f"the request body has {int(length)} bytes; this endpoint accepts at most {limit}"
            )

    def data_received(self, chunk: bytes) -> None:
        """Collect the body of a JSON request."""
        self._body_parts.append(chunk)

    def json_args(self) -> dict[str, Any]:
        """The request's JSON object; an empty body counts as ``{}``."""
        body = b"".join(self._body_parts)
        if not body.strip():
            return {}
        return args.json_object(body, "the request body")

    def reply(self, reply: Reply) -> None:
        """Write a successful answer."""
        self.set_header("Content-Type", "application/json")
        self.finish(envelope(RetCode.SUCCESS, reply.retmsg, reply.data, reply.job_id))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every failure in FATE's envelope; only FlowError messages reach the client."""
        error = (kwargs.get("exc_info") or (None, None, None))[1]
        data = None
        if isinstance(error, FlowError):
            self.set_status(self.error_status)
            retcode, retmsg, data = int(error.retcode), error.message, error.data
        elif isinstance(error, web.HTTPError):
            retcode = RetCode.PARAMETER_ERROR if status_code < 500 else RetCode.EXCEPTION_ERROR
            retmsg = error.log_message % error.args if error.log_message else _phrase(status_code)
            if status_code == 403 and retmsg != AUTH_MESSAGE:
                retmsg = f"{AUTH_MESSAGE} ({retmsg})"
        elif error is not None:
            # FATE answers failures with HTTP 200; the traceback stays in the server log.
            self.set_status(200)
            retcode = RetCode.EXCEPTION_ERROR
            retmsg = f"internal error ({type(error).__name__}); the server log has the details"
        else:
            retcode, retmsg = RetCode.EXCEPTION_ERROR, _phrase(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(envelope(retcode, retmsg, data))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Log client errors in one line; keep tracebacks for the unexpected."""
        if isinstance(value, FlowError):
            self.log.info("%s %s refused: %s", self.request.method, self.request.path, value)
        else:
            super().log_exception(typ, value, tb)


class FileHandler(FlowHandler):
    """An endpoint that answers a file: failures are HTTP 210 with JSON, as FATE 1.5 does.

    FATE's clients read any 200 answer of these endpoints as the file itself.
    """

    error_status = 210

    async def send_file(self, name: str, contents: IO[bytes]) -> None:
        """Stream an open file as an attachment, then close it."""
        self.set_header("Content-Type", "application/gzip")
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        with contents:
            while chunk := contents.read(FILE_CHUNK_BYTES):
                self.write(chunk)
                await self.flush()
        await self.finish()


class UnknownEndpointHandler(FlowHandler):
    """Any /v1 path that no handler serves."""

    def _unknown(self) -> None:
        raise web.HTTPError(404, "no endpoint %s %s", self.request.method, self.request.path)

    @web.authenticated
    def get(self, *_: str) -> None:
        """Answer 404 in FATE's envelope."""
        self._unknown()

    @web.authenticated
    def post(self, *_: str) -> None:
        """Answer 404 in FATE's envelope."""
        self._unknown()
