"""Worker processes a previous server left behind: found by their recorded pids, then ended."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterable

import psutil

from fate_nb.flow.config import HOME_ENV, FlowConfig

log = logging.getLogger(__name__)

# Workers are forks of the fork server, or started by hand with the worker module.
WORKER_MODULES = ("fate_nb.flow.forkserver", "fate_nb.flow.worker")


def is_our_worker(pid: int, config: FlowConfig) -> bool:
    """Whether ``pid`` is a worker of this home: pids are reused, so check before a kill."""
    try:
        process = psutil.Process(pid)
        command = process.cmdline()
        home = process.environ().get(HOME_ENV)
    except (psutil.Error, OSError):
        return False
    return any(module in command for module in WORKER_MODULES) and home == str(config.home)


def kill_leftover_workers(config: FlowConfig, pids: Iterable[int]) -> list[int]:
    """Kill the process group of each pid that is still one of our workers; return those."""
    killed = []
    for pid in dict.fromkeys(pids):
        if pid == os.getpid() or not is_our_worker(pid, config):
            continue
        # Every worker leads a process group of its own (the scheduler starts it so).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
            killed.append(pid)
    return killed
