"""A Jupyter server with fate-nb as a child process: for the demo, benchmarks and tests."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerProcess:
    """A running `jupyter server`, its address, its token and its log file."""

    process: subprocess.Popen[bytes]
    base_url: str
    token: str
    log_path: Path

    @property
    def headers(self) -> dict[str, str]:
        """The header that authenticates a request."""
        return {"Authorization": f"token {self.token}"}

    def client(self, timeout: float = 60.0) -> httpx.Client:
        """An HTTP client for this server, token included."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=timeout)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Wait until the server answers ``/api/status``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter server exited with code {self.process.returncode}; "
                    f"see {self.log_path}"
                )
            try:
                reply = httpx.get(f"{self.base_url}api/status", headers=self.headers, timeout=2)
                if reply.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"jupyter server did not answer within {timeout:.0f} s")

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM, so that fate-nb stops its jobs; SIGKILL if it does not end in time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(
    root: Path,
    home: Path,
    log_path: Path,
    *,
    extra_env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> ServerProcess:
    """Start `jupyter server` on a free port with a fresh token; fate-nb keeps state in home."""
    port, token = free_port(), secrets.token_hex(16)
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
        *extra_args,
    ]
    env = {
        **os.environ,
        "FATE_NB_HOME": str(home),
        "JUPYTER_RUNTIME_DIR": str(log_path.parent / "jupyter_runtime"),
        **(extra_env or {}),
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


@contextmanager
def running_server(root: Path, home: Path, log_path: Path) -> Iterator[ServerProcess]:
    """A started and ready server, stopped on the way out."""
    server = start_server(root, home, log_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
