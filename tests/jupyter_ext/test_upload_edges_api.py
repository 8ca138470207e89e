"""Upload and download requests found to go wrong in review, each answered clearly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flow_api import FlowApi


@pytest.fixture
def fate_home(jp_root_dir: Path) -> Path:
    """A home folder inside the server's root, as when Jupyter starts in the user's home."""
    return jp_root_dir / "fate_home"


async def refused(flow_api: FlowApi, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    reply = await flow_api.post(path, payload)
    assert reply["retcode"] != 0, reply
    assert "jobId" not in reply
    return reply


async def test_upload_of_the_home_database_is_refused(flow_api: FlowApi) -> None:
    reply = await refused(
        flow_api,
        "data/upload",
        {"file": "fate_home/fate_nb.db", "namespace": "t", "table_name": "db", "use_local_data": 0},
    )

    assert reply["retcode"] == 101
    assert "fate-nb's own home folder" in reply["retmsg"]


async def test_download_over_the_home_database_is_refused(
    flow_api: FlowApi, breast_guest: Path, fate_home: Path
) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="a"
    )
    before = (fate_home / "fate_nb.db").read_bytes()[:16]

    reply = await refused(
        flow_api,
        "data/download",
        {"namespace": "t", "table_name": "a", "output_path": "fate_home/fate_nb.db"},
    )

    assert reply["retcode"] == 101
    assert "fate-nb's own home folder" in reply["retmsg"]
    assert (fate_home / "fate_nb.db").read_bytes()[:16] == before == b"SQLite format 3\x00"


async def test_hidden_files_are_refused(flow_api: FlowApi, jp_root_dir: Path) -> None:
    (jp_root_dir / ".secret").mkdir()
    (jp_root_dir / ".secret" / "data.csv").write_text("id,x\n1,2\n")

    reply = await refused(
        flow_api,
        "data/upload",
        {"file": ".secret/data.csv", "namespace": "t", "table_name": "h", "use_local_data": 0},
    )

    assert "is hidden" in reply["retmsg"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,caf\xe9\n1,2\n", "is not UTF-8 text"),
        ("id,y\n1,2\n".encode("utf-16"), "holds NUL bytes"),
        (b"id,y\r1,2\r", "holds a carriage return"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
    ],
)
async def test_files_that_are_not_utf8_text_are_refused(
    flow_api: FlowApi, jp_root_dir: Path, content: bytes, message: str
) -> None:
    (jp_root_dir / "odd.csv").write_bytes(content)

    reply = await refused(
        flow_api,
        "data/upload",
        {"file": "odd.csv", "namespace": "t", "table_name": "odd", "use_local_data": 0},
    )

    assert reply["retcode"] == 102
    assert message in reply["retmsg"]


async def test_row_longer_than_a_parser_block_is_stored(
    flow_api: FlowApi, jp_root_dir: Path
) -> None:
    (jp_root_dir / "long.csv").write_text(f"id,text\n1,{'a' * 3_000_000}\n2,b\n")

    _, row = await flow_api.upload(
        file="long.csv", head=1, partition=1, namespace="t", table_name="long"
    )

    assert row["f_status"] == "success", row["f_error"]


async def test_empty_multipart_file_is_a_data_error(flow_api: FlowApi, jp_root_dir: Path) -> None:
    (jp_root_dir / "empty.csv").write_bytes(b"")

    reply = await flow_api.upload_multipart(
        jp_root_dir / "empty.csv", {"namespace": "t", "table_name": "e"}
    )

    assert reply["retcode"] == 102
    assert "is empty" in reply["retmsg"]


async def test_multipart_config_is_checked_before_the_body(
    flow_api: FlowApi, breast_guest: Path, fate_home: Path
) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="x"
    )

    reply = await flow_api.upload_multipart(breast_guest, {"namespace": "t", "table_name": "x"})

    assert reply["retcode"] == 100
    assert "drop=1" in reply["retmsg"]
    assert list((fate_home / "incoming").iterdir()) == []


async def test_token_in_the_query_next_to_the_json_config(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    config = quote(json.dumps({"namespace": "t", "table_name": "q", "head": 1}), safe=":,/")
    token = flow_api.auth["Authorization"].split()[-1]
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="g.csv"\r\n\r\n'
        + breast_guest.read_bytes()
        + b"\r\n--B--\r\n"
    )

    response = await flow_api.raw(
        "data/upload",
        body,
        query=f"{config}&token={token}",
        headers={"Authorization": "", "Content-Type": "Multipart/Form-Data; Boundary=B"},
    )

    reply = json.loads(response.body)
    assert reply["retcode"] == 0, reply
    assert (await flow_api.wait_job(reply["jobId"]))["f_status"] == "success"


async def test_drop_accepts_true(flow_api: FlowApi, breast_guest: Path) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="d"
    )

    _, row = await flow_api.upload(
        file=breast_guest.name, head=1, partition=2, drop="true", namespace="t", table_name="d"
    )

    assert row["f_status"] == "success"


@pytest.mark.parametrize(
    ("path", "payload", "message"),
    [
        ("data/upload/history", {"limit": 10**20}, "limit must be"),
        ("job/query", {"job_id": ["a"]}, "job_id must be a string or a number"),
        ("table/table_info", {"namespace": "t", "table_name": "   "}, "table_name is blank"),
        (
            "data/download",
            {"namespace": "t", "table_name": "z", "output_path": "x" * 300},
            "too long",
        ),
    ],
)
async def test_odd_arguments_get_parameter_errors(
    flow_api: FlowApi, path: str, payload: dict[str, Any], message: str
) -> None:
    reply = await refused(flow_api, path, payload)

    assert reply["retcode"] == 101
    assert message in reply["retmsg"]


async def test_download_through_a_file_is_refused(flow_api: FlowApi, breast_guest: Path) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="f"
    )

    reply = await refused(
        flow_api,
        "data/download",
        {"namespace": "t", "table_name": "f", "output_path": f"{breast_guest.name}/x.csv"},
    )

    assert "a file" in reply["retmsg"]


async def test_download_keeps_integer_columns_with_gaps_as_integers(
    flow_api: FlowApi, jp_root_dir: Path
) -> None:
    (jp_root_dir / "gaps.csv").write_text("id,n\n1,5\n2,\n3,7\n4,8\n")
    await flow_api.upload(file="gaps.csv", head=1, partition=2, namespace="t", table_name="g")

    reply = await flow_api.post(
        "data/download", {"namespace": "t", "table_name": "g", "output_path": "gaps_out.csv"}
    )
    await flow_api.wait_job(reply["jobId"])

    lines = sorted((jp_root_dir / "gaps_out.csv").read_text().splitlines())
    assert lines == ["1,5", "2,", "3,7", "4,8"]


async def test_quoted_value_over_a_line_end_fails_instead_of_merging_rows(
    flow_api: FlowApi, jp_root_dir: Path
) -> None:
    (jp_root_dir / "merge.csv").write_text('id,a,b\n1,"x,y\n2,3,4\n5,6",z\n7,8,9\n')

    _, row = await flow_api.upload(
        file="merge.csv", head=1, partition=1, namespace="t", table_name="merge"
    )

    assert row["f_status"] == "failed"
    assert "quoted value that runs over a line end" in row["f_error"]
    info = await flow_api.post("table/table_info", {"namespace": "t", "table_name": "merge"})
    assert info["data"]["count"] == 0


async def test_non_ascii_delimiter_is_refused_at_submit(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    reply = await refused(
        flow_api,
        "data/upload",
        {
            "file": breast_guest.name,
            "namespace": "t",
            "table_name": "u",
            "id_delimiter": "；",
            "use_local_data": 0,
        },
    )

    assert reply["retcode"] == 101
    assert "one ASCII character" in reply["retmsg"]


async def test_file_sent_as_a_text_field_is_explained(flow_api: FlowApi) -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="file"\r\n\r\nid,x\n1,2\n\r\n--B--\r\n'

    response = await flow_api.raw(
        "data/upload",
        body,
        query="namespace=t&table_name=field",
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )

    reply = json.loads(response.body)
    assert reply["retcode"] == 101
    assert "came as a text field" in reply["retmsg"]


async def test_huge_query_numbers_are_parameter_errors(flow_api: FlowApi) -> None:
    reply = await refused(flow_api, "job/query", {"progress": 10**30})

    assert reply["retcode"] == 101
    assert "progress must be between" in reply["retmsg"]
