"""Which Jupyter server the notebook side talks to, and with which token.

The server, in this order: the ``url`` a caller gives; the environment variable
``FATE_NB_URL``; the server that started this kernel (``JPY_PARENT_PID``); the running server
whose root directory holds the notebook (``JPY_SESSION_NAME``) or the current directory; the
only running server.

The token, in this order: the ``token`` a caller gives; a ``?token=`` in the URL; the token
of the running server at that URL (its Jupyter runtime file); the environment variables
``FATE_NB_TOKEN`` and ``JUPYTER_TOKEN``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from jupyter_core.paths import jupyter_runtime_dir

from fate_nb.exceptions import InvalidArgument, ServerNotFound

URL_VARIABLE = "FATE_NB_URL"
TOKEN_VARIABLE = "FATE_NB_TOKEN"
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
# Pages of Jupyter's front ends: a URL copied from the browser ends in one of these, and the
# server's base URL is what comes before it.
_PAGES = frozenset({"lab", "tree", "notebooks", "edit", "doc", "terminals", "voila"})


@dataclass(frozen=True)
class ServerAddress:
    """Where a server answers (its base URL, ending in ``/``) and the token it wants."""

    url: str
    token: str


def running_servers(runtime_dir: str | None = None) -> list[dict[str, Any]]:
    """The info of every running Jupyter server (``jpserver-*.json`` in the runtime folder)."""
    # jupyter_server's own listing; it also drops the files of servers that are gone.
    from jupyter_server.serverapp import list_running_servers

    return list(list_running_servers(runtime_dir or jupyter_runtime_dir()))


def find_server(
    url: str | None = None, token: str | None = None, notebook_path: str | None = None
) -> ServerAddress:
    """The server to talk to (see the module docstring for the order)."""
    url = url or os.environ.get(URL_VARIABLE)
    if url:
        if not isinstance(url, str):
            raise InvalidArgument(f"url must be the server's address as text, not {url!r}")
        url, in_url = _split_token(url)
        url = _base_url(url)
        token = token or in_url or token_for(url)
        return ServerAddress(_with_slash(url), token or _token_variable())

    info = _pick(running_servers(), notebook_path)
    return ServerAddress(_with_slash(info["url"]), token or info.get("token") or _token_variable())


def token_for(url: str, runtime_dir: str | None = None) -> str:
    """The token of the running server at ``url``, from its runtime file ('' if none runs)."""
    wanted = _address(url)
    for info in running_servers(runtime_dir):
        if _address(str(info.get("url", ""))) == wanted and info.get("token"):
            return str(info["token"])
    return ""


def _token_variable() -> str:
    return os.environ.get(TOKEN_VARIABLE) or os.environ.get("JUPYTER_TOKEN") or ""


def _split_token(url: str) -> tuple[str, str]:
    """A URL as Jupyter prints it (``...?token=abc``) without its query, and the token."""
    parts = urlsplit(url)
    token = parse_qs(parts.query).get("token", [""])[0]
    return urlunsplit(parts._replace(query="", fragment="")), token


def _base_url(url: str) -> str:
    """The server's base URL from a page's URL (``.../lab/tree/x.ipynb`` -> ``.../``)."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    for index, segment in enumerate(segments):
        if segment in _PAGES:
            return urlunsplit(parts._replace(path="/".join(segments[:index]) + "/"))
    return url


def _address(url: str) -> tuple[str, str, int | None, str]:
    """What identifies a server in a URL; the loopback names (localhost, 127.0.0.1) are one."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in _LOOPBACK:
        host = "localhost"
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme, host, port, _with_slash(parts.path or "/")


def _pick(servers: list[dict[str, Any]], notebook_path: str | None) -> dict[str, Any]:
    if not servers:
        raise ServerNotFound(
            f"no running Jupyter server found in {jupyter_runtime_dir()}; start one with "
            f"`jupyter server`, or give url= and token= (or set {URL_VARIABLE} and "
            f"{TOKEN_VARIABLE})"
        )

    parent = os.environ.get("JPY_PARENT_PID")
    for info in servers:
        if parent and str(info.get("pid")) == parent:
            return info

    where = Path(notebook_path or os.environ.get("JPY_SESSION_NAME") or os.getcwd()).resolve()
    holding = [info for info in servers if _holds(info.get("root_dir", ""), where)]
    if holding:
        return max(holding, key=lambda info: len(str(info.get("root_dir", ""))))
    if len(servers) == 1:
        return servers[0]

    urls = ", ".join(str(info.get("url")) for info in servers)
    raise ServerNotFound(
        f"{len(servers)} Jupyter servers are running ({urls}) and none has {where} under its "
        f"root; give url= and token= (or set {URL_VARIABLE} and {TOKEN_VARIABLE})"
    )


def _holds(root_dir: str, path: Path) -> bool:
    if not root_dir:
        return False
    return path.is_relative_to(Path(root_dir).resolve())


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
