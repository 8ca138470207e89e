"""A fate-nb server in its own process for the notebook side's tests, shared by the session.

The notebook side talks HTTP synchronously, which would block pytest-jupyter's in-process
server; so these tests run against a real ``jupyter server`` started by ``fate_nb.launch``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from csv_files import DATA_DIR

from fate_nb import examples
from fate_nb.client import FlowClient
from fate_nb.launch import ServerProcess, running_server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A running server with the breast tables in its root (not uploaded)."""
    workdir = tmp_path_factory.mktemp("live_server")
    root, home = workdir / "root", workdir / "home"
    root.mkdir()
    for name in ("breast_hetero_guest.csv", "breast_hetero_host.csv"):
        shutil.copy(DATA_DIR / name, root)
    with running_server(root, home, workdir / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
def live_root(live_server: ServerProcess) -> Path:
    """The live server's root directory."""
    return live_server.log_path.parent / "root"


@pytest.fixture(scope="session")
def session_client(live_server: ServerProcess) -> Iterator[FlowClient]:
    """A FlowClient of the live server, given its address explicitly."""
    with FlowClient(live_server.base_url, live_server.token) as client:
        yield client


@pytest.fixture(scope="session")
def breast_tables(session_client: FlowClient, live_root: Path) -> dict[str, Any]:
    """The breast guest and host tables, uploaded once into ``experiment``."""
    uploaded = {}
    for table in (examples.GUEST_TABLE, examples.HOST_TABLE):
        uploaded[table["name"]] = session_client.upload(
            live_root / f"{table['name']}.csv",
            namespace=table["namespace"],
            table_name=table["name"],
            timeout=120,
        )
    return uploaded


@pytest.fixture(scope="session")
def hetero_lr_job(session_client: FlowClient, breast_tables: dict[str, Any]) -> dict[str, Any]:
    """FATE's canonical hetero-LR job on breast, run to success once: submit's answer."""
    job = session_client.submit(examples.hetero_lr_job(), wait=True, timeout=300)
    assert job["status"] == "success", job
    return job
