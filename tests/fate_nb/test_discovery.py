"""How FlowClient finds its server: arguments, environment, the runtime files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from fate_nb.client import FlowClient
from fate_nb.exceptions import InvalidArgument, ServerNotFound
from fate_nb.launch import ServerProcess

VARIABLES = ("FATE_NB_URL", "FATE_NB_TOKEN", "JUPYTER_TOKEN", "JPY_PARENT_PID", "JPY_SESSION_NAME")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No discovery variable set."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def runtime_dir(server: ServerProcess) -> Path:
    """Where the live server wrote its jpserver-<pid>.json."""
    return server.log_path.parent / "jupyter_runtime"


def test_environment_variables_name_the_server(
    clean_env: pytest.MonkeyPatch, live_server: ServerProcess, tmp_path: Path
) -> None:
    """FATE_NB_URL and FATE_NB_TOKEN win over the runtime files (here: none)."""
    clean_env.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    clean_env.setenv("FATE_NB_URL", live_server.base_url.rstrip("/"))
    clean_env.setenv("FATE_NB_TOKEN", live_server.token)

    with FlowClient() as client:
        assert client.base_url == live_server.base_url
        assert client.list_jobs().shape[1] > 0


def test_a_url_without_a_token_finds_the_token_in_the_runtime_files(
    clean_env: pytest.MonkeyPatch, live_server: ServerProcess
) -> None:
    """The running server at that URL gives its token, before the environment's (a stale one)."""
    clean_env.setenv("JUPYTER_RUNTIME_DIR", str(runtime_dir(live_server)))
    clean_env.setenv("FATE_NB_TOKEN", "a-stale-token")
    as_localhost = live_server.base_url.replace("127.0.0.1", "localhost").rstrip("/")

    with FlowClient(as_localhost) as client:
        assert client.token == live_server.token
        assert client.list_jobs().shape[1] > 0

    # A URL as Jupyter prints it carries its token; another server's URL falls back to the env.
    with FlowClient(f"{live_server.base_url}?token={live_server.token}") as client:
        assert client.base_url == live_server.base_url and client.token == live_server.token
    with FlowClient("http://127.0.0.1:9/") as client:
        assert client.token == "a-stale-token"


def test_the_kernel_finds_the_server_that_started_it(
    clean_env: pytest.MonkeyPatch, live_server: ServerProcess, tmp_path: Path
) -> None:
    """JPY_PARENT_PID, which Jupyter gives its kernels, picks that server's file."""
    other = tmp_path / "runtime"
    other.mkdir()
    for path in runtime_dir(live_server).glob("jpserver-*.json"):
        (other / path.name).write_text(path.read_text())
    _fake_server(other, root=tmp_path / "elsewhere", port=1)
    clean_env.setenv("JUPYTER_RUNTIME_DIR", str(other))
    clean_env.setenv("JPY_PARENT_PID", str(live_server.process.pid))

    with FlowClient() as client:
        assert client.base_url == live_server.base_url
        assert client.token == live_server.token
        assert client.list_jobs().shape[1] > 0


def test_the_server_whose_root_holds_the_notebook_wins(
    clean_env: pytest.MonkeyPatch, live_server: ServerProcess, tmp_path: Path
) -> None:
    """Several servers: the one whose root contains the notebook, then none fits: an error."""
    clean_env.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    _fake_server(tmp_path, root=tmp_path / "a", port=1)
    _fake_server(tmp_path, root=tmp_path / "a" / "b", port=2, name="jpserver-other.json")

    notebook = tmp_path / "a" / "b" / "c" / "work.ipynb"
    clean_env.setenv("JPY_SESSION_NAME", str(notebook))
    with FlowClient() as client:
        assert client.base_url == "http://127.0.0.1:2/"

    with FlowClient(notebook_path=str(tmp_path / "a" / "x.ipynb")) as client:
        assert client.base_url == "http://127.0.0.1:1/"

    with pytest.raises(ServerNotFound, match="2 Jupyter servers are running"):
        FlowClient(notebook_path="/nowhere/x.ipynb")


def test_no_server_at_all_says_how_to_give_one(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An empty runtime folder: the error names it and the variables to set."""
    clean_env.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(ServerNotFound, match="FATE_NB_URL"):
        FlowClient()


def _fake_server(folder: Path, *, root: Path, port: int, name: str | None = None) -> None:
    """A server info file as jupyter_server writes it, for a process that is alive (us)."""
    info = {
        "url": f"http://127.0.0.1:{port}/",
        "token": f"token-{port}",
        "root_dir": str(root),
        "pid": os.getpid(),
        "base_url": "/",
        "port": port,
    }
    (folder / (name or f"jpserver-{port}.json")).write_text(json.dumps(info))


def test_a_page_url_copied_from_the_browser_reaches_the_server(
    clean_env: pytest.MonkeyPatch, live_server: ServerProcess, tmp_path: Path
) -> None:
    """JupyterLab's address with its token (``.../lab?token=...``) names the server's base URL."""
    clean_env.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    page = f"{live_server.base_url}lab/tree/work/x.ipynb?token={live_server.token}"

    with FlowClient(page) as client:
        assert client.base_url == live_server.base_url
        assert isinstance(client.list_jobs(limit=1), pd.DataFrame)


def test_a_url_that_is_not_text_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    """FlowClient(5) says what url must be, instead of failing inside urllib."""
    with pytest.raises(InvalidArgument, match="url must be the server's address as text"):
        FlowClient(5, "x")  # type: ignore[arg-type]
