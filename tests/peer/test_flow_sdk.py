"""fate-client's flow_sdk FlowClient (1.5.3 and 1.11.3) against fate-nb: each call's own return."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from peer_client import Peer, namespace_of, upload_conf, wait_job

from fate_nb import datasets
from fate_nb.launch import ServerProcess

GUEST = {"role": "guest", "party_id": 9999}
COMPONENTS = {"dataio_0", "intersection_0", "hetero_lr_0", "evaluation_0"}
ROWS = 569


def component_call(
    peer: Peer, job: Any, call: str, component: str = "hetero_lr_0", role: str = "guest"
) -> Any:
    """``client.component.<call>(job_id, role, party_id, component)``: the client's return."""
    return peer.sdk(
        f"result = client.component.{call}(job_id, role, PARTY[role], component)",
        job_id=job["jobId"],
        component=component,
        role=role,
        PARTY={"guest": 9999, "host": 10000, "arbiter": 10000},
    )


UPLOAD = "result = client.data.upload(as_conf(conf), drop=1)"


def test_upload_client_file_is_multipart_and_stores_every_row(
    peer: Peer, peer_server: ServerProcess
) -> None:
    local = Path(shutil.copy(datasets.path("breast_hetero_guest"), peer.workdir))
    reply = peer.sdk(UPLOAD, conf=upload_conf(peer, local, "sdk_client_file"))
    assert reply["retcode"] == 0, reply
    assert reply["data"]["table_name"] == "sdk_client_file"
    assert reply["data"]["board_url"]
    assert wait_job(peer_server, reply["jobId"]) == "success"
    info = peer.sdk(
        "result = client.table.info(namespace, 'sdk_client_file')", namespace=namespace_of(peer)
    )
    assert info["retcode"] == 0, info
    assert info["data"]["count"] == ROWS


def test_upload_server_file_reads_the_servers_copy(
    peer: Peer, peer_server: ServerProcess, server_root: Path
) -> None:
    conf = upload_conf(
        peer, server_root / "breast_hetero_host.csv", "sdk_server_file", use_local_data=0
    )
    reply = peer.sdk(UPLOAD, conf=conf)
    assert reply["retcode"] == 0, reply
    assert wait_job(peer_server, reply["jobId"]) == "success"
    history = peer.sdk("result = client.data.upload_history(limit=50)")
    assert history["retcode"] == 0, history
    mine = [row[reply["jobId"]] for row in history["data"] if reply["jobId"] in row]
    assert mine[0]["upload_info"]["table_name"] == "sdk_server_file"
    assert mine[0]["upload_info"]["upload_count"] == ROWS


def test_job_submit_returns_job_id_and_model_info(trained_job: Any) -> None:
    assert trained_job["retcode"] == 0
    assert trained_job["jobId"] == trained_job["data"]["job_id"]
    assert trained_job["data"]["board_url"]
    model_info = trained_job["data"]["model_info"]
    assert model_info["model_id"].startswith("arbiter-10000#guest-9999#host-10000#model")
    assert model_info["model_version"] == trained_job["jobId"]


def test_job_query_lists_every_party_in_success(peer: Peer, trained_job: Any) -> None:
    reply = peer.sdk("result = client.job.query(job_id=job_id)", job_id=trained_job["jobId"])
    assert reply["retcode"] == 0, reply
    parties = {(row["f_role"], str(row["f_party_id"])) for row in reply["data"]}
    assert parties == {("guest", "9999"), ("host", "10000"), ("arbiter", "10000")}
    assert {row["f_status"] for row in reply["data"]} == {"success"}


def test_task_query_lists_the_guests_components(peer: Peer, trained_job: Any) -> None:
    reply = peer.sdk(
        "result = client.task.query(job_id=job_id, role='guest', party_id=9999)",
        job_id=trained_job["jobId"],
    )
    assert reply["retcode"] == 0, reply
    assert {row["f_component_name"] for row in reply["data"]} == COMPONENTS
    assert {row["f_status"] for row in reply["data"]} == {"success"}


def test_task_list_and_component_list(peer: Peer, trained_job: Any) -> None:
    replies = peer.sdk(
        "result = [client.task.list(limit=3), client.component.list(job_id=job_id)]",
        job_id=trained_job["jobId"],
    )
    tasks, components = replies
    assert tasks["retcode"] == 0, tasks
    assert len(tasks["data"]) == 3
    assert components["retcode"] == 0, components
    assert set(components["data"]["components"]) == COMPONENTS


def test_remote_version_names_fate_nb(peer: Peer) -> None:
    if peer.is_15:
        pytest.skip("fate-client 1.5 has no remote_version (version/get came with 1.7)")
    version = peer.sdk("result = client.remote_version.fate_flow()")
    assert version.startswith("fate-nb ")


def test_job_config_writes_the_dsl_and_conf(peer: Peer, trained_job: Any) -> None:
    reply = peer.sdk(
        """
        import os
        reply = client.job.config(job_id, "guest", 9999, output_path)
        result = {"reply": reply, "files": sorted(os.listdir(reply.get("directory", ".")))}
        """,
        job_id=trained_job["jobId"],
        output_path=str(peer.workdir / "sdk_config"),
    )
    assert reply["reply"]["retcode"] == 0, reply
    assert reply["reply"]["data"]["job_id"] == trained_job["jobId"]
    assert reply["reply"]["data"]["model_info"] == trained_job["data"]["model_info"]
    assert {"dsl.json", "runtime_conf.json", "model_info.json"} <= set(reply["files"])


def test_job_log_downloads_the_logs(peer: Peer, trained_job: Any) -> None:
    reply = peer.sdk(
        """
        import os
        reply = client.job.log(job_id, output_path)
        result = {"reply": reply, "files": [
            os.path.relpath(os.path.join(folder, name), reply["directory"])
            for folder, _, names in os.walk(reply.get("directory", "-")) for name in names
        ]}
        """,
        job_id=trained_job["jobId"],
        output_path=str(peer.workdir / "sdk_log"),
    )
    assert reply["reply"]["retcode"] == 0, reply
    assert any("hetero_lr_0" in name for name in reply["files"]), reply["files"]


def test_component_metrics_name_the_arbiters_loss(peer: Peer, trained_job: Any) -> None:
    reply = component_call(peer, trained_job, "metrics", role="arbiter")
    assert reply == {"retcode": 0, "retmsg": "success", "data": {"train": ["loss"]}}
    evaluation = component_call(peer, trained_job, "metrics", "evaluation_0")
    assert {"hetero_lr_0", "hetero_lr_0_roc"} <= set(evaluation["data"]["train"]), evaluation


def test_metric_all_has_a_loss_per_iteration(peer: Peer, trained_job: Any) -> None:
    reply = component_call(peer, trained_job, "metric_all", role="arbiter")
    assert reply["retcode"] == 0, reply
    loss = reply["data"]["train"]["loss"]
    assert [point[0] for point in loss["data"]] == [0, 1, 2]
    assert all(point[1] > 0 for point in loss["data"])


def test_parameters_are_the_merged_lr_settings(peer: Peer, trained_job: Any) -> None:
    reply = component_call(peer, trained_job, "parameters")
    assert reply["retcode"] == 0, reply
    assert reply["data"]["module"] == "HeteroLR"
    assert reply["data"]["HeteroLogisticParam"]["max_iter"] == 3


def test_output_model_has_the_guests_weights(peer: Peer, trained_job: Any) -> None:
    reply = component_call(peer, trained_job, "output_model")
    assert reply["retcode"] == 0, reply
    weights = reply["data"]["weight"]
    assert set(weights) == {f"x{i}" for i in range(10)}
    assert reply["data"]["iters"] == 3


def test_output_data_download_has_every_row(peer: Peer, trained_job: Any) -> None:
    reply = peer.sdk(
        """
        import os
        reply = client.component.output_data(job_id, "guest", 9999, "hetero_lr_0", output_path)
        files = {}
        for name in os.listdir(reply.get("directory", "-")):
            path = os.path.join(reply["directory"], name)
            if os.path.isfile(path):
                with open(path) as file:
                    files[name] = file.read().splitlines()
        result = {"reply": reply, "files": files}
        """,
        job_id=trained_job["jobId"],
        output_path=str(peer.workdir / "sdk_output"),
    )
    assert reply["reply"]["retcode"] == 0, reply
    lines = reply["files"]["train.csv"]
    assert json.loads("".join(reply["files"]["train.meta"]))["header"] == lines[0].split(",")
    assert len(lines) == ROWS + 1
    assert lines[0].startswith("id,label,predict_result,predict_score")


def test_output_data_table_names_the_table(peer: Peer, trained_job: Any) -> None:
    reply = component_call(peer, trained_job, "output_data_table")
    assert reply["retcode"] == 0, reply
    assert [row["data_name"] for row in reply["data"]] == ["train"]
    assert reply["data"][0]["table_name"]


def test_summary_of_the_evaluation(peer: Peer, trained_job: Any) -> None:
    reply = component_call(peer, trained_job, "get_summary", "hetero_lr_0")
    assert reply["retcode"] == 0, reply
    assert reply["data"]


def test_table_info_counts_the_rows(peer: Peer, peer_tables: dict[str, str]) -> None:
    reply = peer.sdk(
        "result = client.table.info(namespace, table)",
        namespace=peer_tables["namespace"],
        table=peer_tables["guest"],
    )
    assert reply["retcode"] == 0, reply
    assert reply["data"]["count"] == ROWS
    assert reply["data"]["schema"]["header"].split(",")[0] == "y"


def test_table_delete_removes_the_table_once(
    peer: Peer, peer_server: ServerProcess, server_root: Path
) -> None:
    conf = upload_conf(peer, server_root / "breast_hetero_host.csv", "sdk_delete", use_local_data=0)
    upload = peer.sdk(UPLOAD, conf=conf)
    assert wait_job(peer_server, upload["jobId"]) == "success"
    replies = peer.sdk(
        "result = [client.table.delete(namespace=namespace, table_name='sdk_delete') "
        "for _ in range(2)]",
        namespace=namespace_of(peer),
    )
    assert replies[0]["retcode"] == 0, replies
    assert replies[0]["data"] == [{"table_name": "sdk_delete", "namespace": namespace_of(peer)}]
    assert replies[1]["retcode"] != 0, replies


@pytest.fixture(scope="session")
def serving_conf(trained_job: Any) -> dict[str, Any]:
    """A model load/bind conf for the trained job's model, as FATE's docs write one."""
    return {
        "initiator": GUEST,
        "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
        "job_parameters": {"work_mode": 0, **trained_job["data"]["model_info"]},
    }


def test_model_load_then_bind(peer: Peer, serving_conf: dict[str, Any]) -> None:
    replies = peer.sdk(
        """
        result = [
            client.model.load(as_conf(conf)),
            client.model.bind(as_conf({**conf, "service_id": service_id})),
        ]
        """,
        conf=serving_conf,
        service_id=f"sdk-{peer.version}",
    )
    load, bind = replies
    assert load["retcode"] == 0, load
    assert load["data"]["guest"] == {"9999": 0}, load
    assert load["data"]["host"] == {"10000": 0}, load
    assert bind["retcode"] == 0, bind
    assert bind["retmsg"] == f"service id is sdk-{peer.version}", bind
