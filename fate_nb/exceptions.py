"""The errors fate_nb's notebook side raises.

FateNbError
├── InvalidArgument   an argument the client cannot use; the message says what to change
├── ServerNotFound    no running server to talk to, or several and no way to choose
├── ServerError       the server could not be reached, or answered without FATE's envelope
├── FateFlowError     the server answered a non-zero retcode (``retcode``, ``retmsg``)
└── JobError
    ├── JobTimeout    a wait ran out of time before the job ended
    └── JobFailed     a job the call depends on ended without success
"""

from __future__ import annotations

from typing import Any


class FateNbError(Exception):
    """Base class of every error fate_nb's client, widgets and magics raise."""


class InvalidArgument(FateNbError, ValueError):
    """An argument the client cannot use (a ValueError too); the message says what to change."""


class ServerNotFound(FateNbError):
    """No fate-nb server was given, and none could be found among the running servers."""


class ServerError(FateNbError):
    """The server could not be reached or did not answer in FATE's envelope."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class FateFlowError(FateNbError):
    """The server refused a call: FATE's ``retcode`` and ``retmsg``, and ``data`` if any."""

    def __init__(self, retcode: int, retmsg: str, endpoint: str, data: Any = None) -> None:
        super().__init__(f"{endpoint}: {retmsg} (retcode {retcode})")
        self.retcode = retcode
        self.retmsg = retmsg
        self.endpoint = endpoint
        self.data = data


class JobError(FateNbError):
    """A job did not end as the call needed; ``job_id`` and its last ``status``."""

    def __init__(self, message: str, job_id: str, status: str) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.status = status


class JobTimeout(JobError):
    """A wait ran out of time; the job itself goes on."""


class JobFailed(JobError):
    """A job ended failed, canceled or timed out."""
