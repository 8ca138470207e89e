"""JupyterLab started for the test, and a page of Debian's Chromium driven by Playwright.

Run by ``make test-browser`` only (the plain run ignores this folder): it needs Debian's
``chromium`` on PATH and the ``browser`` extra (``playwright``, ``jupyterlab``). Playwright's own
browser downloads are never used; ``executable_path`` points at Debian's binary.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from fate_nb.launch import ServerProcess, free_port

# First start of JupyterLab on two cores can take ~20 s; leave room.
LAB_STARTUP_TIMEOUT_S = 180.0
ARTIFACTS = Path(__file__).parent / "artifacts"
# JupyterLab's notification settings: no "Would you like to get notified about news?" toast.
QUIET_LAB = {"fetchNews": "false", "checkForUpdates": False}


# pytest-jupyter's autouse fixtures (loaded by tests/conftest.py) tend an in-process server this
# folder never starts; under Playwright's sync API they would close Playwright's running loop.
@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> None:
    """No asyncio loop per test: Playwright runs its own."""


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process ServerApp to clean up: JupyterLab runs in its own process."""


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and the browser console go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium; `make test-browser` installs it when missing."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "Debian's chromium is not on PATH: run `make test-browser` (apt-get installs it)"
        )
    return path


def start_lab(workdir: Path) -> ServerProcess:
    """`python -m jupyterlab` on a free port with a fresh token, its state all under workdir.

    The flags are the ones ``fate_nb.launch.start_server`` gives ``jupyter_server``; JupyterLab
    is the same server with the lab extension, so ``ServerProcess`` waits for and stops it.
    """
    root, home, log_path = workdir / "root", workdir / "fate_home", workdir / "lab.log"
    root.mkdir(parents=True, exist_ok=True)
    settings = workdir / "lab_settings"
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(json.dumps(QUIET_LAB))
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        # No news or update checks (the machine is offline), nothing to pop over the notebook.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    env = {
        **os.environ,
        "FATE_NB_HOME": str(home),
        "JUPYTER_RUNTIME_DIR": str(workdir / "jupyter_runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(workdir / "lab_workspaces"),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ServerProcess(process, f"http://127.0.0.1:{port}/", token, log_path)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A running JupyterLab with fate-nb's extension; stopped by its PID on the way out."""
    server = start_lab(tmp_path_factory.mktemp("lab"))
    try:
        server.wait_ready(timeout=LAB_STARTUP_TIMEOUT_S)
        yield server
    finally:
        server.stop()
        print(f"\nJupyterLab's log: {server.log_path}")


@pytest.fixture(scope="session")
def lab_root(lab: ServerProcess) -> Path:
    """The root directory JupyterLab serves."""
    return lab.log_path.parent / "root"


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    """Headless Chromium (Debian's binary) under Playwright."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page; its console messages are written to artifacts/<test>.console.log."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    try:
        yield page
    finally:
        (artifacts / f"{request.node.name}.console.log").write_text("\n".join(messages) + "\n")
        context.close()
