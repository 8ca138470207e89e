"""Blocking /v1 calls for tests that run the server as a separate process."""

from __future__ import annotations

import time
from typing import Any

import httpx

END_STATUSES = {"success", "failed", "canceled", "timeout"}


def post(client: httpx.Client, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST a JSON body to ``/v1/<path>`` and return FATE's envelope."""
    response = client.post(f"v1/{path}", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def wait(
    client: httpx.Client, job_id: str, statuses: set[str], limit_s: float = 120
) -> dict[str, Any]:
    """Poll a job until its status is one of ``statuses``; its job row."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        reply = post(client, "job/query", {"job_id": job_id})
        if reply["retcode"] == 0 and reply["data"][0]["f_status"] in statuses:
            return reply["data"][0]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {statuses}")


def upload(client: httpx.Client, file: str, table: dict[str, str]) -> None:
    """Upload a file of the server's root as ``table`` and wait for it."""
    reply = post(
        client,
        "data/upload",
        {
            "file": file,
            "head": 1,
            "partition": 4,
            "use_local_data": 0,
            "namespace": table["namespace"],
            "table_name": table["name"],
        },
    )
    assert wait(client, reply["jobId"], END_STATUSES)["f_status"] == "success"
