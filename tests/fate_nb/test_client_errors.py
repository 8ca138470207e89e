"""FlowClient's refusals against a real server: each a FateNbError whose message says what to do."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fate_nb import examples
from fate_nb.client import FlowClient
from fate_nb.exceptions import (
    FateFlowError,
    FateNbError,
    InvalidArgument,
    JobTimeout,
    ServerError,
)
from fate_nb.launch import ServerProcess

GUEST = examples.GUEST


def test_submit_refuses_what_it_cannot_read(
    session_client: FlowClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text that is no DSL, a non-text, a mistyped path, an empty file: each said plainly."""
    monkeypatch.chdir(tmp_path)
    conf = examples.hetero_lr_job()["job_runtime_conf"]

    with pytest.raises(InvalidArgument, match="'nonsense' is not a file that exists"):
        session_client.submit("nonsense", conf)
    with pytest.raises(InvalidArgument, match="must be a dict, JSON or YAML text, or a file"):
        session_client.submit(42, conf)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="'job_dls.json' does not exist") as missing:
        session_client.submit("job_dls.json", conf)
    assert "YAML" not in str(missing.value).split(";")[0]
    with pytest.raises(InvalidArgument, match="does not exist"):
        session_client.submit(tmp_path / "nowhere" / "dsl.yaml", conf)

    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(InvalidArgument, match="'empty.yaml' is empty") as empty:
        session_client.submit("empty.yaml", conf)
    assert "NoneType" not in str(empty.value)
    with pytest.raises(InvalidArgument, match="runtime conf too"):
        session_client.submit({"components": {}})

    # Still a ValueError, for code written against the old errors; and a FateNbError.
    assert issubclass(InvalidArgument, ValueError) and issubclass(InvalidArgument, FateNbError)


def test_numpy_values_are_sent_and_nan_is_refused(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """numpy scalars and arrays go as JSON numbers and lists; NaN is named where it is."""
    job = examples.hetero_lr_job()
    parameters = job["job_runtime_conf"]["algorithm_parameters"]["hetero_lr_0"]
    parameters.update(max_iter=np.int64(3), alpha=np.float32(0.01), tol=np.float64(1e-4))
    parameters["init_param"] = {"init_method": "zeros", "fit_intercept": np.bool_(True)}
    job["job_runtime_conf"]["role"]["host"] = np.array([examples.HOST])
    dag = session_client.check_job(job["job_dsl"], job["job_runtime_conf"])
    assert dag["component_list"][-1] == "evaluation_0"

    parameters["tol"] = float("nan")
    with pytest.raises(InvalidArgument, match=r"\['hetero_lr_0'\]\['tol'\] is NaN") as refused:
        session_client.submit(job)
    assert "null" not in str(refused.value) and "JSON" in str(refused.value)
    parameters["tol"] = np.float32("inf")
    with pytest.raises(InvalidArgument, match="NaN or infinite"):
        session_client.check_job(job["job_dsl"], job["job_runtime_conf"])


def test_upload_of_a_missing_file_says_so(session_client: FlowClient, tmp_path: Path) -> None:
    """A local path that is not there: where it was looked for, and on_server as the other way."""
    with pytest.raises(InvalidArgument, match="does not exist here.*on_server=True"):
        session_client.upload(tmp_path / "typo.csv", namespace="client", table_name="typo")
    with pytest.raises(InvalidArgument, match="a CSV file's path or a DataFrame"):
        not_a_table: Any = [1, 2]
        session_client.upload(not_a_table, namespace="client", table_name="typo")
    both = pd.DataFrame({"id": ["a"], "x": [1.0]}).set_index("id", drop=False)
    with pytest.raises(InvalidArgument, match="index 'id' is also one of its columns"):
        session_client.upload(both, namespace="client", table_name="both")


def test_an_unknown_role_or_output_names_what_there_is(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """A role the job lacks and an output name the component lacks list the real ones."""
    job_id = hetero_lr_job["job_id"]
    with pytest.raises(InvalidArgument, match="no 'nonrole' party; its roles are guest") as bad:
        session_client.metrics(job_id, "evaluation_0", role="nonrole")
    assert "arbiter" in str(bad.value)

    with pytest.raises(
        InvalidArgument, match="no output named 'nope'; give data_name= one of train"
    ):
        session_client.output_data(job_id, "hetero_lr_0", data_name="nope")


def test_task_log_names_an_unknown_component_or_party(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """No silent '' for a task the job does not have: the message lists what it has."""
    job_id = hetero_lr_job["job_id"]
    with pytest.raises(InvalidArgument, match="no component 'hetero_lr_9'.*hetero_lr_0"):
        session_client.task_log(job_id, "hetero_lr_9", "guest", GUEST)
    with pytest.raises(InvalidArgument, match="does not run for guest 1234.*guest 9999"):
        session_client.task_log(job_id, "hetero_lr_0", "guest", 1234)
    with pytest.raises(InvalidArgument, match="does not run for arbiter"):
        session_client.task_log(job_id, "dataio_0", "arbiter", examples.ARBITER)


def test_a_missing_or_wrong_token_says_how_to_pass_one(
    live_server: ServerProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A 403 says whether the token was missing or refused, and how to give one; no _xsrf."""
    for name in ("FATE_NB_URL", "FATE_NB_TOKEN", "JUPYTER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))  # no runtime file to find it in

    with FlowClient(live_server.base_url) as client, pytest.raises(FateFlowError) as missing:
        client.list_jobs()
    assert "none was found" in str(missing.value)
    assert "token=" in str(missing.value) and "FATE_NB_TOKEN" in str(missing.value)
    assert "_xsrf" not in str(missing.value)

    wrong = FlowClient(live_server.base_url, "not-the-token")
    with wrong, pytest.raises(FateFlowError, match="refused the token") as refused:
        wrong.list_jobs()
    assert "_xsrf" not in str(refused.value) and "FATE_NB_TOKEN" in str(refused.value)


def test_a_wait_the_server_cannot_answer_in_time_is_a_timeout() -> None:
    """Status queries that time out are asked again; at the deadline, JobTimeout says so.

    The server here is a socket that listens and never answers, as a hung server would.
    """
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        with FlowClient(url, "token", timeout=0.2) as client:
            with pytest.raises(JobTimeout, match="timed out after 1 s") as timed_out:
                client.wait("2026120400000000000000", timeout=1, interval=0.1)
            assert "cannot reach" not in str(timed_out.value)
            assert timed_out.value.job_id == "2026120400000000000000"

            with pytest.raises(ServerError, match="did not answer job/list/job within 0.2 s"):
                client.list_jobs()
