"""Benchmark fate-nb's HeteroLR, 1024-bit Paillier between three worker processes.

Two DSL v1 jobs, DataIO -> HeteroLR, guest 9999, host and arbiter 10000, run one after the
other on a real Jupyter server, each after uploading its two tables through ``/v1/data/upload``:

* breast (569 rows, 10 + 20 features): FATE 1.4's example settings, full batch, L2 with
  alpha 0.01, nesterov_momentum_sgd at learning rate 0.15, random_uniform init with a seed;
* default_credit (30,000 rows, 13 + 10 features): the settings of FATE's benchmark, batches of
  3,200, L2 with alpha 0.001, adam at learning rate 0.1, zeros init.

Both run ``--iterations`` epochs (early_stop "abs" with tol 0 never stops them early). For
each job the script reports, from the server's own rows and tracked metrics:

* submit to success: the guest's job row, create time to end time;
* seconds per iteration: the span of the three HeteroLR tasks (which includes the prediction
  on the training data after the last epoch) over the number of ``train/loss`` values the
  arbiter logged;
* the floor: the same training replayed in plain numpy on the joined data
  (``tests/hetero_lr_replay.py``), the best of three runs in this process, and the ratio;
* the AUC of the guest's prediction output against scikit-learn's LogisticRegression on the
  joined features and on the guest's features only, and the ratios.

A first breast job of one iteration pays for the fork server's imports and is not timed.

Usage::

    python bench/hetero_lr.py [--skip-default-credit] [--iterations N] [--keep]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from fate_nb.flow import storage, tables, tracking
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.store import create_store_engine
from fate_nb.launch import running_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from csv_files import DATA_DIR  # noqa: E402
from hetero_lr_replay import replay  # noqa: E402

GUEST, HOST, ARBITER = 9999, 10000, 10000
NAMESPACE = "bench"
END_STATUSES = {"success", "failed", "canceled", "timeout"}
POLL_S = 0.2
REPLAY_RUNS = 3
RUN_ALL = {"early_stop": "abs", "tol": 0}

BREAST = {
    "penalty": "L2",
    "alpha": 0.01,
    "optimizer": "nesterov_momentum_sgd",
    "learning_rate": 0.15,
    "batch_size": -1,
    "init_param": {"init_method": "random_uniform", "random_seed": 11},
    **RUN_ALL,
}
DEFAULT_CREDIT = {
    "penalty": "L2",
    "alpha": 0.001,
    "optimizer": "adam",
    "learning_rate": 0.1,
    "batch_size": 3200,
    "init_param": {"init_method": "zeros", "random_seed": 1},
    **RUN_ALL,
}


@dataclass
class Figures:
    """What one job measured, and its plaintext and scikit-learn references."""

    data: str
    rows: int
    end_to_end_s: float
    lr_span_s: float
    iterations: int
    replay_s: float
    replay_iterations: int
    auc: float
    replay_auc: float
    sklearn_auc: float
    guest_only_auc: float

    @property
    def per_iteration_s(self) -> float:
        """Seconds of the HeteroLR tasks per iteration."""
        return self.lr_span_s / self.iterations

    @property
    def floor_per_iteration_s(self) -> float:
        """Seconds of the plaintext replay per iteration."""
        return self.replay_s / self.replay_iterations


def lr_job(data: str, settings: dict[str, Any]) -> dict[str, Any]:
    """DSL v1: DataIO then HeteroLR on ``data``'s guest and host tables."""

    def train_data(role: str) -> dict[str, Any]:
        table = {"name": f"{data}_{role}", "namespace": NAMESPACE}
        return {"data": {"train_data": [table]}}

    components = {
        "dataio_0": {
            "module": "DataIO",
            "input": {"data": {"data": ["args.train_data"]}},
            "output": {"data": ["train"], "model": ["dataio"]},
        },
        "hetero_lr_0": {
            "module": "HeteroLR",
            "input": {"data": {"train_data": ["dataio_0.train"]}},
            "output": {"data": ["train"], "model": ["hetero_lr"]},
        },
    }
    conf = {
        "initiator": {"role": "guest", "party_id": GUEST},
        "job_parameters": {"work_mode": 0},
        "role": {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]},
        "role_parameters": {
            "guest": {
                "args": train_data("guest"),
                "dataio_0": {"with_label": [True], "label_name": ["y"], "label_type": ["int"]},
            },
            "host": {"args": train_data("host"), "dataio_0": {"with_label": [False]}},
        },
        "algorithm_parameters": {"hetero_lr_0": settings},
    }
    return {"job_dsl": {"components": components}, "job_runtime_conf": conf}


def _post(client: httpx.Client, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    reply = client.post(f"v1/{path}", json=payload).json()
    if reply["retcode"] != 0:
        raise RuntimeError(f"{path}: {reply['retmsg']}")
    return reply


def _wait(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """Poll the job's row (the guest's, if it has one) until it ends; fail unless it succeeded."""
    while True:
        rows = _post(client, "job/query", {"job_id": job_id})["data"]
        row = next((r for r in rows if r["f_role"] == "guest"), rows[0])
        if row["f_status"] in END_STATUSES:
            if row["f_status"] != "success":
                raise RuntimeError(f"job {job_id} ended {row['f_status']}: {row['f_error']}")
            return row
        time.sleep(POLL_S)


def upload(client: httpx.Client, root: Path, data: str) -> None:
    """Put ``data``'s two CSVs in the server's root and upload them as server-side files."""
    for role in ("guest", "host"):
        name = f"{data}_hetero_{role}.csv"
        shutil.copy(DATA_DIR / name, root / name)
        config = {
            "file": name,
            "head": 1,
            "partition": 4,
            "namespace": NAMESPACE,
            "table_name": f"{data}_{role}",
            "use_local_data": 0,
        }
        _wait(client, _post(client, "data/upload", config)["jobId"])


def joined(data: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The guest's features, the host's and the labels, rows in id order as text."""
    guest = pd.read_csv(DATA_DIR / f"{data}_hetero_guest.csv", dtype={"id": str})
    host = pd.read_csv(DATA_DIR / f"{data}_hetero_host.csv", dtype={"id": str})
    guest, host = guest.sort_values("id"), host.sort_values("id")
    if list(guest["id"]) != list(host["id"]):
        raise RuntimeError(f"{data}: the guest's and the host's ids differ")
    return (
        guest.drop(columns=["id", "y"]).to_numpy(float),
        host.drop(columns=["id"]).to_numpy(float),
        guest["y"].to_numpy(float),
    )


def sklearn_auc(features: np.ndarray, labels: np.ndarray) -> float:
    """Training AUC of scikit-learn's LogisticRegression with its default settings."""
    model = LogisticRegression(max_iter=1000).fit(features, labels)
    return float(roc_auc_score(labels, model.decision_function(features)))


def federated_auc(config: FlowConfig, job_id: str) -> float:
    """AUC of the guest's HeteroLR prediction output, read from the server's home."""
    engine = create_store_engine(config.db_url)
    try:
        table = tracking.output_table(engine, job_id, "hetero_lr_0", "guest", str(GUEST), "train")
    finally:
        engine.dispose()
    frame = storage.read_table(tables.table_dir(config, table)).to_pandas()
    return float(roc_auc_score(frame["label"].astype(int), frame["predict_score"]))


def loss_count(config: FlowConfig, job_id: str) -> int:
    """How many ``train/loss`` values the arbiter logged."""
    engine = create_store_engine(config.db_url)
    try:
        found = tracking.metrics(engine, job_id, "hetero_lr_0", "arbiter", str(ARBITER))
    finally:
        engine.dispose()
    return len(found["train"]["loss"]["data"])


def run_job(
    client: httpx.Client, config: FlowConfig, data: str, settings: dict[str, Any]
) -> Figures:
    """Submit one HeteroLR job, wait for it, and gather its figures and references."""
    job_id = _post(client, "job/submit", lr_job(data, settings))["jobId"]
    row = _wait(client, job_id)
    tasks = _post(client, "job/task/query", {"job_id": job_id})["data"]
    lr_tasks = [task for task in tasks if task["f_component_name"] == "hetero_lr_0"]
    span_ms = max(t["f_end_time"] for t in lr_tasks) - min(t["f_start_time"] for t in lr_tasks)

    guest_x, host_x, labels = joined(data)
    replay_s = math.inf
    for _ in range(REPLAY_RUNS):
        started = time.perf_counter()
        plain = replay(guest_x, host_x, labels, settings)
        replay_s = min(replay_s, time.perf_counter() - started)
    plain_scores = guest_x @ plain.guest_weights + plain.intercept + host_x @ plain.host_weights

    return Figures(
        data=data,
        rows=len(labels),
        end_to_end_s=(row["f_end_time"] - row["f_create_time"]) / 1000,
        lr_span_s=span_ms / 1000,
        iterations=loss_count(config, job_id),
        replay_s=replay_s,
        replay_iterations=plain.iters,
        auc=federated_auc(config, job_id),
        replay_auc=float(roc_auc_score(labels, plain_scores)),
        sklearn_auc=sklearn_auc(np.hstack([guest_x, host_x]), labels),
        guest_only_auc=sklearn_auc(guest_x, labels),
    )


def report(figures: Figures) -> None:
    """Print one job's figures and ratios."""
    print(f"{figures.data} ({figures.rows:,} rows), {figures.iterations} iterations:")
    print(f"  submit -> success: {figures.end_to_end_s:.2f} s")
    print(
        f"  HeteroLR tasks: {figures.lr_span_s:.2f} s, "
        f"{figures.per_iteration_s:.3f} s per iteration"
    )
    print(
        f"  plaintext numpy replay ({figures.replay_iterations} iterations): "
        f"{figures.replay_s:.4f} s, {figures.floor_per_iteration_s * 1000:.3f} ms per iteration"
    )
    ratio = figures.per_iteration_s / figures.floor_per_iteration_s
    print(f"  per iteration vs the replay floor: {ratio:,.0f}x")
    print(
        f"  AUC: federated {figures.auc:.4f}, replay {figures.replay_auc:.4f}, "
        f"scikit-learn joined {figures.sklearn_auc:.4f}, guest only {figures.guest_only_auc:.4f}"
    )
    print(
        f"  federated AUC / joined: {figures.auc / figures.sklearn_auc:.4f}, "
        f"/ guest only: {figures.auc / figures.guest_only_auc:.4f}, "
        f"minus guest only: {figures.auc - figures.guest_only_auc:+.4f}"
    )


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-default-credit", action="store_true", help="run the breast job only"
    )
    parser.add_argument("--iterations", type=int, default=30, help="epochs of each job")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()
    if options.iterations < 1:
        parser.error("--iterations must be at least 1")

    datasets = {"breast": BREAST}
    if not options.skip_default_credit:
        datasets["default_credit"] = DEFAULT_CREDIT

    work = Path(tempfile.mkdtemp(prefix="fate_nb_bench_hetero_lr_"))
    root, home = work / "root", work / "home"
    root.mkdir()
    config = FlowConfig(home=home, root_dir=root)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    results: list[Figures] = []
    try:
        with (
            running_server(root, home, work / "server.log") as server,
            server.client() as client,
        ):
            for data in datasets:
                upload(client, root, data)

            warm_up = lr_job("breast", {**BREAST, "max_iter": 1})
            _wait(client, _post(client, "job/submit", warm_up)["jobId"])

            for data, settings in datasets.items():
                print(f"running {data} ...", flush=True)
                job_settings = {**settings, "max_iter": options.iterations}
                results.append(run_job(client, config, data, job_settings))
    finally:
        if options.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    for figures in results:
        report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
