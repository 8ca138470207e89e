"""FATE's own client (fate-client from PyPI) in its virtual environment, driven from pytest.

The client cannot be imported here (its pins clash with ours), so each call runs in the peer
environment's Python: SDK code through ``driver.py``, the ``flow`` CLI as itself, with Jupyter's
token added by ``fate_nb.fate_client`` (an adapter for the SDK, a sitecustomize for the CLI).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fate_nb.fate_client import TOKEN_VARIABLE
from fate_nb.launch import ServerProcess

REPO = Path(__file__).resolve().parents[2]
PEER_DIR = REPO / ".peer"
DRIVER = Path(__file__).resolve().parent / "driver.py"
VERSIONS = ("1.5.3", "1.11.3")
# No fate-client call waits on its own (it sets no timeout); a hung call fails the test instead.
CALL_TIMEOUT_S = 300.0
JOB_TIMEOUT_S = 600.0


class PeerCallError(AssertionError):
    """A peer call that exited with an error: its command, exit code, stdout and stderr."""


def venv_of(version: str) -> Path:
    """The virtual environment `make test-peer` builds for a fate-client version."""
    return PEER_DIR / f"fate-client-{version}"


def json_from_output(stdout: str) -> Any:
    """The JSON document a CLI printed, without lines before it (1.11 prints a torch warning)."""
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("{", "[")):
            return json.loads("\n".join(lines[index:]))
    raise ValueError(f"no JSON in the client's output:\n{stdout}")


@dataclass(frozen=True)
class Peer:
    """One fate-client version, its environment, and the server it talks to."""

    version: str
    base_url: str
    token: str
    workdir: Path

    @property
    def venv(self) -> Path:
        """The peer's virtual environment."""
        return venv_of(self.version)

    @property
    def python(self) -> Path:
        """The peer environment's interpreter."""
        return self.venv / "bin" / "python"

    @property
    def is_15(self) -> bool:
        """fate-client 1.5: SDK methods take file paths; no DataTransform, job/log is a GET."""
        return self.version.startswith("1.5.")

    @property
    def ip(self) -> str:
        """The server's host, as the clients take it."""
        return urlsplit(self.base_url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        """The server's port."""
        return int(urlsplit(self.base_url).port or 80)

    @property
    def sitecustomize_dir(self) -> Path:
        """The folder with fate_nb.fate_client's sitecustomize.py, for the CLI's PYTHONPATH."""
        return self.workdir / "sitecustomize"

    def env(self) -> dict[str, str]:
        """The environment of a peer process: no proxies for the test server, no user site."""
        return {
            **os.environ,
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def run(self, code: str, timeout: float = CALL_TIMEOUT_S, **values: Any) -> Any:
        """Run Python code in the peer environment; what it assigns to ``result``, from JSON.

        The code sees ``values`` as names and driver.py's helpers: ``flow_client()`` (the
        peer's FlowClient for the server, token mounted), ``token``, ``is_15``, ``as_conf``.
        """
        with tempfile.NamedTemporaryFile(suffix=".json", dir=self.workdir) as result_file:
            request = {
                "code": textwrap.dedent(code),
                "values": values,
                "result_path": result_file.name,
                "repo": str(REPO),
                "version": self.version,
                "server": {"ip": self.ip, "port": self.port, "token": self.token},
            }
            done = subprocess.run(
                [str(self.python), str(DRIVER)],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self.env(),
                cwd=self.workdir,
            )
            if done.returncode != 0:
                raise PeerCallError(
                    f"fate-client {self.version} code exited with {done.returncode}\n"
                    f"--- code\n{textwrap.dedent(code)}\n--- stdout\n{done.stdout}\n"
                    f"--- stderr\n{done.stderr}"
                )
            return json.loads(Path(result_file.name).read_text())

    def sdk(self, code: str, timeout: float = CALL_TIMEOUT_S, **values: Any) -> Any:
        """Like ``run``, with ``client`` bound to the peer's FlowClient for the server."""
        return self.run("client = flow_client()\n" + textwrap.dedent(code), timeout, **values)

    def cli(self, *args: str, timeout: float = CALL_TIMEOUT_S, cwd: Path | None = None) -> Any:
        """Run ``flow ARGS`` (after ``flow init``) with the token recipe; its printed JSON."""
        done = self.cli_process(*args, timeout=timeout, cwd=cwd)
        try:
            return json_from_output(done.stdout)
        except ValueError as error:
            raise PeerCallError(f"flow {' '.join(args)}: {error}\n{done.stderr}") from None

    def cli_process(
        self, *args: str, timeout: float = CALL_TIMEOUT_S, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``flow ARGS`` with the sitecustomize recipe; fail on a non-zero exit."""
        env = {
            **self.env(),
            "PYTHONPATH": str(self.sitecustomize_dir),
            TOKEN_VARIABLE: self.token,
        }
        done = subprocess.run(
            [str(self.venv / "bin" / "flow"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd or self.workdir,
        )
        if done.returncode != 0:
            raise PeerCallError(
                f"flow {' '.join(args)} (fate-client {self.version}) exited with "
                f"{done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
            )
        return done


def namespace_of(peer: Peer) -> str:
    """Each version's tables in their own namespace, so the versions never share a table."""
    return "peer_" + peer.version.replace(".", "_")


def upload_conf(peer: Peer, file: Path, table: str, **extra: Any) -> dict[str, Any]:
    """An upload conf as FATE's docs write it, into the version's namespace."""
    return {
        "file": str(file),
        "head": 1,
        "partition": 2,
        "work_mode": 0,
        "namespace": namespace_of(peer),
        "table_name": table,
        **extra,
    }


def wait_job(server: ServerProcess, job_id: str, timeout: float = JOB_TIMEOUT_S) -> str:
    """Poll the server until the job ends; its final status."""
    deadline = time.monotonic() + timeout
    with server.client() as http:
        while time.monotonic() < deadline:
            rows = http.post("v1/job/query", json={"job_id": job_id}).json()["data"]
            statuses = {row["f_status"] for row in rows}
            if rows and statuses <= {"success", "failed", "canceled", "timeout"}:
                return "success" if statuses == {"success"} else ",".join(sorted(statuses))
            time.sleep(0.5)
    raise TimeoutError(f"job {job_id} did not end within {timeout:.0f} s")
