"""The server's message broker: task workers of one component exchange messages through it.

Workers connect to a Unix socket in a private folder and say who they are with the token the
scheduler gave their task. From then on a worker may only send as its own party, only to
parties of its own job, and only receive what was addressed to it. A message is kept until its
receiver asks for it; a job's undelivered messages are dropped when the job ends.

Frames are a 4-byte big-endian length and a msgpack map; payloads stay opaque bytes here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import struct
import tempfile
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 1024**3
_LENGTH = struct.Struct(">I")

# (job_id, component_name, name, tag, src_role, src_party_id, dst_role, dst_party_id)
MessageKey = tuple[str, str, str, str, str, str, str, str]
Observer = Callable[[MessageKey, bytes], None]


@dataclass(frozen=True)
class Identity:
    """The task a worker's token was issued for, and the parties of its job."""

    job_id: str
    component_name: str
    role: str
    party_id: str
    parties: frozenset[tuple[str, str]]


class Broker:
    """Mailboxes keyed by message, on the server's event loop."""

    def __init__(self) -> None:
        self.socket_path: Path | None = None
        self.observers: list[Observer] = []
        self._server: asyncio.AbstractServer | None = None
        self._tokens: dict[str, Identity] = {}
        self._mail: dict[MessageKey, deque[bytes]] = defaultdict(deque)
        self._waiting: dict[MessageKey, deque[asyncio.Future[bytes]]] = defaultdict(deque)

    async def start(self) -> Path:
        """Listen (once) on a socket in a folder only this user can enter; return its path."""
        if self._server is None:
            folder = Path(tempfile.mkdtemp(prefix="fate_nb_federation_"))
            self.socket_path = folder / "broker.sock"
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.socket_path), limit=2**20
            )
        assert self.socket_path is not None
        return self.socket_path

    async def close(self) -> None:
        """Stop listening and remove the socket's folder."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        if self.socket_path is not None:
            shutil.rmtree(self.socket_path.parent, ignore_errors=True)
            self.socket_path = None

    def register(
        self,
        job_id: str,
        component_name: str,
        role: str,
        party_id: str,
        roles: dict[str, list[int]],
    ) -> str:
        """A token that lets one task's worker send and receive as its party."""
        token = secrets.token_hex(16)
        parties = frozenset((r, str(p)) for r, ids in roles.items() for p in ids)
        self._tokens[token] = Identity(job_id, component_name, role, party_id, parties)
        return token

    def unregister(self, token: str) -> None:
        """Forget a task's token once its worker has ended."""
        self._tokens.pop(token, None)

    def drop_job(self, job_id: str) -> None:
        """Drop a job's undelivered messages and fail whoever still waits for one."""
        for key in [key for key in self._mail if key[0] == job_id]:
            del self._mail[key]
        for key in [key for key in self._waiting if key[0] == job_id]:
            for waiter in self._waiting.pop(key):
                if not waiter.done():
                    waiter.set_exception(ConnectionAbortedError(f"job {job_id} has ended"))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        identity: Identity | None = None
        try:
            while True:
                request = await _read_frame(reader)
                if request is None:
                    return
                if identity is None:
                    identity = self._tokens.get(str(request.get("token")))
                    reply: dict[str, Any] = {"ok": identity is not None}
                    if identity is None:
                        reply["error"] = "unknown federation token"
                else:
                    reply = await self._handle(identity, request)
                await _write_frame(writer, reply)
                if not reply["ok"] and identity is None:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as error:
            log.warning("federation connection closed: %s", error)
        finally:
            writer.close()

    async def _handle(self, me: Identity, request: dict[str, Any]) -> dict[str, Any]:
        op, name, tag = request.get("op"), str(request.get("name")), str(request.get("tag"))
        if op == "remote":
            destinations = [(str(role), str(party)) for role, party in request.get("dst", [])]
            unknown = [dst for dst in destinations if dst not in me.parties]
            if unknown or not isinstance(request.get("payload"), bytes):
                return {"ok": False, "error": f"no such party in this job: {unknown}"}
            for role, party in destinations:
                key = (me.job_id, me.component_name, name, tag, me.role, me.party_id, role, party)
                self._deliver(key, request["payload"])
            return {"ok": True}

        if op == "get":
            role, party = (str(part) for part in request.get("src", ("", "")))
            if (role, party) not in me.parties:
                return {"ok": False, "error": f"no such party in this job: {role} {party}"}
            key = (me.job_id, me.component_name, name, tag, role, party, me.role, me.party_id)
            try:
                payload = await self._receive(key, float(request.get("timeout", 0)))
            except asyncio.TimeoutError:
                return {"ok": False, "error": "timeout"}
            except ConnectionAbortedError as error:
                return {"ok": False, "error": str(error)}
            return {"ok": True, "payload": payload}

        return {"ok": False, "error": f"unknown operation {op!r}"}

    def _deliver(self, key: MessageKey, payload: bytes) -> None:
        for observer in self.observers:
            observer(key, payload)
        waiters = self._waiting.get(key)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(payload)
                return
        self._mail[key].append(payload)

    async def _receive(self, key: MessageKey, timeout: float) -> bytes:
        mailbox = self._mail.get(key)
        if mailbox:
            payload = mailbox.popleft()
            if not mailbox:
                del self._mail[key]
            return payload
        waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting[key].append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        finally:
            waiters = self._waiting.get(key)
            if waiters is not None and waiter in waiters:
                waiters.remove(waiter)
            if waiters is not None and not waiters:
                del self._waiting[key]


async def _read_frame(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    try:
        header = await reader.readexactly(_LENGTH.size)
    except asyncio.IncompleteReadError:
        return None
    (length,) = _LENGTH.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise ValueError(f"a frame of {length} bytes is over the {MAX_FRAME_BYTES} limit")
    frame = msgpack.unpackb(await reader.readexactly(length), raw=False)
    if not isinstance(frame, dict):
        raise ValueError("a frame must be a map")
    return frame


async def _write_frame(writer: asyncio.StreamWriter, frame: dict[str, Any]) -> None:
    data = msgpack.packb(frame, use_bin_type=True)
    writer.write(_LENGTH.pack(len(data)) + data)
    await writer.drain()
