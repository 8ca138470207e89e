"""FATE's own clients against a real fate-nb server: the server, the peers, shared data and job.

Run by ``make test-peer`` only (the plain run ignores this folder): it builds one virtual
environment per fate-client version under ``.peer/``. Every test that takes ``peer`` runs once
per version (1.5.3 and 1.11.3).
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from peer_client import VERSIONS, Peer, namespace_of, venv_of, wait_job

from fate_nb import datasets, examples
from fate_nb.fate_client import write_sitecustomize
from fate_nb.launch import ServerProcess, running_server

TABLES = ("breast_hetero_guest", "breast_hetero_host")
# Short training: the peer suite checks what the clients read, not the model.
MAX_ITER = 3


@pytest.fixture(scope="session")
def peer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One fate-nb server for the session; FATE's breast data in its root."""
    workdir = tmp_path_factory.mktemp("peer_server")
    root = workdir / "root"
    root.mkdir()
    for name in TABLES:
        shutil.copy(datasets.path(name), root)
    with running_server(root, workdir / "fate_home", workdir / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
def server_root(peer_server: ServerProcess) -> Path:
    """The server's root directory (server-side upload files live here)."""
    return peer_server.log_path.parent / "root"


@pytest.fixture(scope="session", params=VERSIONS)
def peer_version(request: pytest.FixtureRequest) -> str:
    """A fate-client version whose environment `make test-peer` built."""
    version: str = request.param
    if not (venv_of(version) / ".installed").is_file():
        pytest.fail(f"no complete environment for fate-client {version}: run `make test-peer`")
    return version


@pytest.fixture(scope="session")
def peer(
    peer_version: str, peer_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Peer:
    """The fate-client version of this test run, pointed at the session's server."""
    workdir = tmp_path_factory.mktemp(f"peer_{peer_version}")
    peer = Peer(peer_version, peer_server.base_url, peer_server.token, workdir)
    write_sitecustomize(peer.sitecustomize_dir)
    return peer


@pytest.fixture(scope="session")
def flow_cli(peer: Peer) -> Iterator[Peer]:
    """The peer with its `flow` CLI initialised to the server (a per-venv setting, so locked)."""
    with (peer.venv / ".flow-init.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            reply = peer.cli("init", "--ip", peer.ip, "--port", str(peer.port))
            assert reply["retcode"] == 0, reply
            yield peer
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def peer_tables(peer: Peer, peer_server: ServerProcess, server_root: Path) -> dict[str, str]:
    """breast_hetero_guest/host uploaded (server file) into the version's namespace."""
    namespace = namespace_of(peer)
    with httpx.Client(
        base_url=peer_server.base_url, headers=peer_server.headers, timeout=60
    ) as http:
        for name in TABLES:
            reply = http.post(
                "v1/data/upload",
                json={
                    "file": str(server_root / f"{name}.csv"),
                    "head": 1,
                    "partition": 2,
                    "namespace": namespace,
                    "table_name": name,
                    "use_local_data": 0,
                    "drop": 1,
                },
            ).json()
            assert reply["retcode"] == 0, reply
            assert wait_job(peer_server, reply["jobId"]) == "success"
    return {"guest": TABLES[0], "host": TABLES[1], "namespace": namespace}


def hetero_lr_submit(namespace: str) -> dict[str, Any]:
    """fate_nb.examples' hetero-LR job (DSL v1) on the namespace's tables, MAX_ITER iterations."""
    job = examples.hetero_lr_job()
    conf = job["job_runtime_conf"]
    for role, table in zip(("guest", "host"), TABLES, strict=True):
        conf["role_parameters"][role]["args"]["data"]["train_data"] = [
            {"name": table, "namespace": namespace}
        ]
    conf["algorithm_parameters"]["hetero_lr_0"]["max_iter"] = MAX_ITER
    return job


@pytest.fixture(scope="session")
def submit_files(peer: Peer, peer_tables: dict[str, str]) -> dict[str, str]:
    """The hetero-LR DSL and conf as files (fate-client 1.5 and every CLI take paths)."""
    job = hetero_lr_submit(peer_tables["namespace"])
    dsl_path, conf_path = peer.workdir / "hetero_lr_dsl.json", peer.workdir / "hetero_lr_conf.json"
    dsl_path.write_text(json.dumps(job["job_dsl"]))
    conf_path.write_text(json.dumps(job["job_runtime_conf"]))
    return {"dsl_path": str(dsl_path), "conf_path": str(conf_path)}


SDK_SUBMIT = """
if is_15:
    reply = client.job.submit(conf_path=conf_path, dsl_path=dsl_path)
else:
    reply = client.job.submit(config_data=conf, dsl_data=dsl)
result = reply
"""


@pytest.fixture(scope="session")
def trained_job(peer: Peer, peer_server: ServerProcess, submit_files: dict[str, str]) -> Any:
    """One hetero-LR job per version, submitted by the version's FlowClient and finished.

    The value is the client's own submit return value; the job ended in success.
    """
    job = {
        "dsl": json.loads(Path(submit_files["dsl_path"]).read_text()),
        "conf": json.loads(Path(submit_files["conf_path"]).read_text()),
    }
    reply = peer.sdk(SDK_SUBMIT, is_15=peer.is_15, **submit_files, **job)
    assert reply["retcode"] == 0, reply
    assert wait_job(peer_server, reply["jobId"]) == "success", reply["jobId"]
    return reply
