"""FATE-style identifiers: job ids, task ids."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime

_counter = itertools.count(1)
_lock = threading.Lock()


def new_job_id() -> str:
    """A job id as FATE makes them: local time to the microsecond and a process counter."""
    with _lock:
        return datetime.now().strftime("%Y%m%d%H%M%S%f") + str(next(_counter) % 100)


def task_id(job_id: str, component_name: str) -> str:
    """The id of a component's task, the same on every party."""
    return f"{job_id}_{component_name}"
