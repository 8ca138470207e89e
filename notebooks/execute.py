"""``make notebooks``: re-execute the tutorials against a fresh fate-nb server, save them in place.

Run with ``python notebooks/execute.py [NOTEBOOK ...]`` (every ``notebooks/*.ipynb`` by
default, in name order). It starts ``jupyter server`` with fate-nb in a temporary folder,
points ``FATE_NB_URL`` and ``FATE_NB_TOKEN`` at it (each kernel inherits them, and its
``FlowClient()`` finds the server by them), runs each notebook top to bottom with nbclient and
saves it with its outputs and widget state, so that saved outputs are always those of a real
run. A notebook that fails is not saved; the exit code is then 1. ``notebooks/conftest.py``
starts the server for nbval the same way, with ``fresh_server``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from fate_nb.launch import ServerProcess, running_server

NOTEBOOKS_DIR = Path(__file__).resolve().parent
CELL_TIMEOUT_S = 600
ENV_KEYS = ("FATE_NB_URL", "FATE_NB_TOKEN")


@contextmanager
def fresh_server(workdir: Path) -> Iterator[ServerProcess]:
    """A new server with its root and fate-nb home in ``workdir``, in the environment meanwhile.

    While it runs, ``FATE_NB_URL`` and ``FATE_NB_TOKEN`` in ``os.environ`` name it, so every
    kernel started meanwhile finds it; on the way out they get their old values back.
    """
    root = workdir / "root"
    root.mkdir(parents=True, exist_ok=True)
    with running_server(root, workdir / "home", workdir / "server.log") as server:
        saved = {key: os.environ.get(key) for key in ENV_KEYS}
        os.environ["FATE_NB_URL"], os.environ["FATE_NB_TOKEN"] = server.base_url, server.token
        try:
            yield server
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def execute(
    path: Path, timeout: float = CELL_TIMEOUT_S, kernel_log: IO[bytes] | None = None
) -> None:
    """Run one notebook top to bottom in a new python3 kernel; save it with its outputs.

    The kernel's own stderr (ipykernel's warnings, a crash) goes to ``kernel_log`` if given.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        # No per-cell timestamps in the saved file: they would change on every run.
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute(**({} if kernel_log is None else {"stderr": kernel_log}))
    nbformat.write(notebook, path)


def run(paths: Sequence[Path], timeout: float = CELL_TIMEOUT_S) -> int:
    """Execute and save each notebook against one fresh server; the exit code."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    workdir = Path(tempfile.mkdtemp(prefix="fate-nb-notebooks-"))
    failed: list[str] = []
    started = time.monotonic()
    kernel_log_path = workdir / "kernels.log"
    with fresh_server(workdir) as server, kernel_log_path.open("wb") as kernel_log:
        print(f"fate-nb server {server.base_url} (log {server.log_path})", flush=True)
        for path in paths:
            began = time.monotonic()
            try:
                execute(path, timeout, kernel_log)
            except (CellExecutionError, CellTimeoutError) as error:
                failed.append(path.name)
                print(f"FAILED {path.name} after {time.monotonic() - began:.1f} s (not saved):")
                print(error, flush=True)
            else:
                print(f"{time.monotonic() - began:7.1f} s  {path.name}", flush=True)
    print(f"{time.monotonic() - started:7.1f} s  in all, {len(paths)} notebooks")
    if failed:
        print(f"failed: {', '.join(failed)}; the server's and kernels' logs stay in {workdir}")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, execute the notebooks, exit with the code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="the notebooks to run, in this order (default: notebooks/*.ipynb by name)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=CELL_TIMEOUT_S,
        help=f"seconds one cell may run (default {CELL_TIMEOUT_S})",
    )
    options = parser.parse_args(argv)
    paths = [path.resolve() for path in options.notebooks] or sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    sys.exit(run(paths, options.timeout))


if __name__ == "__main__":
    main()
