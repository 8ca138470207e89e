"""Calls and checks shared by the /v1/tracking tests."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from flow_api import FlowApi
from job_confs import ARBITER, GUEST, HOST

PARTIES = {"guest": GUEST, "host": HOST, "arbiter": ARBITER}


async def run_job(api: FlowApi, job: dict[str, Any], guest: Path, host: Path) -> str:
    """Upload the breast tables, run ``job`` to success and return its id."""
    await api.upload_breast(guest, host)
    reply = await api.post("job/submit", job)
    assert reply["retcode"] == 0, reply
    row = await api.wait_job(reply["jobId"], limit_s=600)
    assert row["f_status"] == "success", row
    return str(reply["jobId"])


async def track(api: FlowApi, path: str, job_id: str, role: str | None = None, **body: Any) -> Any:
    """POST a tracking endpoint for one party (the initiator without ``role``)."""
    if role is not None:
        body = {"role": role, "party_id": PARTIES[role], **body}
    return await api.post(f"tracking/{path}", {"job_id": job_id, **body})


async def cpn(api: FlowApi, path: str, job_id: str, component: str, role: str, **body: Any) -> Any:
    """POST a component endpoint for one party."""
    return await track(api, f"component/{path}", job_id, role, component_name=component, **body)


def parse_cell(text: str) -> Any:
    """A CSV field of the download back into its JSON value: empty is null, text stays text."""
    if text == "":
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def read_archive(body: bytes) -> dict[str, bytes]:
    """The files of a tar.gz, by member name (hard links read as their target)."""
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {
            member.name: tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
        }


def assert_refused(reply: dict[str, Any], *words: str) -> None:
    """A clear refusal: retcode 101, no data, a message naming ``words``, no traceback."""
    assert reply["retcode"] == 101, reply
    assert "data" not in reply, reply
    assert "Traceback" not in reply["retmsg"], reply
    for word in words:
        assert word in reply["retmsg"], reply
