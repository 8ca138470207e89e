"""A party's side of the federation: send values to other parties of the job, wait for theirs."""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence
from typing import Any

import msgpack

from fate_nb.federation import codec
from fate_nb.flow.errors import FlowError, RetCode

DEFAULT_TIMEOUT_S = 600.0
_LENGTH = struct.Struct(">I")
# The socket waits this much longer than the broker, which answers a timeout itself.
_SOCKET_SLACK_S = 30.0


class FederationError(FlowError):
    """A message could not be sent or did not come."""

    retcode = RetCode.FEDERATED_ERROR


class FederationTimeout(FederationError):
    """A message this party waited for did not come in time."""


class Federation:
    """One task's party: ``remote`` and ``get`` named, tagged messages of its component.

    A message is addressed by its name and tag, its sender and its receiver; the job and the
    component are implied. Values go through ``codec``: no pickle crosses between parties.
    """

    def __init__(
        self,
        socket_path: str,
        token: str,
        role: str,
        party_id: str,
        roles: dict[str, list[int]],
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.role = role
        self.party_id = party_id
        self.roles = roles
        self.timeout = timeout
        self._socket_path = socket_path
        self._token = token
        self._socket: socket.socket | None = None

    def parties(self, role: str) -> list[str]:
        """The party ids of ``role`` in this job, in conf order."""
        return [str(party) for party in self.roles.get(role, [])]

    def remote(
        self,
        value: Any,
        name: str,
        tag: str | int,
        role: str,
        party_ids: Sequence[str | int] | None = None,
    ) -> None:
        """Send ``value`` to the parties of ``role`` (all of them unless ``party_ids``)."""
        targets = self._targets(role, party_ids)
        request = {
            "op": "remote",
            "name": name,
            "tag": str(tag),
            "dst": [[role, party] for party in targets],
            "payload": codec.encode(value),
        }
        self._call(request, f"sending {name!r} ({tag}) to {role} {', '.join(targets)}", None)

    def get(
        self,
        name: str,
        tag: str | int,
        role: str,
        party_ids: Sequence[str | int] | None = None,
        timeout: float | None = None,
    ) -> list[Any]:
        """The values ``name`` (``tag``) sent by each party of ``role``, in conf order."""
        wait = self.timeout if timeout is None else timeout
        values = []
        for party in self._targets(role, party_ids):
            request = {
                "op": "get",
                "name": name,
                "tag": str(tag),
                "src": [role, party],
                "timeout": wait,
            }
            what = f"waiting for {name!r} ({tag}) from {role} {party}"
            values.append(codec.decode(self._call(request, what, wait)["payload"]))
        return values

    def get_one(self, name: str, tag: str | int, role: str, timeout: float | None = None) -> Any:
        """The value ``name`` (``tag``) from the only party of ``role``."""
        (value,) = self.get(name, tag, role, self.parties(role)[:1], timeout)
        return value

    def close(self) -> None:
        """Close the connection to the broker."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _targets(self, role: str, party_ids: Sequence[str | int] | None) -> list[str]:
        known = self.parties(role)
        targets = known if party_ids is None else [str(party) for party in party_ids]
        unknown = [party for party in targets if party not in known]
        if not targets or unknown:
            raise FederationError(f"no party {unknown or ''} of role {role!r} in this job")
        return targets

    def _connect(self) -> socket.socket:
        if self._socket is None:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.connect(self._socket_path)
            except OSError as error:
                connection.close()
                raise FederationError(f"the federation broker cannot be reached: {error}") from None
            self._socket = connection
            try:
                self._exchange({"token": self._token}, "joining the federation", None)
            except FederationError:
                self.close()
                raise
        return self._socket

    def _call(self, request: dict[str, Any], what: str, wait: float | None) -> dict[str, Any]:
        self._connect()
        return self._exchange(request, what, wait)

    def _exchange(self, request: dict[str, Any], what: str, wait: float | None) -> dict[str, Any]:
        assert self._socket is not None
        self._socket.settimeout(None if wait is None else wait + _SOCKET_SLACK_S)
        data = msgpack.packb(request, use_bin_type=True)
        try:
            self._socket.sendall(_LENGTH.pack(len(data)) + data)
            (length,) = _LENGTH.unpack(_read_exactly(self._socket, _LENGTH.size))
            reply = msgpack.unpackb(_read_exactly(self._socket, length), raw=False)
        except OSError as error:
            self.close()
            raise FederationError(f"{what}: the broker connection failed ({error})") from None
        if reply.get("ok"):
            return reply
        if reply.get("error") == "timeout":
            raise FederationTimeout(f"{self.role} {self.party_id} {what}: no message in {wait:g} s")
        raise FederationError(f"{self.role} {self.party_id} {what}: {reply.get('error')}")


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = connection.recv(min(size, 2**20))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
