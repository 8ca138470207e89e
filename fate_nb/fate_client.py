"""Jupyter's token for FATE's own client (fate-client on PyPI): flow_sdk, pipeline and `flow`.

fate-client has no option for extra headers, and from 1.7 its FlowClient ignores the headers of
its ``requests`` session. What every version honours is the ``add_headers`` hook of the
session's transport adapter, so:

- ``add_token(client_or_pipeline, token)`` mounts an adapter that adds
  ``Authorization: token ...`` on one ``flow_sdk`` FlowClient or ``pipeline`` PipeLine;
- ``python -m fate_nb.fate_client sitecustomize DIR`` writes ``DIR/sitecustomize.py`` for the
  ``flow`` CLI (or any script): run ``PYTHONPATH=DIR FATE_NB_TOKEN=... flow job query -j ID``.

This module needs only the standard library and ``requests`` (imported when used), so it works
in fate-client's own environment; it imports nothing else of fate_nb.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

TOKEN_VARIABLE = "FATE_NB_TOKEN"

# Written by `sitecustomize DIR`: self-contained, since fate-nb need not be installed there.
SITECUSTOMIZE = '''\
"""Written by fate_nb.fate_client: Jupyter's token on every request sent with `requests`.

The token is read from the environment variable FATE_NB_TOKEN when Python starts; without
it nothing is changed. Put this file's folder on PYTHONPATH only for FATE's client.
"""

import os

_token = os.environ.get("FATE_NB_TOKEN", "").strip()
if _token:
    try:
        from requests.adapters import HTTPAdapter as _HTTPAdapter
    except ImportError:  # no requests here: nothing to patch
        _HTTPAdapter = None
    if _HTTPAdapter is not None:
        _original_add_headers = _HTTPAdapter.add_headers

        def _add_headers(self, request, **kwargs):
            _original_add_headers(self, request, **kwargs)
            request.headers["Authorization"] = "token " + _token

        _HTTPAdapter.add_headers = _add_headers
'''


def _token_or_environment(token: str | None) -> str:
    """The token given, else FATE_NB_TOKEN's; a clear error when there is none."""
    value = (token if token is not None else os.environ.get(TOKEN_VARIABLE, "")).strip()
    if not value:
        raise ValueError(
            f"no Jupyter token: pass token=... or set {TOKEN_VARIABLE} "
            "(the server prints it at start; `jupyter server list` shows it)"
        )
    return value


def token_adapter(token: str) -> Any:
    """A requests HTTPAdapter that adds ``Authorization: token <token>`` to every request."""
    from requests.adapters import HTTPAdapter

    class TokenAdapter(HTTPAdapter):
        """Adds Jupyter's token header; the rest is requests' own adapter."""

        def add_headers(self, request: Any, **kwargs: Any) -> None:
            super().add_headers(request, **kwargs)
            request.headers["Authorization"] = f"token {token}"

    return TokenAdapter()


def _session_of(target: Any) -> Any:
    """The requests session a FlowClient, PipeLine or Session sends with."""
    if hasattr(target, "mount") and hasattr(target, "adapters"):
        return target
    http = getattr(target, "_http", None)
    if http is not None:
        return http
    invoker = getattr(target, "_job_invoker", None)
    client = getattr(invoker, "client", None)
    if client is not None and getattr(client, "_http", None) is not None:
        return client._http
    raise TypeError(
        f"cannot add a token to {type(target).__name__}: expected fate-client's "
        "flow_sdk.client.FlowClient, a pipeline PipeLine or a requests.Session"
    )


def add_token(target: Any, token: str | None = None) -> Any:
    """Send Jupyter's token with every request of a fate-client FlowClient or PipeLine."""
    value = _token_or_environment(token)
    session = _session_of(target)
    adapter = token_adapter(value)
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)
    return target


def write_sitecustomize(folder: Path | str) -> Path:
    """Write ``folder/sitecustomize.py``, which adds FATE_NB_TOKEN's token to every request."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sitecustomize.py"
    path.write_text(SITECUSTOMIZE)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m fate_nb.fate_client sitecustomize DIR``: print how to use the file written."""
    parser = argparse.ArgumentParser(
        prog="python -m fate_nb.fate_client",
        description="Jupyter's token for FATE's flow CLI and other fate-client scripts.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    site = commands.add_parser("sitecustomize", help="write DIR/sitecustomize.py")
    site.add_argument("folder", help="a folder of its own, put on PYTHONPATH for the CLI")
    args = parser.parse_args(argv)
    path = write_sitecustomize(args.folder)
    folder = path.parent.resolve()
    print(f"wrote {path}; use it as:")
    print(f"  PYTHONPATH={folder} {TOKEN_VARIABLE}=<token> flow job query -j <job_id>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
