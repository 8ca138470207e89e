"""Every /v1 route needs Jupyter's authentication; bad bodies get FATE's envelope."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flow_api import FlowApi

ROUTES = [
    "data/upload",
    "data/download",
    "data/upload/history",
    "job/query",
    "job/config",
    "job/update",
    "job/task/query",
    "job/list/task",
    "tracking/component/list",
    "version/get",
    "job/log/download",
    "table/table_info",
    "table/delete",
]


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """A small JSON limit, so the size check can be seen."""
    return {
        **jp_server_config,
        "FateApp": {**jp_server_config["FateApp"], "max_json_body_size": 1024},
    }


@pytest.mark.parametrize("route", ROUTES)
async def test_no_token_gets_403_and_no_data(flow_api: FlowApi, route: str) -> None:
    response = await flow_api.raw(route, b"{}", headers={"Authorization": ""})

    assert response.code == 403
    reply = json.loads(response.body)
    assert "data" not in reply
    assert reply["retcode"] != 0
    assert "Authorization: token" in reply["retmsg"]


@pytest.mark.parametrize("route", ROUTES)
async def test_wrong_token_gets_403(flow_api: FlowApi, route: str) -> None:
    response = await flow_api.raw(route, b"{}", headers={"Authorization": "token wrong"})

    assert response.code == 403


async def test_multipart_upload_without_token_is_refused_before_the_body(
    flow_api: FlowApi, fate_home: Any
) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        b"id\n1\n\r\n--B--\r\n"
    )
    response = await flow_api.raw(
        "data/upload",
        body,
        query="namespace=t&table_name=x",
        headers={"Authorization": "", "Content-Type": "multipart/form-data; boundary=B"},
    )

    assert response.code == 403
    assert list((fate_home / "incoming").iterdir()) == []


async def test_malformed_json_gets_retcode_101(flow_api: FlowApi) -> None:
    response = await flow_api.raw("job/query", b'{"job_id": ')

    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    reply = json.loads(response.body)
    assert reply["retcode"] == 101
    assert "not valid JSON" in reply["retmsg"]
    assert "Traceback" not in reply["retmsg"]


async def test_json_that_is_not_an_object_gets_retcode_101(flow_api: FlowApi) -> None:
    reply = json.loads((await flow_api.raw("table/table_info", b"[1, 2]")).body)

    assert reply["retcode"] == 101
    assert "must be a JSON object" in reply["retmsg"]


async def test_oversized_json_body_is_refused(flow_api: FlowApi) -> None:
    response = await flow_api.raw("job/query", json.dumps({"job_id": "x" * 4096}))

    reply = json.loads(response.body)
    assert reply["retcode"] == 101
    assert "at most 1024" in reply["retmsg"]


async def test_unknown_endpoint_answers_in_the_envelope(flow_api: FlowApi) -> None:
    response = await flow_api.raw("job/nonsense")

    assert response.code == 404
    reply = json.loads(response.body)
    assert reply["retcode"] == 101
    assert "no endpoint" in reply["retmsg"]


async def test_unknown_endpoint_needs_a_token_too(flow_api: FlowApi) -> None:
    response = await flow_api.raw("job/nonsense", headers={"Authorization": ""})

    assert response.code == 403
