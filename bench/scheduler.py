"""Benchmark fate-nb's job scheduler against a real Jupyter server.

A DSL v2 job of five trivial components (Reader, DataTransform and three FeatureScale in a
chain, guest only, on a 20-row table) is submitted once, then 20 times at once from 20
threads. For each job the script reports, from the server's own row times:

* submit to first task running: the job row's create time to the earliest task start;
* submit to success: the job row's create time to its end time;

and, for the batch, the time from the first submit until the last job ended. The baseline is
what the same five tasks would cost if each started a cold Python worker process that imports
the components (FATE 1.x starts one such process per task, and takes tens of seconds for a
five-component job). Aim: under 1 s for the five-component job end to end.

Usage::

    python bench/scheduler.py [--jobs N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from fate_nb.launch import running_server

AIM_S = 1.0
CHAIN = ["reader_0", "data_transform_0", "feature_scale_0", "feature_scale_1", "feature_scale_2"]
END_STATUSES = {"success", "failed", "canceled", "timeout"}
TABLE = {"name": "tiny", "namespace": "bench"}


def five_component_job() -> dict[str, Any]:
    """Reader -> DataTransform -> FeatureScale x3, guest only."""
    components: dict[str, Any] = {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
    }
    for upstream, name in zip(CHAIN, CHAIN[1:], strict=False):
        module = "DataTransform" if name.startswith("data_transform") else "FeatureScale"
        components[name] = {
            "module": module,
            "input": {"data": {"data": [f"{upstream}.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999]},
        "job_parameters": {"common": {}},
        "component_parameters": {
            "role": {
                "guest": {
                    "0": {"reader_0": {"table": TABLE}, "data_transform_0": {"with_label": True}}
                }
            }
        },
    }
    return {"job_dsl": {"components": components}, "job_runtime_conf": conf}


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
        time.sleep(0.01)


def _timings(client: httpx.Client, job_id: str) -> tuple[float, float]:
    """Seconds from submit to the first task running, and from submit to success."""
    row = _wait(client, job_id)
    tasks = _post(client, "job/task/query", {"job_id": job_id})["data"]
    first_start = min(task["f_start_time"] for task in tasks)
    return (first_start - row["f_create_time"]) / 1000, (
        row["f_end_time"] - row["f_create_time"]
    ) / 1000


def cold_start_baseline(runs: int = 5) -> float:
    """Seconds for ``runs`` cold worker processes that import every component, one by one."""
    code = "from fate_nb.components import registry; registry()"
    started = time.perf_counter()
    for _ in range(runs):
        subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def _summary(label: str, values: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(values):.3f} s, min {min(values):.3f} s, "
        f"max {max(values):.3f} s"
    )


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20, help="jobs submitted at once")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fate_nb_bench_scheduler_"))
    root = work / "root"
    root.mkdir()
    rows = [f"{i},{i % 2},{i * 0.5},{i * 0.25}" for i in range(20)]
    (root / "tiny.csv").write_text("id,y,x0,x1\n" + "\n".join(rows) + "\n")

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    try:
        with (
            running_server(root, work / "home", work / "server.log") as server,
            server.client() as client,
        ):
            upload = _post(
                client,
                "data/upload",
                {
                    "file": "tiny.csv",
                    "head": 1,
                    "partition": 1,
                    "use_local_data": 0,
                    "namespace": TABLE["namespace"],
                    "table_name": TABLE["name"],
                },
            )
            _wait(client, upload["jobId"])

            # The first job after start-up pays for the fork server's imports; not timed.
            _wait(client, _post(client, "job/submit", five_component_job())["jobId"])
            singles = [
                _timings(client, _post(client, "job/submit", five_component_job())["jobId"])
                for _ in range(5)
            ]

            def submit(_: int) -> str:
                with server.client() as own:
                    return _post(own, "job/submit", five_component_job())["jobId"]

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=options.jobs) as pool:
                job_ids = list(pool.map(submit, range(options.jobs)))
            batch = [_timings(client, job_id) for job_id in job_ids]
            makespan = time.perf_counter() - started
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)

    baseline = cold_start_baseline()
    end_to_end = statistics.median(t for _, t in singles)
    print("one five-component job, 5 runs one after another (max_concurrent_jobs 5):")
    print("  " + _summary("submit -> first task running", [t for t, _ in singles]))
    print("  " + _summary("submit -> success", [t for _, t in singles]))
    print(f"{options.jobs} five-component jobs submitted at once from {options.jobs} threads:")
    print("  " + _summary("submit -> first task running", [t for t, _ in batch]))
    print("  " + _summary("submit -> success", [t for _, t in batch]))
    print(f"  first submit -> last job ended: {makespan:.3f} s")
    print(f"baseline: 5 cold worker processes importing the components: {baseline:.3f} s")
    print(f"one job end to end vs the baseline: {end_to_end / baseline:.2f}x")
    print(f"one job end to end vs the aim of {AIM_S:.0f} s: {end_to_end / AIM_S:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
