"""fate-client's `flow` CLI (1.5.3 and 1.11.3) against fate-nb: each command's printed JSON.

Every command runs as a user would run it, with ``flow init`` pointing at the test server and
Jupyter's token from ``python -m fate_nb.fate_client sitecustomize DIR`` (``flow_cli``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from peer_client import Peer, namespace_of, upload_conf, wait_job

from fate_nb import datasets
from fate_nb.launch import ServerProcess

COMPONENTS = {"dataio_0", "intersection_0", "hetero_lr_0", "evaluation_0"}
ROWS = 569
GUEST = ("-r", "guest", "-p", "9999")
ARBITER = ("-r", "arbiter", "-p", "10000")


def conf_file(peer: Peer, name: str, conf: dict[str, Any]) -> str:
    """A conf written where the CLI reads it (every CLI command takes paths)."""
    path = peer.workdir / f"cli_{name}.json"
    path.write_text(json.dumps(conf))
    return str(path)


@pytest.fixture(scope="session")
def cli_job(flow_cli: Peer, peer_server: ServerProcess, submit_files: dict[str, str]) -> Any:
    """The hetero-LR job submitted by `flow job submit`, finished; the CLI's printed reply."""
    reply = flow_cli.cli(
        "job", "submit", "-c", submit_files["conf_path"], "-d", submit_files["dsl_path"]
    )
    assert reply["retcode"] == 0, reply
    assert wait_job(peer_server, reply["jobId"]) == "success", reply["jobId"]
    return reply


def component(peer: Peer, job: Any, command: str, name: str, *party: str) -> Any:
    """``flow component <command> -j JOB -r ROLE -p PARTY -cpn NAME``."""
    return peer.cli("component", command, "-j", job["jobId"], *(party or GUEST), "-cpn", name)


def test_upload_client_file(flow_cli: Peer, peer_server: ServerProcess) -> None:
    local = Path(shutil.copy(datasets.path("breast_hetero_guest"), flow_cli.workdir))
    conf = conf_file(flow_cli, "upload", upload_conf(flow_cli, local, "cli_client_file"))
    reply = flow_cli.cli("data", "upload", "-c", conf, "--drop")
    assert reply["retcode"] == 0, reply
    assert reply["data"]["table_name"] == "cli_client_file"
    assert wait_job(peer_server, reply["jobId"]) == "success"
    info = flow_cli.cli("table", "info", "-n", namespace_of(flow_cli), "-t", "cli_client_file")
    assert info["data"]["count"] == ROWS, info


def test_upload_server_file(flow_cli: Peer, peer_server: ServerProcess, server_root: Path) -> None:
    server_file = server_root / "breast_hetero_host.csv"
    conf = upload_conf(flow_cli, server_file, "cli_server_file", use_local_data=0)
    reply = flow_cli.cli("data", "upload", "-c", conf_file(flow_cli, "upload_server", conf))
    assert reply["retcode"] == 0, reply
    assert wait_job(peer_server, reply["jobId"]) == "success"
    history = flow_cli.cli("data", "upload-history", "-l", "50", "-j", reply["jobId"])
    assert history["retcode"] == 0, history
    info = history["data"][0][reply["jobId"]]["upload_info"]
    assert info["table_name"] == "cli_server_file"
    assert info["upload_count"] == ROWS


def test_job_submit(cli_job: Any) -> None:
    assert cli_job["jobId"] == cli_job["data"]["job_id"]
    model_info = cli_job["data"]["model_info"]
    assert model_info["model_id"].startswith("arbiter-10000#guest-9999#host-10000#model")
    assert model_info["model_version"] == cli_job["jobId"]


def test_job_query(flow_cli: Peer, cli_job: Any) -> None:
    reply = flow_cli.cli("job", "query", "-j", cli_job["jobId"])
    assert reply["retcode"] == 0, reply
    assert {row["f_role"] for row in reply["data"]} == {"guest", "host", "arbiter"}
    assert {row["f_status"] for row in reply["data"]} == {"success"}
    assert not any("f_dsl" in row for row in reply["data"])  # the CLI deleted them


def test_task_query(flow_cli: Peer, cli_job: Any) -> None:
    reply = flow_cli.cli("task", "query", "-j", cli_job["jobId"], *GUEST)
    assert reply["retcode"] == 0, reply
    assert {row["f_component_name"] for row in reply["data"]} == COMPONENTS
    assert {row["f_status"] for row in reply["data"]} == {"success"}


def test_job_config(flow_cli: Peer, cli_job: Any) -> None:
    output = flow_cli.workdir / "cli_config"
    reply = flow_cli.cli("job", "config", "-j", cli_job["jobId"], *GUEST, "-o", str(output))
    assert reply["retcode"] == 0, reply
    directory = Path(reply["directory"])
    assert directory == output / f"job_{cli_job['jobId']}_config"
    dsl = json.loads((directory / "dsl.json").read_text())
    assert set(dsl["components"]) == COMPONENTS
    assert reply["data"]["model_info"] == cli_job["data"]["model_info"]


def test_job_log(flow_cli: Peer, cli_job: Any) -> None:
    output = flow_cli.workdir / "cli_log"
    reply = flow_cli.cli("job", "log", "-j", cli_job["jobId"], "-o", str(output))
    assert reply["retcode"] == 0, reply
    names = [
        str(Path(folder, name).relative_to(reply["directory"]))
        for folder, _, files in os.walk(reply["directory"])
        for name in files
    ]
    assert any("hetero_lr_0" in name for name in names), names


def test_component_metrics(flow_cli: Peer, cli_job: Any) -> None:
    reply = component(flow_cli, cli_job, "metrics", "hetero_lr_0", *ARBITER)
    assert reply["data"] == {"train": ["loss"]}, reply
    evaluation = component(flow_cli, cli_job, "metrics", "evaluation_0")
    assert {"hetero_lr_0", "hetero_lr_0_roc"} <= set(evaluation["data"]["train"]), evaluation


def test_component_metric_all(flow_cli: Peer, cli_job: Any) -> None:
    reply = component(flow_cli, cli_job, "metric-all", "hetero_lr_0", *ARBITER)
    assert reply["retcode"] == 0, reply
    assert [point[0] for point in reply["data"]["train"]["loss"]["data"]] == [0, 1, 2]


def test_component_parameters(flow_cli: Peer, cli_job: Any) -> None:
    reply = component(flow_cli, cli_job, "parameters", "hetero_lr_0")
    assert reply["retcode"] == 0, reply
    assert reply["data"]["HeteroLogisticParam"]["max_iter"] == 3


def test_component_output_model(flow_cli: Peer, cli_job: Any) -> None:
    reply = component(flow_cli, cli_job, "output-model", "hetero_lr_0")
    assert reply["retcode"] == 0, reply
    assert set(reply["data"]["weight"]) == {f"x{i}" for i in range(10)}


def test_component_output_data(flow_cli: Peer, cli_job: Any) -> None:
    output = flow_cli.workdir / "cli_output"
    reply = flow_cli.cli(
        "component", "output-data", "-j", cli_job["jobId"], *GUEST, "-cpn", "hetero_lr_0",
        "-o", str(output),
    )  # fmt: skip
    assert reply["retcode"] == 0, reply
    lines = (Path(reply["directory"]) / "train.csv").read_text().splitlines()
    assert len(lines) == ROWS + 1
    assert lines[0].startswith("id,label,predict_result,predict_score")


def test_component_output_data_table(flow_cli: Peer, cli_job: Any) -> None:
    reply = component(flow_cli, cli_job, "output-data-table", "hetero_lr_0")
    assert reply["retcode"] == 0, reply
    assert [row["data_name"] for row in reply["data"]] == ["train"]


def test_table_info(flow_cli: Peer, peer_tables: dict[str, str]) -> None:
    reply = flow_cli.cli("table", "info", "-n", peer_tables["namespace"], "-t", peer_tables["host"])
    assert reply["retcode"] == 0, reply
    assert reply["data"]["count"] == ROWS
    assert reply["data"]["schema"]["header"] == ",".join(f"x{i}" for i in range(20))


def test_table_delete(flow_cli: Peer, peer_server: ServerProcess, server_root: Path) -> None:
    conf = upload_conf(flow_cli, server_root / "breast_hetero_host.csv", "cli_delete")
    conf["use_local_data"] = 0
    upload = flow_cli.cli("data", "upload", "-c", conf_file(flow_cli, "delete", conf), "--drop")
    assert wait_job(peer_server, upload["jobId"]) == "success"
    table = ("-n", namespace_of(flow_cli), "-t", "cli_delete")
    first = flow_cli.cli("table", "delete", *table)
    assert first["retcode"] == 0, first
    assert first["data"] == [{"table_name": "cli_delete", "namespace": namespace_of(flow_cli)}]
    second = flow_cli.cli("table", "delete", *table)
    assert second["retcode"] != 0, second


def test_model_load_and_bind(flow_cli: Peer, cli_job: Any) -> None:
    conf = {
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
        "job_parameters": {"work_mode": 0, **cli_job["data"]["model_info"]},
    }
    load = flow_cli.cli("model", "load", "-c", conf_file(flow_cli, "load", conf))
    assert load["retcode"] == 0, load
    assert load["data"]["guest"] == {"9999": 0}, load
    assert load["data"]["host"] == {"10000": 0}, load
    service = f"cli-{flow_cli.version}"
    bind_conf = conf_file(flow_cli, "bind", {**conf, "service_id": service})
    bind = flow_cli.cli("model", "bind", "-c", bind_conf)
    assert bind["retcode"] == 0, bind
    assert bind["retmsg"] == f"service id is {service}", bind
