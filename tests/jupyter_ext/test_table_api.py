"""/v1/table/table_info and /v1/table/delete on a real server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from flow_api import FlowApi


async def test_missing_table_answers_count_zero(flow_api: FlowApi) -> None:
    reply = await flow_api.post("table/table_info", {"namespace": "no", "table_name": "such"})

    assert reply == {
        "retcode": 0,
        "retmsg": "success",
        "data": {
            "table_name": "such",
            "namespace": "no",
            "count": 0,
            "partition": None,
            "schema": {},
        },
    }


async def test_table_info_accepts_fate_15_name(flow_api: FlowApi, breast_guest: Path) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=2, namespace="t", table_name="n"
    )

    reply = await flow_api.post("table/table_info", {"namespace": "t", "name": "n"})

    assert reply["data"]["count"] == 569


async def test_table_info_requires_names(flow_api: FlowApi) -> None:
    reply = await flow_api.post("table/table_info", {"namespace": "t"})

    assert reply["retcode"] == 101
    assert reply["retmsg"] == "missing required arguments: table_name"


async def test_delete_removes_the_table_and_fails_the_second_time(
    flow_api: FlowApi, breast_guest: Path, fate_home: Path
) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=2, namespace="t", table_name="x"
    )
    assert len(list((fate_home / "tables").iterdir())) == 1

    first = await flow_api.post("table/delete", {"namespace": "t", "table_name": "x"})
    second = await flow_api.post("table/delete", {"namespace": "t", "table_name": "x"})

    assert first == {
        "retcode": 0,
        "retmsg": "success",
        "data": [{"table_name": "x", "namespace": "t"}],
    }
    assert second["retcode"] == 101
    assert "does not exist" in second["retmsg"]
    assert list((fate_home / "tables").iterdir()) == []
    info = await flow_api.post("table/table_info", {"namespace": "t", "table_name": "x"})
    assert info["data"]["count"] == 0


async def test_deleted_table_can_be_uploaded_again_without_drop(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="y"
    )
    await flow_api.post("table/delete", {"namespace": "t", "table_name": "y"})

    _, row = await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="y"
    )

    assert row["f_status"] == "success"


async def test_store_failure_answers_without_traceback(flow_api: FlowApi, fate_home: Path) -> None:
    with sqlite3.connect(fate_home / "fate_nb.db") as db:
        db.execute("DROP TABLE t_data_table")

    response = await flow_api.raw(
        "table/table_info", json.dumps({"namespace": "t", "table_name": "x"})
    )

    reply = json.loads(response.body)
    assert response.code == 200
    assert reply["retcode"] == 100
    assert reply["retmsg"] == "internal error (OperationalError); the server log has the details"
    assert "Traceback" not in response.body.decode()


async def test_preview_answers_the_first_rows_and_refuses_bad_limits(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    """fate-nb's /v1/table/preview: rows of JSON values, header and total; clear refusals."""
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=2, namespace="t", table_name="p"
    )

    reply = await flow_api.post("table/preview", {"namespace": "t", "table_name": "p", "limit": 3})
    assert reply["retcode"] == 0
    assert len(reply["data"]) == 3
    assert reply["meta"]["header"][:3] == ["id", "y", "x0"]
    assert reply["meta"]["total"] == 569
    assert isinstance(reply["data"][0][0], str) and isinstance(reply["data"][0][2], float)

    for limit in (0, -1, "many", 10_001):
        refused = await flow_api.post(
            "table/preview", {"namespace": "t", "table_name": "p", "limit": limit}
        )
        assert refused["retcode"] == 101 and "limit" in refused["retmsg"], refused
    missing = await flow_api.post("table/preview", {"namespace": "t", "table_name": "nope"})
    assert missing["retcode"] == 101 and "does not exist" in missing["retmsg"]
