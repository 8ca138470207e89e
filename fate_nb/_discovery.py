"""Which Jupyter server the notebook side talks to, and with which token.

In this order: the ``url`` and ``token`` a caller gives; the environment variables
``FATE_NB_URL`` and ``FATE_NB_TOKEN`` (``JUPYTER_TOKEN`` for the token too); the server that
started this kernel (``JPY_PARENT_PID``); the running server whose root directory holds the
notebook (``JPY_SESSION_NAME``) or the current directory; the only running server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_runtime_dir

from fate_nb.exceptions import ServerNotFound

URL_VARIABLE = "FATE_NB_URL"
TOKEN_VARIABLE = "FATE_NB_TOKEN"


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
    token = token or os.environ.get(TOKEN_VARIABLE) or os.environ.get("JUPYTER_TOKEN")
    if url:
        return ServerAddress(_with_slash(url), token or "")

    info = _pick(running_servers(), notebook_path)
    return ServerAddress(_with_slash(info["url"]), token or info.get("token", ""))


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
