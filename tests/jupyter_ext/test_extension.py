"""The installed extension: enabled by itself, served by a plain `jupyter server`."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flow_api import FlowApi

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_extension_is_enabled_and_ok_after_install() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter_server.extension.serverextension", "list"],
        capture_output=True,
        text=True,
        check=True,
    )

    text = ANSI.sub("", listing.stdout + listing.stderr)
    assert re.search(r"jupyter_ext\s+enabled", text), text
    assert re.search(r"jupyter_ext\s+OK", text), text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, token: str, payload: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"token {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_plain_jupyter_server_serves_v1(tmp_path: Path) -> None:
    root, home, token, port = tmp_path / "root", tmp_path / "home", "t0ken", _free_port()
    root.mkdir()
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
    ]
    env = {**os.environ, "FATE_NB_HOME": str(home), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/v1/table/table_info"
        for _ in range(300):
            try:
                reply = _post(url, token, {"namespace": "n", "table_name": "t"})
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(server.stderr.read().decode() if server.stderr else "exited")
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer")
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)

    assert reply["retcode"] == 0
    assert reply["data"]["count"] == 0
    assert (home / "fate_nb.db").is_file()


@pytest.fixture
def other_db(tmp_path: Path) -> Path:
    """A database file outside the home directory."""
    return tmp_path / "elsewhere" / "flow.db"


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], other_db: Path) -> dict[str, Any]:
    """The store configured by URL."""
    other_db.parent.mkdir()
    fate_app = {**jp_server_config["FateApp"], "db_url": f"sqlite:///{other_db}"}
    return {**jp_server_config, "FateApp": fate_app}


async def test_db_url_setting_is_used(
    flow_api: FlowApi, breast_guest: Path, other_db: Path, fate_home: Path
) -> None:
    _, row = await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="db"
    )

    assert row["f_status"] == "success"
    assert other_db.is_file()
    assert not (fate_home / "fate_nb.db").exists()
