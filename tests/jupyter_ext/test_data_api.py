"""/v1/data/upload, /v1/data/download and /v1/data/upload/history on a real server."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from flow_api import FlowApi

BREAST_HEADER = "y,x0,x1,x2,x3,x4,x5,x6,x7,x8,x9"


def write(root: Path, name: str, content: bytes) -> Path:
    path = root / name
    path.write_bytes(content)
    return path


async def table_info(flow_api: FlowApi, table_name: str, namespace: str = "t") -> dict:
    reply = await flow_api.post(
        "table/table_info", {"namespace": namespace, "table_name": table_name}
    )
    assert reply["retcode"] == 0, reply
    return reply["data"]


async def history_of(flow_api: FlowApi, job_id: str) -> dict:
    reply = await flow_api.post("data/upload/history", {"job_id": job_id})
    assert reply["retcode"] == 0, reply
    return reply["data"][0][job_id]


async def test_upload_server_path_stores_breast(flow_api: FlowApi, breast_guest: Path) -> None:
    reply, row = await flow_api.upload(
        file=breast_guest.name,
        head=1,
        partition=4,
        namespace="experiment",
        table_name="breast_guest",
        work_mode=0,
    )

    assert reply["retmsg"] == "success"
    assert reply["jobId"] == reply["data"]["job_id"]
    assert reply["data"]["namespace"] == "experiment"
    assert reply["data"]["table_name"] == "breast_guest"
    for key in ("board_url", "job_dsl_path", "job_runtime_conf_path", "logs_directory"):
        assert reply["data"][key]
    assert row["f_status"] == "success"
    assert row["f_progress"] == 100

    info = await table_info(flow_api, "breast_guest", "experiment")
    assert info == {
        "table_name": "breast_guest",
        "namespace": "experiment",
        "count": 569,
        "partition": 4,
        "schema": {"header": BREAST_HEADER, "sid": "id"},
    }


async def test_upload_accepts_an_absolute_path_inside_the_root(
    flow_api: FlowApi, breast_guest: Path
) -> None:
    _, row = await flow_api.upload(
        file=str(breast_guest), head=1, partition=1, namespace="t", table_name="abs"
    )

    assert row["f_status"] == "success"
    assert (await table_info(flow_api, "abs"))["count"] == 569


async def test_upload_multipart_with_json_query_as_fate_client_sends_it(
    flow_api: FlowApi, breast_host: Path, tmp_path: Path
) -> None:
    config = {
        "file": "/somewhere/on/the/client/breast_hetero_host.csv",
        "head": 1,
        "partition": 8,
        "namespace": "experiment",
        "table_name": "breast_host",
        "work_mode": 0,
        "drop": 2,
        "verbose": 1,
    }
    reply = await flow_api.upload_multipart(breast_host, config)

    assert reply["retcode"] == 0, reply
    row = await flow_api.wait_job(reply["jobId"])
    assert row["f_status"] == "success"
    info = await table_info(flow_api, "breast_host", "experiment")
    assert info["count"] == 569
    assert info["partition"] == 8
    assert info["schema"]["header"] == ",".join(f"x{i}" for i in range(20))


async def test_upload_multipart_with_key_value_query(flow_api: FlowApi, breast_guest: Path) -> None:
    config = {"head": "1", "partition": "2", "namespace": "t", "table_name": "kv"}
    reply = await flow_api.upload_multipart(breast_guest, config, json_query=False)

    assert reply["retcode"] == 0, reply
    assert (await flow_api.wait_job(reply["jobId"]))["f_status"] == "success"
    assert (await table_info(flow_api, "kv"))["count"] == 569


async def test_multipart_copy_is_removed_after_the_upload(
    flow_api: FlowApi, breast_guest: Path, fate_home: Path
) -> None:
    config = {"head": 1, "partition": 1, "namespace": "t", "table_name": "cleanup"}
    reply = await flow_api.upload_multipart(breast_guest, config)
    await flow_api.wait_job(reply["jobId"])

    leftovers = list((fate_home / "jobs").rglob("*.csv")) + list((fate_home / "incoming").iterdir())
    assert leftovers == []


async def test_multipart_without_file_part_is_refused(flow_api: FlowApi) -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--B--\r\n'
    response = await flow_api.raw(
        "data/upload",
        body,
        query="namespace=t&table_name=nofile",
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )

    reply = response.body.decode()
    assert response.code == 200
    assert '"retcode": 101' in reply
    assert "no complete part named 'file'" in reply


async def test_crlf_file_without_final_newline_then_blank_line_keeps_all_rows(
    flow_api: FlowApi, jp_root_dir: Path
) -> None:
    lines = ["id,y,x0"] + [f"{i},{i % 2},{i / 10}" for i in range(1, 11)]
    path = write(jp_root_dir, "crlf.csv", ("\r\n".join(lines) + "\r\n\r\n").encode())
    path.write_bytes(path.read_bytes().rstrip(b"\r\n") + b"\r\n")

    _, row = await flow_api.upload(
        file="crlf.csv", head=1, partition=2, namespace="t", table_name="crlf"
    )

    assert row["f_status"] == "success"
    info = await table_info(flow_api, "crlf")
    assert info["count"] == 10
    assert info["schema"] == {"header": "y,x0", "sid": "id"}
    upload_info = (await history_of(flow_api, row["f_job_id"]))["upload_info"]
    assert upload_info["upload_count"] == 10
    assert upload_info["actual_count"] == 10


async def test_last_line_without_newline_followed_by_blank_line(
    flow_api: FlowApi, jp_root_dir: Path
) -> None:
    rows = "\r\n".join(f"{i},{i % 2},{i}.5" for i in range(1, 11))
    write(jp_root_dir, "tail.csv", b"id,y,x0\r\n" + rows.encode() + b"\r\n\r\n")

    _, row = await flow_api.upload(
        file="tail.csv", head=1, partition=1, namespace="t", table_name="tail"
    )

    assert row["f_status"] == "success"
    assert (await table_info(flow_api, "tail"))["count"] == 10


async def test_duplicate_ids_are_reported_not_merged(flow_api: FlowApi, jp_root_dir: Path) -> None:
    write(jp_root_dir, "dup.csv", b"id,y,x0\n1,0,0.1\n2,1,0.2\n2,0,0.3\n3,1,0.4\n")

    _, row = await flow_api.upload(
        file="dup.csv", head=1, partition=2, namespace="t", table_name="dup"
    )

    assert row["f_status"] == "success"
    record = await history_of(flow_api, row["f_job_id"])
    assert record["upload_info"]["upload_count"] == 4
    assert record["upload_info"]["actual_count"] == 3
    assert record["upload_info"]["rejected_count"] == 1
    assert "duplicate id" in record["summary"]["message"]
    assert "'2'" in record["summary"]["message"]
    assert (await table_info(flow_api, "dup"))["count"] == 3


async def test_header_only_file_fails_clearly(flow_api: FlowApi, jp_root_dir: Path) -> None:
    write(jp_root_dir, "header_only.csv", b"id,y,x0\n")

    reply = await flow_api.post(
        "data/upload",
        {
            "file": "header_only.csv",
            "head": 1,
            "partition": 1,
            "namespace": "t",
            "table_name": "empty",
            "use_local_data": 0,
        },
    )

    assert reply["retcode"] == 102
    assert "no data rows" in reply["retmsg"]
    assert "jobId" not in reply
    assert (await table_info(flow_api, "empty"))["count"] == 0


async def test_empty_file_fails_clearly(flow_api: FlowApi, jp_root_dir: Path) -> None:
    write(jp_root_dir, "nothing.csv", b"")

    reply = await flow_api.post(
        "data/upload",
        {"file": "nothing.csv", "namespace": "t", "table_name": "nothing", "use_local_data": 0},
    )

    assert reply["retcode"] == 102
    assert "is empty" in reply["retmsg"]


async def test_tab_separated_file(flow_api: FlowApi, jp_root_dir: Path) -> None:
    write(jp_root_dir, "tabs.tsv", b"id\ty\tx0\n1\t0\t0.5\n2\t1\t0.25\n")

    _, row = await flow_api.upload(
        file="tabs.tsv", head=1, partition=1, namespace="t", table_name="tabs"
    )

    assert row["f_status"] == "success"
    info = await table_info(flow_api, "tabs")
    assert info["count"] == 2
    assert info["schema"] == {"header": "y,x0", "sid": "id"}


async def test_id_delimiter_separated_file(flow_api: FlowApi, jp_root_dir: Path) -> None:
    write(jp_root_dir, "semi.csv", b"id;y;x0\n1;0;0,5\n2;1;0,25\n")

    _, row = await flow_api.upload(
        file="semi.csv", head=1, partition=1, namespace="t", table_name="semi", id_delimiter=";"
    )

    assert row["f_status"] == "success"
    assert (await table_info(flow_api, "semi"))["schema"] == {"header": "y,x0", "sid": "id"}


async def test_bom_does_not_rename_the_id_column(flow_api: FlowApi, jp_root_dir: Path) -> None:
    write(jp_root_dir, "bom.csv", b"\xef\xbb\xbfid,y,x0\n1,0,0.5\n2,1,0.25\n")

    _, row = await flow_api.upload(
        file="bom.csv", head=1, partition=1, namespace="t", table_name="bom"
    )

    assert row["f_status"] == "success"
    assert (await table_info(flow_api, "bom"))["schema"]["sid"] == "id"


async def test_quoted_fields(flow_api: FlowApi, jp_root_dir: Path) -> None:
    write(jp_root_dir, "quoted.csv", b'id,name,x0\n1,"a, b",0.5\n2,"c ""d""",1.5\n')

    _, row = await flow_api.upload(
        file="quoted.csv", head=1, partition=1, namespace="t", table_name="q"
    )

    assert row["f_status"] == "success"
    assert (await table_info(flow_api, "q"))["count"] == 2


async def test_head_zero_names_columns(flow_api: FlowApi, jp_root_dir: Path) -> None:
    write(jp_root_dir, "nohead.csv", b"1,0,0.5,7\n2,1,0.25,8\n")

    _, row = await flow_api.upload(
        file="nohead.csv", head=0, partition=1, namespace="t", table_name="nh"
    )

    assert row["f_status"] == "success"
    info = await table_info(flow_api, "nh")
    assert info["count"] == 2
    assert info["schema"] == {"header": "x0,x1,x2", "sid": "id"}


async def test_head_partition_and_drop_as_strings(flow_api: FlowApi, breast_guest: Path) -> None:
    _, row = await flow_api.upload(
        file=breast_guest.name, head="1", partition="3", drop="0", namespace="t", table_name="s"
    )
    assert row["f_status"] == "success"

    _, row = await flow_api.upload(
        file=breast_guest.name, head="1", partition="5", drop="1", namespace="t", table_name="s"
    )

    assert row["f_status"] == "success"
    info = await table_info(flow_api, "s")
    assert info["count"] == 569
    assert info["partition"] == 5


@pytest.mark.parametrize("bad_path", ["../../etc/passwd", "/etc/passwd"])
async def test_paths_outside_the_root_are_refused(
    flow_api: FlowApi, bad_path: str, fate_home: Path
) -> None:
    reply = await flow_api.post(
        "data/upload",
        {
            "file": bad_path,
            "head": 1,
            "partition": 1,
            "namespace": "t",
            "table_name": "evil",
            "use_local_data": 0,
        },
    )

    assert reply["retcode"] == 101
    assert "outside the server's root directory" in reply["retmsg"]
    assert "jobId" not in reply
    assert list((fate_home / "jobs").iterdir()) == []


async def test_symlink_out_of_the_root_is_refused(flow_api: FlowApi, jp_root_dir: Path) -> None:
    os.symlink("/etc/passwd", jp_root_dir / "link.csv")

    reply = await flow_api.post(
        "data/upload",
        {"file": "link.csv", "namespace": "t", "table_name": "evil", "use_local_data": 0},
    )

    assert reply["retcode"] == 101
    assert "outside the server's root directory" in reply["retmsg"]


async def test_second_upload_without_drop_is_refused(flow_api: FlowApi, breast_guest: Path) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="once"
    )

    reply = await flow_api.post(
        "data/upload",
        {
            "file": breast_guest.name,
            "head": 1,
            "partition": 1,
            "namespace": "t",
            "table_name": "once",
            "use_local_data": 0,
            "drop": 2,
        },
    )

    assert reply["retcode"] == 100
    assert "drop=1" in reply["retmsg"]
    assert "already exists" in reply["retmsg"]
    assert "jobId" not in reply


async def test_drop_replaces_the_table_and_its_files(
    flow_api: FlowApi, breast_guest: Path, jp_root_dir: Path, fate_home: Path
) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=2, namespace="t", table_name="r"
    )
    write(jp_root_dir, "small.csv", b"id,y\n1,0\n2,1\n")

    _, row = await flow_api.upload(
        file="small.csv", head=1, partition=1, drop=1, namespace="t", table_name="r"
    )

    assert row["f_status"] == "success"
    assert (await table_info(flow_api, "r"))["count"] == 2
    assert len(list((fate_home / "tables").iterdir())) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"partition": 0}, "partition must be between 1 and 1024"),
        ({"partition": 1025}, "partition must be between 1 and 1024"),
        ({"partition": "many"}, "partition must be an integer"),
        ({"head": 2}, "head must be 0 or 1"),
        ({"work_mode": 1}, "work_mode 1"),
        ({"table_name": None}, "missing required arguments: table_name"),
        (
            {"namespace": None, "table_name": None},
            "missing required arguments: namespace, table_name",
        ),
        ({"file": None}, "missing required arguments: file"),
        ({"file": "missing.csv"}, "does not exist"),
        ({"id_delimiter": "::"}, "id_delimiter must be one ASCII character"),
    ],
)
async def test_bad_upload_arguments_say_what_to_change(
    flow_api: FlowApi, breast_guest: Path, change: dict, message: str
) -> None:
    config = {
        "file": breast_guest.name,
        "head": 1,
        "partition": 4,
        "namespace": "t",
        "table_name": "bad",
        "use_local_data": 0,
    }
    config = {key: value for key, value in {**config, **change}.items() if value is not None}

    reply = await flow_api.post("data/upload", config)

    assert reply["retcode"] in (101, 102)
    assert message in reply["retmsg"]
    assert "jobId" not in reply


async def test_download_writes_rows_with_the_delimitor(
    flow_api: FlowApi, breast_guest: Path, jp_root_dir: Path
) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=3, namespace="t", table_name="d"
    )

    reply = await flow_api.post(
        "data/download",
        {
            "namespace": "t",
            "table_name": "d",
            "output_path": "out/breast.tsv",
            "delimitor": "\t",
            "work_mode": 0,
        },
    )

    assert reply["retcode"] == 0, reply
    assert (await flow_api.wait_job(reply["jobId"]))["f_status"] == "success"
    written = pd.read_csv(jp_root_dir / "out" / "breast.tsv", sep="\t", header=None, dtype={0: str})
    source = pd.read_csv(breast_guest, dtype={"id": str})
    assert len(written) == 569
    written.columns = source.columns
    merged = source.merge(written, on="id", suffixes=("", "_out"))
    assert len(merged) == 569
    for column in source.columns[1:]:
        assert (merged[column] - merged[f"{column}_out"]).abs().max() < 1e-12


async def test_download_with_header_and_delimiter_alias(
    flow_api: FlowApi, breast_guest: Path, jp_root_dir: Path
) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="h"
    )

    reply = await flow_api.post(
        "data/download",
        {
            "namespace": "t",
            "table_name": "h",
            "output_path": str(jp_root_dir / "h.csv"),
            "delimiter": ",",
            "head": 1,
        },
    )
    await flow_api.wait_job(reply["jobId"])

    lines = (jp_root_dir / "h.csv").read_text().splitlines()
    assert lines[0] == "id," + BREAST_HEADER
    assert len(lines) == 570


async def test_download_outside_the_root_is_refused(flow_api: FlowApi, breast_guest: Path) -> None:
    await flow_api.upload(
        file=breast_guest.name, head=1, partition=1, namespace="t", table_name="o"
    )

    reply = await flow_api.post(
        "data/download", {"namespace": "t", "table_name": "o", "output_path": "../escape.csv"}
    )

    assert reply["retcode"] == 101
    assert "outside the server's root directory" in reply["retmsg"]


async def test_download_of_a_missing_table_is_refused(flow_api: FlowApi) -> None:
    reply = await flow_api.post(
        "data/download", {"namespace": "t", "table_name": "ghost", "output_path": "ghost.csv"}
    )

    assert reply["retcode"] == 101
    assert "does not exist" in reply["retmsg"]


async def test_history_lists_successful_uploads_newest_first(
    flow_api: FlowApi, breast_guest: Path, jp_root_dir: Path
) -> None:
    first, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=2, namespace="t", table_name="h1"
    )
    second, _ = await flow_api.upload(
        file=breast_guest.name, head=1, partition=2, namespace="t", table_name="h2"
    )

    reply = await flow_api.post("data/upload/history", {})

    assert reply["retcode"] == 0
    assert [next(iter(item)) for item in reply["data"]] == [second["jobId"], first["jobId"]]
    record = reply["data"][0][second["jobId"]]
    assert record["upload_info"] == {
        "table_name": "h2",
        "namespace": "t",
        "partition": 2,
        "upload_count": 569,
        "actual_count": 569,
        "rejected_count": 0,
    }
    assert record["notes"] == ""
    assert record["meta"] == {"header": BREAST_HEADER, "sid": "id"}

    limited = await flow_api.post("data/upload/history", {"limit": "1"})
    assert [next(iter(item)) for item in limited["data"]] == [second["jobId"]]


async def test_history_skips_failed_uploads(flow_api: FlowApi, jp_root_dir: Path) -> None:
    write(jp_root_dir, "allbad.csv", b"id,y,x0\n,1,2\n,3,4\n")

    reply, row = await flow_api.upload(
        file="allbad.csv", head=1, partition=1, namespace="t", table_name="allbad"
    )

    assert row["f_status"] == "failed"
    assert "no row of allbad.csv could be stored" in row["f_error"]
    history = await flow_api.post("data/upload/history", {"job_id": reply["jobId"]})
    assert history["data"] == []
