"""Benchmark online scoring through /v1/serving/predict against a real Jupyter server.

A hetero-LR model (DataIO, Intersection, HeteroLR on FATE's breast data, guest and host) is
trained, loaded and bound; then the script times, over HTTP with the server's token:

* one row per request (``--single`` requests, after a warm-up that fills the hosts' caches);
* 1,000 rows per request (``--batch`` requests; ids drawn with replacement from the guest's
  569, since a host scores only ids its table holds).

It prints p50 and p99 latency of each, and the baseline: a predict job scoring the whole
569-row table, submit to success, which is how rows are scored without a bound service.
Aim: p50 under 20 ms for one row.

Usage::

    python bench/serving.py [--single N] [--batch N] [--keep]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from fate_nb.launch import running_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from csv_files import DATA_DIR  # noqa: E402
from job_confs import HETERO_LR_CONF, HETERO_LR_DSL  # noqa: E402

AIM_MS = 20.0
SERVICE = "bench-breast-lr"
END_STATUSES = {"success", "failed", "canceled", "timeout"}
NAMESPACE = "experiment"


def _post(client: httpx.Client, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    reply = client.post(f"v1/{path}", json=payload).json()
    if reply["retcode"] != 0:
        raise RuntimeError(f"{path}: {reply['retmsg']}")
    return reply


def _wait(client: httpx.Client, job_id: str) -> dict[str, Any]:
    while True:
        row = _post(client, "job/query", {"job_id": job_id})["data"][0]
        if row["f_status"] in END_STATUSES:
            if row["f_status"] != "success":
                raise RuntimeError(f"job {job_id} ended {row['f_status']}: {row['f_error']}")
            return row
        time.sleep(0.05)


def _hetero_lr_job(max_iter: int) -> dict[str, Any]:
    conf = copy.deepcopy(HETERO_LR_CONF)
    conf["algorithm_parameters"]["hetero_lr_0"]["max_iter"] = max_iter
    return {"job_dsl": copy.deepcopy(HETERO_LR_DSL), "job_runtime_conf": conf}


def _predict_job(model_info: dict[str, str], train_conf: dict[str, Any]) -> dict[str, Any]:
    conf = {
        "initiator": copy.deepcopy(train_conf["initiator"]),
        "role": copy.deepcopy(train_conf["role"]),
        "job_parameters": {"work_mode": 0, "job_type": "predict", **model_info},
        "role_parameters": {
            role: {"args": {"data": {"eval_data": sections["args"]["data"]["train_data"]}}}
            for role, sections in train_conf["role_parameters"].items()
            if "args" in sections
        },
    }
    return {"job_dsl": {}, "job_runtime_conf": conf}


def _latencies(client: httpx.Client, bodies: list[dict[str, Any]]) -> list[float]:
    """Milliseconds of each request, one after another."""
    timings = []
    for body in bodies:
        started = time.perf_counter()
        reply = client.post("v1/serving/predict", json=body).json()
        timings.append((time.perf_counter() - started) * 1000)
        if reply["retcode"] != 0:
            raise RuntimeError(f"serving/predict: {reply['retmsg']}")
    return timings


def _summary(label: str, values: list[float]) -> str:
    p50 = statistics.median(values)
    p99 = float(np.percentile(values, 99))
    return f"{label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, n {len(values)}"


def main() -> int:
    """Train, bind, time the scoring and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=500, help="one-row requests")
    parser.add_argument("--batch", type=int, default=30, help="1,000-row requests")
    parser.add_argument("--max-iter", type=int, default=10, help="HeteroLR iterations")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fate_nb_bench_serving_"))
    root = work / "root"
    root.mkdir()
    for name in ("breast_hetero_guest.csv", "breast_hetero_host.csv"):
        shutil.copy(DATA_DIR / name, root)
    guest = pd.read_csv(root / "breast_hetero_guest.csv").drop(columns="y")
    guest["id"] = guest["id"].astype(str)
    rows = guest.to_dict("records")
    rng = np.random.default_rng(0)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    try:
        with (
            running_server(root, work / "home", work / "server.log") as server,
            server.client() as client,
        ):
            for name in ("breast_hetero_guest", "breast_hetero_host"):
                upload = _post(
                    client,
                    "data/upload",
                    {
                        "file": f"{name}.csv",
                        "head": 1,
                        "partition": 4,
                        "use_local_data": 0,
                        "namespace": NAMESPACE,
                        "table_name": name,
                    },
                )
                _wait(client, upload["jobId"])
            job = _hetero_lr_job(options.max_iter)
            trained = _post(client, "job/submit", job)
            _wait(client, trained["jobId"])
            info = trained["data"]["model_info"]
            _post(client, "model/load", {"job_id": info["model_version"]})
            _post(client, "model/bind", {"service_id": SERVICE, "job_parameters": info})

            def body(count: int) -> dict[str, Any]:
                picked = rng.choice(len(rows), size=count, replace=count > len(rows))
                return {"service_id": SERVICE, "feature_data": [rows[i] for i in picked]}

            _latencies(client, [body(1) for _ in range(20)])
            single = _latencies(client, [body(1) for _ in range(options.single)])
            batch = _latencies(client, [body(1000) for _ in range(options.batch)])

            predict = _post(client, "job/submit", _predict_job(info, job["job_runtime_conf"]))
            row = _wait(client, predict["jobId"])
            baseline_ms = float(row["f_end_time"] - row["f_create_time"])
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)

    single_p50, batch_p50 = statistics.median(single), statistics.median(batch)
    print("one row per request:")
    print("  " + _summary("latency", single))
    print("1,000 rows per request:")
    print("  " + _summary("latency", batch))
    print(f"  per row at p50: {batch_p50 / 1000:.4f} ms")
    print(f"baseline: a predict job on the 569-row table, submit to success: {baseline_ms:.0f} ms")
    print(f"one row at p50 vs the baseline: {single_p50 / baseline_ms:.4f}x")
    print(f"1,000 rows at p50 vs the baseline: {batch_p50 / baseline_ms:.3f}x")
    print(f"one row at p50 vs the aim of {AIM_MS:.0f} ms: {single_p50 / AIM_MS:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
