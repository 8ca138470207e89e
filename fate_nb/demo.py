"""``make demo``: FATE's hetero-LR job on the breast data, run by a Jupyter server with fate-nb.

Run with ``python -m fate_nb.demo [--workdir DIR]``. It starts ``jupyter server`` on 127.0.0.1
with a fresh fate-nb home (the SQLite store, tables, logs) in DIR, uploads FATE's breast guest
and host tables, submits DataIO, Intersection, HeteroLR and Evaluation, prints each task as
its status changes, then the result: AUC, KS, the loss per iteration, where the logs are.
Then it runs ``notebooks/01_quickstart.ipynb`` against the same server, saves the executed
copy in DIR, stops the server and says how to open JupyterLab on the same data. The exit
code is 0 only when the job and the notebook succeeded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from fate_nb import datasets, examples
from fate_nb.client import END_STATUSES, FlowClient
from fate_nb.exceptions import FateNbError
from fate_nb.launch import ServerProcess, running_server

DEFAULT_WORKDIR = Path("fate-nb-demo")
# A demo folder holds this file, so that a rerun may empty it and nothing else.
MARKER = ".fate-nb-demo"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_quickstart.ipynb"
POLL_S = 0.5
JOB_TIMEOUT_S = 600.0


def prepare(workdir: Path) -> tuple[Path, Path]:
    """An empty demo folder with its server root (the data files) and fate-nb home."""
    if workdir.exists():
        if not (workdir / MARKER).exists() and any(workdir.iterdir()):
            raise FateNbError(f"{workdir} is not empty and not a demo folder; choose another")
        shutil.rmtree(workdir)
    root, home = workdir / "root", workdir / "home"
    root.mkdir(parents=True)
    (workdir / MARKER).touch()
    for name in ("breast_hetero_guest", "breast_hetero_host"):
        shutil.copy(datasets.path(name), root)
    return root, home


def upload(client: FlowClient, root: Path) -> None:
    """Both breast tables into the namespace the example job reads."""
    for table in (examples.GUEST_TABLE, examples.HOST_TABLE):
        answer = client.upload(
            root / f"{table['name']}.csv", namespace=table["namespace"], table_name=table["name"]
        )
        print(f"uploaded {table['namespace']}.{table['name']}: {answer['count']} rows")


def watch(client: FlowClient, job_id: str) -> str:
    """Print each task when its status changes, until the job ends; its final status."""
    started = time.monotonic()
    seen: dict[tuple[str, str, str], str] = {}
    deadline = started + JOB_TIMEOUT_S
    while True:
        status = client.job_status(job_id)
        for task in client.query_task(job_id).itertuples():
            key = (str(task.component_name), str(task.role), str(task.party_id))
            if seen.get(key) != task.status:
                seen[key] = str(task.status)
                print(f"{time.monotonic() - started:7.1f} s  {' '.join(key):<32} {task.status}")
        if status in END_STATUSES:
            return status
        if time.monotonic() > deadline:
            raise FateNbError(f"job {job_id} did not end within {JOB_TIMEOUT_S:.0f} s")
        time.sleep(POLL_S)


def report(client: FlowClient, job: dict[str, Any], status: str) -> None:
    """Job id, status, elapsed time, AUC and KS, the loss per iteration, the logs."""
    job_id = job["job_id"]
    row = client.query_job(job_id, role="guest", party_id=examples.GUEST).iloc[0]
    print(f"\njob {job_id}: {status} in {row['elapsed'].total_seconds():.1f} s")
    if status != "success":
        print(f"why: {row['error'] or 'see the logs'}")
    else:
        metrics = client.metric_all(job_id, "evaluation_0")
        scores = metrics[metrics["name"] == "hetero_lr_0"].set_index("key")["value"]
        print(f"AUC {scores['auc']:.4f}   KS {scores['ks']:.4f}")
        loss = client.metric_data(job_id, "hetero_lr_0", "train", "loss", role="arbiter")
        print("loss per iteration:")
        for key, value in loss.itertuples(index=False):
            print(f"  {int(key):3d}  {value:.6f}")
    print(f"logs: {job['logs_directory']}")


def run_notebook(server: ServerProcess, target: Path) -> None:
    """Execute the quickstart notebook against the server and save it with its outputs."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if not NOTEBOOK.is_file():
        raise FateNbError(f"{NOTEBOOK} is missing; run the demo from a fate-nb checkout")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel inherits these and its FlowClient() finds the demo's server by them.
    os.environ["FATE_NB_URL"], os.environ["FATE_NB_TOKEN"] = server.base_url, server.token
    started = time.monotonic()
    try:
        NotebookClient(
            notebook,
            timeout=JOB_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(target.parent)}},
        ).execute()
    except CellExecutionError as error:
        # Saved all the same: the failing cell's traceback is in the copy.
        nbformat.write(notebook, target)
        raise FateNbError(
            f"{NOTEBOOK.name} stopped at a cell that raised {error.ename}: {error.evalue}; "
            f"the executed copy with its traceback is {target}"
        ) from error
    nbformat.write(notebook, target)
    print(f"\nran {NOTEBOOK.name} in {time.monotonic() - started:.1f} s; saved as {target}")


def run(workdir: Path) -> int:
    """The whole demo in ``workdir``; the exit code."""
    started = time.monotonic()
    root, home = prepare(workdir)
    with running_server(root, home, workdir / "server.log") as server:
        print(f"fate-nb is serving {server.base_url}v1/ (home {home})")
        with FlowClient(server.base_url, server.token) as client:
            upload(client, root)
            job = client.submit(examples.hetero_lr_job())
            print(f"submitted job {job['job_id']}: DataIO, Intersection, HeteroLR, Evaluation")
            status = watch(client, job["job_id"])
            report(client, job, status)
        if status != "success":
            return 1
        # Saved beside the data, so that JupyterLab opened on the root shows it.
        run_notebook(server, root / NOTEBOOK.name)

    print(f"\ndemo done in {time.monotonic() - started:.1f} s. To open JupyterLab on this data:")
    allow_root = " --allow-root" if os.geteuid() == 0 else ""
    print("  .venv/bin/pip install jupyterlab")
    print(
        f"  FATE_NB_HOME={home} .venv/bin/jupyter lab{allow_root} --ip=127.0.0.1 "
        f"--ServerApp.root_dir={root}"
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    """Parse options, run the demo, exit with its code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"the demo's folder, emptied first (default: ./{DEFAULT_WORKDIR})",
    )
    options = parser.parse_args(argv)
    try:
        code = run(options.workdir.resolve())
    except (FateNbError, RuntimeError) as error:
        print(f"demo failed: {error}", file=sys.stderr)
        code = 1
    if code:
        raise SystemExit(code)


if __name__ == "__main__":
    main()
