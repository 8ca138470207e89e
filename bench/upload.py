"""Benchmark fate-nb's ``/v1/data/upload`` against a real Jupyter server.

The script writes a CSV of ``--rows`` rows (an ``id`` column plus 30 standard-normal
features), starts ``jupyter_server`` as a subprocess with the fate-nb extension, and
uploads the file twice, each into a new table:

* server-path form: a JSON body naming a file the server can read itself;
* multipart form: the file streamed as ``multipart/form-data``, the job config in the
  raw query string, the way FATE's own client sends it.

Each upload is timed from just before the request until the job is seen as
``success``, while a background thread samples the RSS of the server and all its
children. ``pandas.read_csv`` of the same file, in a fresh interpreter, is the
baseline. Aims: at least 500,000 rows/s with a peak below 1024 MiB.

Usage::

    python bench/upload.py [--rows N] [--csv PATH] [--partition N] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

from fate_nb.launch import ServerProcess, start_server

FEATURES = 30
BLOCK_ROWS = 50_000
NAMESPACE = "bench"
JOB_TIMEOUT = 3600.0
POLL_INTERVAL = 0.2
SAMPLE_INTERVAL = 0.05
STOP_TIMEOUT = 10.0
AIM_ROWS_PER_S = 500_000
AIM_PEAK_MIB = 1024
FINAL_STATUSES = {"success", "failed", "canceled", "timeout"}
MIB = 1024 * 1024

READ_CSV_BASELINE = """
import json, resource, sys, time
import pandas as pd

start = time.perf_counter()
frame = pd.read_csv(sys.argv[1])
seconds = time.perf_counter() - start
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "rows": len(frame), "maxrss": maxrss}))
"""


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and why."""


@dataclass
class Result:
    """Outcome of one measured run."""

    form: str
    seconds: float
    rows: int
    peak_mib: float
    job_seconds: float | None = None

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class RssSampler:
    """Samples the RSS of a process tree in a background thread and keeps the peak."""

    pid: int
    interval: float = SAMPLE_INTERVAL
    peak_bytes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / MIB

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def _sample(self) -> None:
        self.peak_bytes = max(self.peak_bytes, tree_rss(self.pid))


def tree_rss(pid: int) -> int:
    """Sum the RSS of ``pid`` and all its descendants, skipping processes that vanish."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return 0

    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return total


# ---------------------------------------------------------------------------
# Data


def csv_blocks(rows: int, seed: int = 0) -> Iterator[np.ndarray]:
    """Yield ``(n, 1 + FEATURES)`` blocks: row number, then rounded standard normals."""
    rng = np.random.default_rng(seed)
    for start in range(0, rows, BLOCK_ROWS):
        n = min(BLOCK_ROWS, rows - start)
        block = np.empty((n, 1 + FEATURES), dtype=np.float64)
        block[:, 0] = np.arange(start, start + n)
        block[:, 1:] = np.round(rng.standard_normal((n, FEATURES)), 6)
        yield block


def write_csv(path: Path, rows: int) -> None:
    """Write the benchmark CSV block by block so memory stays small."""
    header = ",".join(["id", *(f"x{i}" for i in range(FEATURES))])
    fmt = ["%d", *(["%.6f"] * FEATURES)]
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as out:
        out.write((header + "\n").encode())
        for block in csv_blocks(rows):
            np.savetxt(out, block, fmt=fmt, delimiter=",")
    tmp.replace(path)


def count_data_rows(path: Path) -> int:
    """Count the lines after the header, as a sanity check on a reused CSV."""
    lines = 0
    last = b"\n"
    with path.open("rb") as src:
        while chunk := src.read(8 * MIB):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def link_or_copy(src: Path, dst: Path) -> None:
    """Make ``dst`` a hard link to ``src``, or a copy when linking is not possible."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def prepare_csv(root: Path, rows: int, reuse: Path | None) -> tuple[Path, int]:
    """Put the benchmark CSV at ``<root>/bench.csv`` and return it with its row count."""
    target = root / "bench.csv"
    if reuse is None:
        print(f"writing {rows:,} rows x {FEATURES} features to {target} ...", flush=True)
        write_csv(target, rows)
        return target, rows

    reuse = reuse.expanduser().resolve()
    if not reuse.exists():
        print(f"writing {rows:,} rows x {FEATURES} features to {reuse} ...", flush=True)
        reuse.parent.mkdir(parents=True, exist_ok=True)
        write_csv(reuse, rows)

    link_or_copy(reuse, target)
    found = count_data_rows(target)
    if found != rows:
        print(f"reusing {reuse}: {found:,} data rows (ignoring --rows {rows:,})")
    return target, found


# ---------------------------------------------------------------------------
# Baseline


def read_csv_baseline(path: Path) -> Result:
    """Time ``pandas.read_csv`` of ``path`` in a fresh interpreter; report its peak RSS."""
    proc = subprocess.run(
        [sys.executable, "-c", READ_CSV_BASELINE, str(path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(f"pandas.read_csv baseline failed:\n{proc.stderr.strip()}")

    report = json.loads(proc.stdout.strip().splitlines()[-1])
    # ru_maxrss is KiB on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    peak_mib = report["maxrss"] * scale / MIB
    return Result("pandas.read_csv", report["seconds"], report["rows"], peak_mib)


# ---------------------------------------------------------------------------
# Server


def stop_server(server: ServerProcess) -> None:
    """SIGTERM the server, SIGKILL it after a grace period, then reap leftover children."""
    proc = server.process
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    alive = [child for child in children if child.is_running()]
    for child in alive:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            continue
    _, still_alive = psutil.wait_procs(alive, timeout=STOP_TIMEOUT)
    for child in still_alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            continue


def log_tail(server: ServerProcess, lines: int = 25) -> str:
    """The last lines of the server log, for error reports."""
    try:
        text = server.log_path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------------------
# FATE-Flow API


def api_json(response: httpx.Response, what: str) -> dict[str, Any]:
    """Decode a FATE-Flow reply, turning HTTP errors and non-zero retcodes into BenchError."""
    if response.status_code == 404:
        raise BenchError(
            f"{what}: HTTP 404 for {response.request.url.path} - the fate-nb server "
            "extension (jupyter_ext) is not loaded or does not serve this endpoint yet; "
            "is the project installed in this environment (`make venv`)?"
        )
    if response.status_code != 200:
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    try:
        body = response.json()
    except ValueError as exc:
        raise BenchError(f"{what}: reply is not JSON: {response.text[:200]!r}") from exc

    if body.get("retcode") != 0:
        raise BenchError(f"{what}: retcode {body.get('retcode')}: {body.get('retmsg')}")
    return body


def upload_config(path: Path, table_name: str, partition: int) -> dict[str, Any]:
    """The job config shared by both upload forms."""
    return {
        "file": str(path),
        "head": 1,
        "partition": partition,
        "namespace": NAMESPACE,
        "table_name": table_name,
        "work_mode": 0,
    }


def post_server_path(client: httpx.Client, path: Path, partition: int) -> str:
    """Upload by naming a file on the server's disk; return the job id."""
    config = {**upload_config(path, "server_path", partition), "use_local_data": 0}
    body = api_json(client.post("/v1/data/upload", json=config), "upload (server path)")
    return body["jobId"]


def post_multipart(client: httpx.Client, path: Path, partition: int) -> str:
    """Upload the file as multipart/form-data, config in the raw query; return the job id."""
    config = upload_config(path, "multipart", partition)
    query = urllib.parse.quote(json.dumps(config), safe=":,/")
    with path.open("rb") as src:
        files = {"file": (path.name, src, "application/octet-stream")}
        response = client.post(f"/v1/data/upload?{query}", files=files)
    return api_json(response, "upload (multipart)")["jobId"]


def wait_for_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """Poll ``/v1/job/query`` until the job is final; fail unless it succeeded; return its row."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        body = api_json(client.post("/v1/job/query", json={"job_id": job_id}), "job query")
        jobs = body.get("data") or []
        status = jobs[0].get("f_status") if jobs else None
        if status in FINAL_STATUSES:
            if status != "success":
                raise BenchError(f"job {job_id} ended with status {status!r}")
            return jobs[0]
        time.sleep(POLL_INTERVAL)
    raise BenchError(f"job {job_id} not finished after {JOB_TIMEOUT:.0f} s")


def check_count(client: httpx.Client, table_name: str, rows: int) -> None:
    """Check that the uploaded table holds exactly ``rows`` rows."""
    payload = {"namespace": NAMESPACE, "table_name": table_name}
    body = api_json(client.post("/v1/table/table_info", json=payload), "table info")
    count = (body.get("data") or {}).get("count")
    if count != rows:
        raise BenchError(f"table {NAMESPACE}.{table_name} has count {count}, expected {rows}")


def measure_upload(
    server: ServerProcess, form: str, path: Path, rows: int, partition: int
) -> Result:
    """Run one upload form end to end and return its timing and peak RSS."""
    post = post_server_path if form == "server_path" else post_multipart
    timeout = httpx.Timeout(600.0, connect=10.0)
    print(f"uploading {rows:,} rows ({form}) ...", flush=True)

    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=timeout) as client:
        with RssSampler(server.process.pid) as sampler:
            start = time.perf_counter()
            job_id = post(client, path, partition)
            row = wait_for_job(client, job_id)
            seconds = time.perf_counter() - start

        check_count(client, form, rows)

    return Result(form, seconds, rows, sampler.peak_mib, row["f_elapsed"] / 1000)


def warm_up(server: ServerProcess, root: Path) -> None:
    """One tiny upload first, so that the measured ones meet a server in its steady state."""
    path = root / "warm_up.csv"
    path.write_text("id,x0\n1,0.5\n")
    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=60) as client:
        config = {**upload_config(path, "warm_up", 1), "use_local_data": 0}
        wait_for_job(
            client, api_json(client.post("/v1/data/upload", json=config), "warm-up")["jobId"]
        )


# ---------------------------------------------------------------------------
# Report


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else whatever platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_line() -> str:
    """One line describing the machine the numbers came from."""
    total_gib = psutil.virtual_memory().total / (1024 * MIB)
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {total_gib:.1f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def print_report(baseline: Result, uploads: list[Result]) -> None:
    """Print the results table and whether the aims are met."""
    print()
    print(machine_line())
    print(f"rows: {baseline.rows:,}")
    print()
    header = (
        f"{'form':<16} {'seconds':>9} {'job s':>7} {'rows/s':>12} {'peak MiB':>9} "
        f"{'vs read_csv':>11}"
    )
    print(header)
    print("-" * len(header))
    for result in [baseline, *uploads]:
        ratio = result.rows_per_s / baseline.rows_per_s
        job = "-" if result.job_seconds is None else f"{result.job_seconds:.2f}"
        print(
            f"{result.form:<16} {result.seconds:>9.2f} {job:>7} {result.rows_per_s:>12,.0f} "
            f"{result.peak_mib:>9.0f} {ratio:>10.2f}x"
        )

    print()
    print(f"aims: >= {AIM_ROWS_PER_S:,} rows/s and peak < {AIM_PEAK_MIB} MiB")
    for result in uploads:
        speed_ok = result.rows_per_s >= AIM_ROWS_PER_S
        memory_ok = result.peak_mib < AIM_PEAK_MIB
        verdict = "MET" if speed_ok and memory_ok else "NOT MET"
        print(
            f"  {result.form:<12} {verdict:<8} "
            f"speed {'ok' if speed_ok else 'too slow'}, memory {'ok' if memory_ok else 'too high'}"
        )


# ---------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate")
    parser.add_argument(
        "--csv",
        type=Path,
        help="reuse this CSV (generated there first if it does not exist yet)",
    )
    parser.add_argument("--partition", type=int, default=16, help="table partitions")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work dir (CSV, server log, data)"
    )
    parser.add_argument(
        "--work-dir", type=Path, help="parent for the temp work dir (default: system temp)"
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    if args.partition < 1:
        parser.error("--partition must be at least 1")
    return args


def run(args: argparse.Namespace, work: Path) -> None:
    """Generate data, run the baseline, start the server and measure both uploads."""
    root = work / "root"
    root.mkdir()
    (work / "home").mkdir()

    path, rows = prepare_csv(root, args.rows, args.csv)

    print("timing pandas.read_csv baseline ...", flush=True)
    baseline = read_csv_baseline(path)

    print("starting jupyter_server ...", flush=True)
    server = start_server(root, work / "home", work / "server.log")
    try:
        try:
            try:
                server.wait_ready()
            except RuntimeError as error:
                raise BenchError(str(error)) from error
            warm_up(server, root)
            uploads = [
                measure_upload(server, form, path, rows, args.partition)
                for form in ("server_path", "multipart")
            ]
        except BenchError:
            tail = log_tail(server)
            if tail:
                print(f"--- last lines of {server.log_path} ---\n{tail}\n---", file=sys.stderr)
            raise
    finally:
        stop_server(server)

    print_report(baseline, uploads)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fate-nb-bench-", dir=args.work_dir))

    try:
        run(args, work)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept work dir {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
