"""nbval runs every notebook here against one real fate-nb server that the session starts.

Fixtures never reach nbval's cells, so session hooks own the server: it starts once
collection has kept at least one notebook (and only then), before the first kernel starts;
``FATE_NB_URL`` and ``FATE_NB_TOKEN`` in ``os.environ`` name it, and every kernel inherits
them. The notebooks share it, each uploading what it needs with ``drop=True``. It stops when
pytest unconfigures; its folder, with the server's log, is kept when the session failed.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
from execute import fresh_server

from fate_nb.launch import ServerProcess

SERVER_KEY = pytest.StashKey[ServerProcess]()


def pytest_configure(config: pytest.Config) -> None:
    """Read the sanitiser file relative to the project, wherever pytest was started from."""
    sanitize = config.getoption("nbval_sanitize_with", None)
    if sanitize and not Path(sanitize).is_absolute() and not Path(sanitize).exists():
        config.option.nbval_sanitize_with = str(config.rootpath / sanitize)


@pytest.hookimpl(tryfirst=True)  # before the terminal reporter asks for the report line
def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the server if any notebook is to run."""
    config = session.config
    if config.option.collectonly or not any(item.path.suffix == ".ipynb" for item in session.items):
        return
    workdir = Path(tempfile.mkdtemp(prefix="fate-nb-nbval-"))
    stack = ExitStack()
    config.add_cleanup(lambda: _stop(stack, workdir, session))
    config.stash[SERVER_KEY] = stack.enter_context(fresh_server(workdir))


def _stop(stack: ExitStack, workdir: Path, session: pytest.Session) -> None:
    """Stop the server; remove its folder after a clean run, keep it (and its log) if not."""
    stack.close()
    if session.testsfailed == 0 and session.exitstatus == pytest.ExitCode.OK:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"the notebooks' fate-nb server kept its log in {workdir / 'server.log'}")


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    """Say which server the notebooks run against."""
    server = config.stash.get(SERVER_KEY, None)
    return None if server is None else f"notebooks run against fate-nb at {server.base_url}"
