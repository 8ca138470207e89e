"""A small client of the /v1 API for tests, shaped like FATE's own clients' requests."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from tornado.httpclient import HTTPResponse

END_STATUSES = {"success", "failed", "canceled", "timeout"}


class FlowApi:
    """Calls /v1 endpoints the way FATE's clients do, and returns the parsed envelope."""

    def __init__(self, client: Any, base_url: str, auth: dict[str, str]) -> None:
        self.client = client
        self.base_url = base_url
        self.auth = auth

    async def raw(
        self,
        path: str,
        body: bytes | str | None = b"{}",
        *,
        method: str = "POST",
        query: str = "",
        headers: dict[str, str] | None = None,
    ) -> HTTPResponse:
        """Send a request and return the HTTP response, whatever its status."""
        url = f"{self.base_url}v1/{path}" + (f"?{query}" if query else "")
        return await self.client.fetch(
            url,
            method=method,
            body=body,
            headers={**self.auth, **(headers or {})},
            raise_error=False,
            request_timeout=120,
            allow_nonstandard_methods=True,
        )

    async def post(self, path: str, payload: Any = None, **kwargs: Any) -> dict[str, Any]:
        """POST a JSON body; the envelope must come back with HTTP 200."""
        response = await self.raw(path, json.dumps(payload or {}), **kwargs)
        assert response.code == 200, response.body
        return json.loads(response.body)

    async def upload_multipart(
        self, path: Path, config: dict[str, Any], *, json_query: bool = True
    ) -> dict[str, Any]:
        """Send the file as one multipart part named file, the config in the query string."""
        request = httpx.Request(
            "POST",
            "http://unused/",
            files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
        )
        if json_query:
            query = quote(json.dumps(config), safe=":,/")
        else:
            query = "&".join(f"{key}={quote(str(value))}" for key, value in config.items())
        response = await self.raw(
            "data/upload",
            request.read(),
            query=query,
            headers={"Content-Type": request.headers["Content-Type"]},
        )
        assert response.code == 200, response.body
        return json.loads(response.body)

    async def wait_job(self, job_id: str, limit_s: float = 120) -> dict[str, Any]:
        """Poll /v1/job/query until the job ends; return its row."""
        for _ in range(int(limit_s / 0.05)):
            reply = await self.post("job/query", {"job_id": job_id})
            assert reply["retcode"] == 0, reply
            row = reply["data"][0]
            if row["f_status"] in END_STATUSES:
                return row
            await asyncio.sleep(0.05)
        raise AssertionError(f"job {job_id} did not end")

    async def upload(self, **config: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Upload a server-side file and wait for its job; return the reply and the job row."""
        config.setdefault("use_local_data", 0)
        reply = await self.post("data/upload", config)
        assert reply["retcode"] == 0, reply
        return reply, await self.wait_job(reply["jobId"])

    async def upload_breast(self, guest: Path, host: Path) -> None:
        """Upload FATE's breast tables under the names of FATE's examples, and wait for them."""
        for path, name in ((guest, "breast_hetero_guest"), (host, "breast_hetero_host")):
            _, row = await self.upload(
                file=path.name, head=1, partition=4, namespace="experiment", table_name=name
            )
            assert row["f_status"] == "success", row
