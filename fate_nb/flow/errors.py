"""Errors of the flow engine and the FATE retcodes they carry.

Every error a client should see is a ``FlowError``; the handler layer turns it into FATE's
envelope (``retcode`` and ``retmsg``) in one place. Anything else is a bug: it is logged with
its traceback and answered with a generic retcode 100.

    FlowError (100: the operation failed)
    ├── ParameterError (101: a bad or missing argument)
    │   └── PathNotAllowed (101: a server path outside the root)
    ├── NotFound (101: no such job, task or table)
    ├── DataError (102: the data cannot be read or stored)
    ├── TableExists (100: an upload would overwrite a table without drop=1)
    ├── RequestTooLarge (101: a request body over the configured limit)
    └── HomeInUse (100: another server holds the home folder; raised at start-up)
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class RetCode(IntEnum):
    """The retcodes FATE-Flow uses (1.5's ``RetCode``, 1.4's literals)."""

    SUCCESS = 0
    EXCEPTION_ERROR = 100
    PARAMETER_ERROR = 101
    DATA_ERROR = 102
    OPERATING_ERROR = 103
    FEDERATED_ERROR = 104
    CONNECTION_ERROR = 105
    SERVER_ERROR = 500


class FlowError(Exception):
    """An error a client can act on; its message goes to ``retmsg`` as it is.

    ``data``, when given, is answered beside it (FATE's per-party detail of a failed load).
    """

    retcode: RetCode = RetCode.EXCEPTION_ERROR

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class ParameterError(FlowError):
    """A request argument is missing, malformed or out of range."""

    retcode = RetCode.PARAMETER_ERROR


class PathNotAllowed(ParameterError):
    """A server-side path resolves outside the Jupyter server's root directory."""


class NotFound(FlowError):
    """The job, task or table a request names does not exist."""

    retcode = RetCode.PARAMETER_ERROR


class DataError(FlowError):
    """A data file or table cannot be read, parsed or stored."""

    retcode = RetCode.DATA_ERROR


class TableExists(FlowError):
    """An upload targets an existing table and did not ask to replace it."""


class RequestTooLarge(ParameterError):
    """A request body is larger than the configured limit."""


class HomeInUse(FlowError):
    """Another fate-nb server already holds this home folder."""
