"""The HTTP session under FlowClient: one ``httpx.Client``, FATE's envelope, the errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from fate_nb._discovery import find_server
from fate_nb.exceptions import FateFlowError, ServerError

DEFAULT_TIMEOUT_S = 60.0


class FlowSession:
    """The server's address and token, and the calls every FlowClient method goes through."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
        notebook_path: str | None = None,
    ) -> None:
        address = find_server(url, token, notebook_path)
        self.base_url = address.url
        self.token = address.token
        headers = {"Authorization": f"token {address.token}"} if address.token else {}
        self._http = httpx.Client(
            base_url=address.url, headers=headers, timeout=timeout, transport=transport
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def __enter__(self) -> FlowSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def call(self, endpoint: str, payload: Mapping[str, Any] | None = None) -> Any:
        """POST ``payload`` to ``/v1/<endpoint>`` and return the answer's ``data``.

        Raises
        ------
        FateFlowError
            The server answered a non-zero retcode.
        ServerError
            The server could not be reached or did not answer in FATE's envelope.
        """
        return self.envelope(endpoint, payload).get("data")

    def envelope(self, endpoint: str, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST to ``/v1/<endpoint>`` and return FATE's whole envelope (``data``, ``meta``...)."""
        response = self._send("POST", endpoint, json=dict(payload or {}))
        return self._checked(endpoint, response)

    def fetch_file(self, endpoint: str, payload: Mapping[str, Any]) -> bytes:
        """POST to a file endpoint and return the file; an envelope instead means a refusal."""
        response = self._send("POST", endpoint, json=dict(payload))
        if response.headers.get("content-type", "").startswith("application/json"):
            self._checked(endpoint, response)
            raise ServerError(f"{endpoint}: the server answered JSON where a file was expected")
        if response.status_code != 200:
            raise ServerError(
                f"{endpoint}: HTTP {response.status_code}: {response.text[:200]}",
                response.status_code,
            )
        return response.content

    def _send(self, method: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, f"v1/{endpoint}", **kwargs)
        except httpx.TransportError as error:
            raise ServerError(f"cannot reach fate-nb at {self.base_url}: {error}") from error

    def _checked(self, endpoint: str, response: httpx.Response) -> dict[str, Any]:
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or "retcode" not in envelope:
            hint = " (is the fate-nb extension enabled?)" if response.status_code == 404 else ""
            raise ServerError(
                f"{endpoint}: HTTP {response.status_code} without FATE's envelope{hint}: "
                f"{response.text[:200]}",
                response.status_code,
            )
        if envelope["retcode"] != 0:
            raise FateFlowError(
                int(envelope["retcode"]),
                str(envelope.get("retmsg", "")),
                endpoint,
                envelope.get("data"),
            )
        return envelope
