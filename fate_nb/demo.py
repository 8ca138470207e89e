"""``make demo``: a Jupyter server with fate-nb, FATE's breast data uploaded, a job run on it.

Run with ``python -m fate_nb.demo``. The server gets a fresh root and home folder under a
temporary directory, and is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from fate_nb import datasets, examples
from fate_nb.flow.jobs import END_STATUSES
from fate_nb.launch import running_server

NAMESPACE = "experiment"


def checked(reply: httpx.Response) -> dict[str, Any]:
    """The envelope of a reply; stop the demo on a non-zero retcode."""
    envelope = reply.json()
    if envelope.get("retcode") != 0:
        raise SystemExit(f"request failed: {envelope.get('retmsg')}")
    return envelope


def wait_job(client: httpx.Client, job_id: str) -> str:
    """Poll /v1/job/query until the job ends; return its status."""
    while True:
        row = checked(client.post("v1/job/query", json={"job_id": job_id}))["data"][0]
        if row["f_status"] in END_STATUSES:
            return str(row["f_status"])
        time.sleep(0.2)


def upload_server_path(client: httpx.Client, file: Path, table_name: str) -> str:
    """Upload a file that is already on the server, as FATE's use_local_data=0 does."""
    config = {
        "file": file.name,
        "head": 1,
        "partition": 4,
        "namespace": NAMESPACE,
        "table_name": table_name,
        "work_mode": 0,
        "use_local_data": 0,
    }
    return str(checked(client.post("v1/data/upload", json=config))["jobId"])


def upload_multipart(client: httpx.Client, file: Path, table_name: str) -> str:
    """Send the file itself, the way FATE's flow client does (JSON config as the query)."""
    config = {
        "file": str(file),
        "head": 1,
        "partition": 4,
        "namespace": NAMESPACE,
        "table_name": table_name,
        "work_mode": 0,
    }
    query = quote(json.dumps(config), safe=":,/")
    with file.open("rb") as stream:
        files = {"file": (file.name, stream, "application/octet-stream")}
        return str(checked(client.post(f"v1/data/upload?{query}", files=files))["jobId"])


def scale_job() -> dict[str, Any]:
    """DSL v1: DataIO then FeatureScale, on the guest's and the host's breast tables."""
    return examples.scale_job()


def run_job(client: httpx.Client) -> None:
    """Submit the scale job, wait for it, and print its tasks and DAG."""
    reply = checked(client.post("v1/job/submit", json=scale_job()))
    job_id = reply["jobId"]
    print(f"job {job_id} submitted, model {reply['data']['model_info']['model_id']}")
    print(f"job {job_id}: {wait_job(client, job_id)}")
    tasks = checked(client.post("v1/job/task/query", json={"job_id": job_id}))["data"]
    for task in tasks:
        elapsed = task["f_elapsed"]
        print(
            f"  {task['f_component_name']:<16} {task['f_role']:<6} {task['f_party_id']:<6} "
            f"{task['f_status']:<8} {elapsed} ms"
        )
    query = {"job_id": job_id, "role": "guest", "party_id": 9999}
    dag = checked(client.post("v1/pipeline/dag/dependency", json=query))["data"]
    print("  DAG: " + " -> ".join(dag["component_list"]))


def run(workdir: Path) -> None:
    """Start the server, upload both breast tables, print what the API says about them."""
    root, home = workdir / "root", workdir / "home"
    root.mkdir(parents=True)
    guest = Path(shutil.copy(datasets.path("breast_hetero_guest"), root))
    host = datasets.path("breast_hetero_host")

    with running_server(root, home, workdir / "server.log") as server, server.client() as client:
        print(f"fate-nb is serving {server.base_url}v1/ (home {home})")
        uploads = {
            "breast_hetero_guest": upload_server_path(client, guest, "breast_hetero_guest"),
            "breast_hetero_host": upload_multipart(client, host, "breast_hetero_host"),
        }
        for table_name, job_id in uploads.items():
            status = wait_job(client, job_id)
            print(f"upload job {job_id} for {table_name}: {status}")
        for table_name in uploads:
            query = {"namespace": NAMESPACE, "table_name": table_name}
            info = checked(client.post("v1/table/table_info", json=query))["data"]
            print(json.dumps(info, indent=2))
        run_job(client)


def main(argv: list[str] | None = None) -> None:
    """Parse options and run the demo in a temporary folder unless --workdir is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="keep the server's folders here")
    options = parser.parse_args(argv)
    try:
        if options.workdir:
            run(options.workdir.resolve())
            return
        with tempfile.TemporaryDirectory(prefix="fate-nb-demo-") as workdir:
            run(Path(workdir))
    except RuntimeError as error:
        raise SystemExit(f"demo failed: {error}") from None


if __name__ == "__main__":
    main()
