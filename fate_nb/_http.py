"""The HTTP session under FlowClient: one ``httpx.Client``, FATE's envelope, the errors."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import httpx
import numpy as np

from fate_nb._discovery import TOKEN_VARIABLE, find_server
from fate_nb.exceptions import FateFlowError, InvalidArgument, ServerError

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

    def call(
        self,
        endpoint: str,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """POST ``payload`` to ``/v1/<endpoint>`` and return the answer's ``data``.

        ``timeout`` overrides the client's seconds for this one call.

        Raises
        ------
        FateFlowError
            The server answered a non-zero retcode.
        ServerError
            The server could not be reached or did not answer in FATE's envelope.
        InvalidArgument
            The payload cannot be sent as JSON (NaN, infinity, an object JSON has no form for).
        """
        return self.envelope(endpoint, payload, timeout=timeout).get("data")

    def envelope(
        self,
        endpoint: str,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """POST to ``/v1/<endpoint>`` and return FATE's whole envelope (``data``, ``meta``...)."""
        extra = {} if timeout is None else {"timeout": timeout}
        response = self._send("POST", endpoint, **_json_body(endpoint, payload), **extra)
        return self._checked(endpoint, response)

    def fetch_file(self, endpoint: str, payload: Mapping[str, Any]) -> bytes:
        """POST to a file endpoint and return the file; an envelope instead means a refusal."""
        response = self._send("POST", endpoint, **_json_body(endpoint, payload))
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
        except httpx.TimeoutException as error:
            seconds = kwargs.get("timeout", self._http.timeout.read)
            within = f"within {seconds:g} s" if isinstance(seconds, int | float) else "in time"
            raise ServerError(
                f"fate-nb at {self.base_url} did not answer {endpoint.split('?')[0]} {within} "
                "(a busy server or a slow call: give FlowClient a larger timeout=)"
            ) from error
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
        if response.status_code == 403:
            raise FateFlowError(
                int(envelope["retcode"]), self._token_message(), endpoint, envelope.get("data")
            )
        if envelope["retcode"] != 0:
            raise FateFlowError(
                int(envelope["retcode"]),
                str(envelope.get("retmsg", "")),
                endpoint,
                envelope.get("data"),
            )
        return envelope

    def _token_message(self) -> str:
        """What to do about a 403: the token is missing or wrong."""
        how = (
            f"pass it as FlowClient(url, token=...) or set {TOKEN_VARIABLE}; "
            "`jupyter server list` shows each running server's token"
        )
        if not self.token:
            return f"the server at {self.base_url} wants a token and none was found: {how}"
        return f"the server at {self.base_url} refused the token given (a wrong token?): {how}"


def _json_body(endpoint: str, payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request's JSON body and its content type; numpy values as their Python twins."""
    try:
        text = json.dumps(dict(payload or {}), default=_jsonable, allow_nan=False)
    except ValueError as error:
        where = _non_finite(payload) or "a value"
        raise InvalidArgument(
            f"{endpoint}: {where} is NaN or infinite, which JSON cannot carry; "
            "give a number, or leave the key out (or use None) for a missing value"
        ) from error
    except TypeError as error:
        raise InvalidArgument(
            f"{endpoint}: the request cannot be sent as JSON: {error}; "
            "give dicts, lists, strings, numbers, booleans or None"
        ) from error
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists, for ``json.dumps``."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} {value!r:.60} is not JSON serializable")


def _non_finite(value: Any, path: str = "") -> str | None:
    """Where in a payload the first NaN or infinity is, e.g. ``'conf["x"][2]'``."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, Mapping):
        items: Any = ((f"[{key!r}]", item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"[{index}]", item) for index, item in enumerate(value))
    else:
        number = value.item() if isinstance(value, np.generic) else value
        if isinstance(number, float) and not math.isfinite(number):
            return f"the value at {path}" if path else "the value"
        return None
    for step, item in items:
        found = _non_finite(item, path + step)
        if found:
            return found
    return None
