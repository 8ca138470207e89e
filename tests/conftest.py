"""Shared fixtures: a real Jupyter server with the extension, and a small /v1 client."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from csv_files import DATA_DIR
from flow_api import FlowApi

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def fate_home(tmp_path: Path) -> Path:
    """The extension's home directory for one test."""
    return tmp_path / "fate_home"


@pytest.fixture
def jp_server_config(fate_home: Path) -> dict[str, Any]:
    """Enable the extension and fail loudly if it cannot load."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_ext": True},
            "reraise_server_extension_failures": True,
        },
        "FateApp": {"home_dir": str(fate_home)},
    }


@pytest.fixture
def breast_guest(jp_root_dir: Path) -> Path:
    """FATE's breast_hetero_guest.csv, inside the server's root."""
    return Path(shutil.copy(DATA_DIR / "breast_hetero_guest.csv", jp_root_dir))


@pytest.fixture
def breast_host(jp_root_dir: Path) -> Path:
    """FATE's breast_hetero_host.csv, inside the server's root."""
    return Path(shutil.copy(DATA_DIR / "breast_hetero_host.csv", jp_root_dir))


@pytest.fixture
def flow_api(
    jp_serverapp: Any, http_server_client: Any, jp_auth_header: dict[str, str], jp_base_url: str
) -> FlowApi:
    """A client of the running server's /v1 API."""
    return FlowApi(http_server_client, jp_base_url, jp_auth_header)
