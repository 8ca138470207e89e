"""FlowClient's job calls: submit, wait, query, list, stop, config, logs, the DAG."""

from __future__ import annotations

import io
import os
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import yaml

from fate_nb import _frames
from fate_nb._http import FlowSession
from fate_nb.exceptions import FateFlowError, InvalidArgument, JobFailed, JobTimeout, ServerError

END_STATUSES = frozenset({"success", "failed", "canceled", "timeout"})
# FATE's retcode for "nothing found" (a job, a task, a table...).
NOT_FOUND = 101

JobSpec = Mapping[str, Any] | str | os.PathLike[str]


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML (or JSON) parse error on one line: the problem and where it is."""
    problem = getattr(error, "problem", None)
    mark = getattr(error, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(error).split())


def read_spec(spec: JobSpec, what: str) -> dict[str, Any]:
    """A DSL or conf given as a dict, JSON or YAML text, or the path of a JSON or YAML file."""
    if isinstance(spec, Mapping):
        return dict(spec)
    if not isinstance(spec, str | os.PathLike):
        raise InvalidArgument(
            f"the {what} must be a dict, JSON or YAML text, or a file path; "
            f"got {type(spec).__name__} {spec!r:.60}"
        )

    text = str(spec)
    is_file = isinstance(spec, os.PathLike) or _looks_like_path(text)
    if is_file:
        text = _read_file(Path(spec), what)
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        source = f"file {str(spec)!r}" if is_file else "text"
        raise InvalidArgument(
            f"the {what} {source} is neither JSON nor YAML: {yaml_problem(error)}"
        ) from error
    if isinstance(loaded, dict):
        return loaded
    if is_file:
        held = "is empty" if loaded is None else f"holds a {type(loaded).__name__}"
        raise InvalidArgument(
            f"the {what} file {str(spec)!r} {held}; it must hold a JSON or YAML mapping"
        )
    if loaded is None:
        raise InvalidArgument(f"the {what} is empty; give a dict, JSON or YAML text, or a file")
    if not isinstance(loaded, list | dict) and "\n" not in text.strip():
        raise InvalidArgument(
            f"the {what} {text!r} is not a file that exists (looked from {Path.cwd()}), nor "
            "JSON or YAML text; give an existing file's path, a dict, or the text itself"
        )
    raise InvalidArgument(
        f"the {what} must be a mapping, got {type(loaded).__name__}: {text[:80]!r}"
    )


def _looks_like_path(text: str) -> bool:
    """One line that is an existing file, or that names a JSON or YAML file."""
    if "\n" in text or not text.strip() or text.lstrip()[:1] in "{[":
        return False
    try:
        return Path(text).is_file() or Path(text).suffix.lower() in (".json", ".yaml", ".yml")
    except (OSError, ValueError):  # a name too long, or with a NUL: text, not a path
        return False


def _read_file(path: Path, what: str) -> str:
    """A DSL or conf file's text; a missing or unreadable file says so."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidArgument(
            f"the {what} file {str(path)!r} does not exist (looked from {Path.cwd()}); "
            f"check the path, or give the {what} as a dict or as JSON or YAML text"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidArgument(f"the {what} file {str(path)!r} cannot be read: {error}") from None


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
            ``job_id``, ``model_info``, ``warnings`` (the conf keys the server ignored; empty
            when none) and the rest of FATE's answer.
        """
        if timeout is not None and not isinstance(timeout, int | float):
            raise InvalidArgument(f"timeout must be a number of seconds, not {timeout!r}")
        body = read_spec(dsl, "DSL")
        if conf is not None:
            body = {"job_dsl": body, "job_runtime_conf": read_spec(conf, "runtime conf")}
        elif "job_dsl" not in body:
            raise InvalidArgument(
                "submit needs the runtime conf too: submit(dsl, conf), or one body with "
                "job_dsl and job_runtime_conf"
            )

        envelope = self.envelope("job/submit", body)
        result = {"job_id": envelope.get("jobId"), **(envelope.get("data") or {})}
        result.setdefault("warnings", [])
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

        The job's status is asked every ``interval`` seconds. After ``timeout`` seconds (None:
        no limit) ``JobTimeout`` is raised, also when the server was too busy to answer in
        that time; the job itself goes on.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        status = "unknown"
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            try:
                status = self.job_status(job_id, timeout=self._call_timeout(left))
            except ServerError as error:
                # A status query the server did not answer in time is asked again, until the
                # deadline; a server that cannot be reached at all is an error at once.
                if not isinstance(error.__cause__, httpx.TimeoutException):
                    raise
                if deadline is not None and time.monotonic() >= deadline:
                    raise JobTimeout(
                        f"timed out after {timeout:g} s waiting for job {job_id} (last seen "
                        f"{status}; the server did not answer the last status query in time); "
                        "wait longer with a larger timeout=",
                        job_id,
                        status,
                    ) from error
            else:
                if status in END_STATUSES:
                    return status
            if deadline is not None and time.monotonic() >= deadline:
                raise JobTimeout(
                    f"timed out after {timeout:g} s: job {job_id} is still {status}; wait "
                    "longer with a larger timeout=, or stop it with stop_job",
                    job_id,
                    status,
                )
            time.sleep(interval if left is None else max(min(interval, left), 0))

    def _call_timeout(self, left: float | None) -> float | None:
        """Seconds a status query may take: the client's, but not much past a wait's end."""
        own = self._http.timeout.read
        if left is None:
            return own
        return max(left, 0.1) if own is None else min(own, max(left, 0.1))

    def wait_success(
        self, job_id: str, timeout: float | None = None, interval: float = 1.0
    ) -> None:
        """Wait until a job ends (as ``wait``); raise ``JobFailed`` with the reason if it failed."""
        status = self.wait(job_id, timeout=timeout, interval=interval)
        if status != "success":
            row = self.call("job/query", {"job_id": job_id})[0]
            reason = row.get("f_error") or "see the job's log"
            raise JobFailed(f"job {job_id} ended {status}: {reason}", job_id, status)

    def job_status(self, job_id: str, *, timeout: float | None = None) -> str:
        """The job's status as its initiator sees it (``timeout``: seconds for this call)."""
        rows = self.call("job/query", {"job_id": job_id}, timeout=timeout)
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
        try:
            rows = self.call("job/task/query", _given(filters))
        except FateFlowError as error:
            # FATE answers "no task matches" as an error; for a job that exists, it is none.
            if error.retcode != NOT_FOUND or job_id is None or "no task" not in error.retmsg:
                raise
            self.call("job/query", {"job_id": job_id})  # an unknown job stays an error
            rows = []
        return _frames.task_frame(rows)

    def job_log(self, job_id: str, directory: str | os.PathLike[str]) -> Path:
        """Download the job's logs into ``directory/job_<job_id>_log`` and return that folder."""
        target = Path(directory) / f"job_{job_id}_log"
        with tarfile.open(fileobj=io.BytesIO(self._log_archive(job_id)), mode="r:gz") as tar:
            tar.extractall(target, filter="data")
        return target

    def task_log(
        self, job_id: str, component_name: str, role: str, party_id: int | str, lines: int = 40
    ) -> str:
        """The last ``lines`` lines of one task's log (0 for all of it; '' before it starts).

        Raises ``InvalidArgument`` when the job has no such component, or not for that party.
        """
        name = f"{role}/{party_id}/{component_name}/std.log"
        with tarfile.open(fileobj=io.BytesIO(self._log_archive(job_id)), mode="r:gz") as tar:
            try:
                member = tar.extractfile(name)
            except KeyError:
                member = None
                self._check_task(job_id, component_name, role, party_id)
            text = member.read().decode("utf-8", "replace") if member else ""
        return "\n".join(text.splitlines()[-lines:]) if lines else text

    def _check_task(self, job_id: str, component_name: str, role: str, party_id: int | str) -> None:
        """Refuse a component or party the job does not have, naming the ones it has."""
        tasks = self.query_task(job_id)
        components = sorted(set(tasks["component_name"]))
        if component_name not in components:
            raise InvalidArgument(
                f"job {job_id} has no component {component_name!r}; its components are "
                f"{', '.join(components)}"
            )
        mine = tasks[tasks["component_name"] == component_name]
        parties = [f"{r} {p}" for r, p in zip(mine["role"], mine["party_id"], strict=True)]
        if f"{role} {party_id}" not in parties:
            raise InvalidArgument(
                f"component {component_name!r} of job {job_id} does not run for {role} "
                f"{party_id}; it runs for {', '.join(sorted(parties))}"
            )

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
