"""nbval runs every notebook here against one real fate-nb server that the session starts.

Fixtures never reach nbval's cells, so run hooks own the server. It starts just before the
first notebook's kernel does (so a run of ``tests/`` alone never starts it, and the tests that
run before the notebooks never see it); ``FATE_NB_URL`` and ``FATE_NB_TOKEN`` in
``os.environ`` name it while it runs, and every kernel inherits them. The notebooks share it,
each uploading what it needs with ``drop=True``. It stops after the last notebook, and the
variables get their old values back. Its folder, with the server's log, is kept when a
notebook failed.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
from execute import fresh_server


class NotebookServer:
    """The one server of the notebooks' run: started on demand, stopped once."""

    def __init__(self) -> None:
        self.stack: ExitStack | None = None
        self.workdir: Path | None = None
        self.failed = False

    def start(self) -> None:
        """Start the server and point the environment at it, unless it runs already."""
        if self.stack is not None:
            return
        self.workdir = Path(tempfile.mkdtemp(prefix="fate-nb-nbval-"))
        stack = ExitStack()
        stack.enter_context(fresh_server(self.workdir))
        self.stack = stack

    def stop(self) -> None:
        """Stop the server; remove its folder unless a notebook failed."""
        if self.stack is None:
            return
        self.stack.close()
        self.stack = None
        if self.workdir is not None and not self.failed:
            shutil.rmtree(self.workdir, ignore_errors=True)


SERVER = NotebookServer()


def pytest_configure(config: pytest.Config) -> None:
    """Read the sanitiser file relative to the project, wherever pytest was started from."""
    sanitize = config.getoption("nbval_sanitize_with", None)
    if sanitize and not Path(sanitize).is_absolute() and not Path(sanitize).exists():
        config.option.nbval_sanitize_with = str(config.rootpath / sanitize)
    config.add_cleanup(SERVER.stop)


def _is_notebook(item: pytest.Item | None) -> bool:
    return item is not None and item.path.suffix == ".ipynb"


@pytest.hookimpl(tryfirst=True)  # before nbval's setup starts the notebook's kernel
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Start the server before the first notebook's first cell."""
    if _is_notebook(item):
        SERVER.start()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember a notebook's failure, to keep the server's log."""
    if report.failed and report.fspath.endswith(".ipynb"):
        SERVER.failed = True


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After a failed notebook, say where the server's log is."""
    if SERVER.failed and SERVER.workdir is not None:
        log = SERVER.workdir / "server.log"
        terminalreporter.write_line(f"the notebooks' fate-nb server kept its log in {log}")


@pytest.hookimpl(trylast=True)  # after nbval's teardown has shut the kernel down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the server after the last notebook (a later notebook would start a new one)."""
    if _is_notebook(item) and not _is_notebook(nextitem):
        SERVER.stop()
