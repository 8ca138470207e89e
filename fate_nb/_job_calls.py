"""FlowClient's job calls: submit, wait, query, list, stop, config, logs, the DAG."""

from __future__ import annotations

import io
import os
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from fate_nb import _frames
from fate_nb._http import FlowSession
from fate_nb.exceptions import JobFailed, JobTimeout

END_STATUSES = frozenset({"success", "failed", "canceled", "timeout"})

JobSpec = Mapping[str, Any] | str | os.PathLike[str]


def read_spec(spec: JobSpec, what: str) -> dict[str, Any]:
    """A DSL or conf given as a dict, JSON or YAML text, or the path of a JSON or YAML file."""
    if isinstance(spec, Mapping):
        return dict(spec)

    text = str(spec)
    if isinstance(spec, os.PathLike) or (
        "\n" not in text and not text.lstrip().startswith("{") and Path(text).is_file()
    ):
        text = Path(spec).read_text(encoding="utf-8")
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"the {what} is neither JSON nor YAML: {error}") from error
    if not isinstance(loaded, dict):
        raise ValueError(
            f"the {what} must be a mapping, got {type(loaded).__name__}: {text[:80]!r}"
        )
    return loaded


class JobCalls(FlowSession):
    """``/v1/job/...`` and ``/v1/pipeline/...``."""

    def submit(
        self,
        dsl: JobSpec,
        conf: JobSpec | None = None,
        *,
        wait: bool = False,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Submit a job: its DSL and runtime conf, as FATE's ``flow job submit``.

        Parameters
        ----------
        dsl
            The job DSL (``{"components": ...}``) as a dict, JSON or YAML text, or a file path;
            or a whole submit body ``{"job_dsl": ..., "job_runtime_conf": ...}`` with ``conf``
            left out.
        conf
            The runtime conf, in any of the same forms.
        wait
            Wait until the job ends; the answer then has its ``status``.
        timeout
            Seconds to wait at most (``wait=True``); None waits as long as the job runs.

        Returns
        -------
        dict
            ``job_id``, ``model_info``, ``warnings`` and the rest of FATE's answer.
        """
        body = read_spec(dsl, "DSL")
        if conf is not None:
            body = {"job_dsl": body, "job_runtime_conf": read_spec(conf, "runtime conf")}
        elif "job_dsl" not in body:
            raise ValueError(
                "give the runtime conf too, or a body with job_dsl and job_runtime_conf"
            )

        envelope = self.envelope("job/submit", body)
        result = {"job_id": envelope.get("jobId"), **(envelope.get("data") or {})}
        if wait:
            result["status"] = self.wait(result["job_id"], timeout=timeout)
        return result

    def check_job(self, dsl: JobSpec, conf: JobSpec) -> dict[str, Any]:
        """Validate a DSL and conf on the server without running anything.

        Returns the DAG the job would have (``component_list``, ``dependencies``); raises
        ``FateFlowError`` with the server's message, the one submit would give, if invalid.
        """
        runtime_conf = read_spec(conf, "runtime conf")
        initiator = runtime_conf.get("initiator")
        initiator = initiator if isinstance(initiator, Mapping) else {}
        return self.call(
            "pipeline/dag/dependency",
            {
                "job_dsl": read_spec(dsl, "DSL"),
                "job_runtime_conf": runtime_conf,
                # Placeholders when the conf has no initiator: the check itself says so.
                "role": initiator.get("role") or "guest",
                "party_id": initiator.get("party_id") or 0,
            },
        )

    def wait(self, job_id: str, timeout: float | None = None, interval: float = 1.0) -> str:
        """Wait until a job ends and return its status (success, failed, canceled, timeout).

        Raises ``JobTimeout`` after ``timeout`` seconds; the job itself goes on.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.job_status(job_id)
            if status in END_STATUSES:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                raise JobTimeout(
                    f"job {job_id} is still {status} after {timeout:g} s", job_id, status
                )
            time.sleep(interval)

    def wait_success(self, job_id: str, timeout: float | None = None) -> None:
        """Wait until a job ends; raise ``JobFailed`` with the reason if it did not succeed."""
        status = self.wait(job_id, timeout=timeout)
        if status != "success":
            row = self.call("job/query", {"job_id": job_id})[0]
            reason = row.get("f_error") or "see the job's log"
            raise JobFailed(f"job {job_id} ended {status}: {reason}", job_id, status)

    def job_status(self, job_id: str) -> str:
        """The job's status as its initiator sees it."""
        rows = self.call("job/query", {"job_id": job_id})
        row = next((row for row in rows if row.get("f_is_initiator")), rows[0])
        return str(row["f_status"])

    def query_job(
        self,
        job_id: str | None = None,
        *,
        role: str | None = None,
        party_id: int | str | None = None,
        status: str | None = None,
    ) -> pd.DataFrame:
        """Job rows, one per party, as ``flow job query``: a typed DataFrame, newest first."""
        filters = {"job_id": job_id, "role": role, "party_id": party_id, "status": status}
        return _frames.job_frame(self.call("job/query", _given(filters)))

    def list_jobs(self, limit: int = 20, *, all_parties: bool = False) -> pd.DataFrame:
        """The newest jobs, the initiator's row of each (every party's with ``all_parties``)."""
        request: dict[str, Any] = {"limit": limit}
        if not all_parties:
            request["is_initiator"] = 1
        return _frames.job_frame(self.call("job/list/job", request))

    def stop_job(self, job_id: str) -> dict[str, Any]:
        """Stop a running job or cancel a waiting one, as ``flow job stop``."""
        return self.envelope("job/stop", {"job_id": job_id})

    def job_config(
        self, job_id: str, *, role: str | None = None, party_id: int | str | None = None
    ) -> dict[str, Any]:
        """The job's DSL, runtime conf, train runtime conf and model info (``flow job config``)."""
        request = _given({"job_id": job_id, "role": role, "party_id": party_id})
        return self.call("job/config", request)

    def query_task(
        self,
        job_id: str | None = None,
        *,
        component_name: str | None = None,
        role: str | None = None,
        party_id: int | str | None = None,
        status: str | None = None,
    ) -> pd.DataFrame:
        """Task rows, one per component and party, as ``flow task query``: a typed DataFrame."""
        filters = {
            "job_id": job_id,
            "component_name": component_name,
            "role": role,
            "party_id": party_id,
            "status": status,
        }
        return _frames.task_frame(self.call("job/task/query", _given(filters)))

    def job_log(self, job_id: str, directory: str | os.PathLike[str]) -> Path:
        """Download the job's logs into ``directory/job_<job_id>_log`` and return that folder."""
        target = Path(directory) / f"job_{job_id}_log"
        with tarfile.open(fileobj=io.BytesIO(self._log_archive(job_id)), mode="r:gz") as tar:
            tar.extractall(target, filter="data")
        return target

    def task_log(
        self, job_id: str, component_name: str, role: str, party_id: int | str, lines: int = 40
    ) -> str:
        """The last ``lines`` lines of one task's log (0 for all of it)."""
        name = f"{role}/{party_id}/{component_name}/std.log"
        with tarfile.open(fileobj=io.BytesIO(self._log_archive(job_id)), mode="r:gz") as tar:
            try:
                member = tar.extractfile(name)
            except KeyError:
                return ""
            text = member.read().decode("utf-8", "replace") if member else ""
        return "\n".join(text.splitlines()[-lines:]) if lines else text

    def _log_archive(self, job_id: str) -> bytes:
        return self.fetch_file("job/log/download", {"job_id": job_id})

    def dag_dependency(
        self, job_id: str, *, role: str | None = None, party_id: int | str | None = None
    ) -> dict[str, Any]:
        """The job's components in run order and their data and model inputs, for one party.

        Without ``role`` and ``party_id``, as the initiator sees it.
        """
        if role is None or party_id is None:
            initiator = self.job_config(job_id)["runtime_conf"]["initiator"]
            role, party_id = initiator["role"], initiator["party_id"]
        request = {"job_id": job_id, "role": role, "party_id": party_id}
        return self.call("pipeline/dag/dependency", request)

    def update_job_notes(self, job_id: str, role: str, party_id: int | str, notes: str) -> None:
        """Write notes into one party's job row, as ``flow job update``."""
        request = {"job_id": job_id, "role": role, "party_id": party_id, "notes": notes}
        self.call("job/update", request)


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments a caller gave (None means not given)."""
    return {key: value for key, value in values.items() if value is not None}
