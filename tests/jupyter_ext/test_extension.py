"""The installed extension: enabled by itself, served by a plain `jupyter server`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flow_api import FlowApi

from fate_nb.launch import running_server

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


def test_plain_jupyter_server_serves_v1(tmp_path: Path) -> None:
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()

    with running_server(root, home, tmp_path / "server.log") as server, server.client() as client:
        reply = client.post("v1/table/table_info", json={"namespace": "n", "table_name": "t"})

    assert reply.json()["retcode"] == 0
    assert reply.json()["data"]["count"] == 0
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
