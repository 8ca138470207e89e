"""The %fate magics in an IPython InteractiveShell, against a real fate-nb server."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from fate_nb import examples
from fate_nb.client import FlowClient
from fate_nb.exceptions import FateFlowError
from fate_nb.launch import ServerProcess
from fate_nb.magics import _SUBCOMMANDS, FateMagics

UNKNOWN_JOB = "20991231000000000000000"
JOB_COLUMNS = ["job_id", "role", "party_id", "status", "progress", "create_time", "elapsed"]
METRIC_COLUMNS = ["namespace", "name", "key", "value", "metric_type", "meta"]


def _shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "fate_nb")
    yield shell
    magics(shell).close()
    InteractiveShell.clear_instance()


@pytest.fixture
def ip(
    live_server: ServerProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[InteractiveShell]:
    """A shell with fate_nb loaded, finding the live server through FATE_NB_URL/TOKEN."""
    monkeypatch.setenv("FATE_NB_URL", live_server.base_url)
    monkeypatch.setenv("FATE_NB_TOKEN", live_server.token)
    yield from _shell(monkeypatch, tmp_path)


@pytest.fixture
def bare_ip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[InteractiveShell]:
    """A shell with fate_nb loaded and no server to be found: no variables, no runtime files."""
    for name in ("FATE_NB_URL", "FATE_NB_TOKEN", "JUPYTER_TOKEN", "JPY_PARENT_PID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "no_runtime"))
    yield from _shell(monkeypatch, tmp_path)


def magics(shell: InteractiveShell) -> FateMagics:
    """The FateMagics instance %load_ext registered."""
    return shell.magics_manager.registry["FateMagics"]


def fate(shell: InteractiveShell, line: str, cell: str | None = None) -> Any:
    """What ``%fate line`` (or ``%%fate line`` over ``cell``) returns."""
    if cell is None:
        return shell.run_line_magic("fate", line)
    return shell.run_cell_magic("fate", line, cell)


def error_line(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], cell: str) -> str:
    """Run a cell that must fail; its only output is one UsageError line, which is returned."""
    capsys.readouterr()
    result = shell.run_cell(cell)
    out, err = capsys.readouterr()
    assert result.success is False
    assert isinstance(result.error_in_exec, UsageError)
    assert "Traceback" not in out + err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("UsageError: "), err
    return lines[0].removeprefix("UsageError: ")


def test_loading_needs_no_server_and_help_lists_every_subcommand(
    bare_ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """%load_ext makes no client; %fate? shows each sub-command with an example line."""
    assert magics(bare_ip)._client is None
    doc = bare_ip.find_line_magic("fate").__doc__
    for name in _SUBCOMMANDS:
        prefix = "%%fate" if name == "submit" else "%fate"
        assert f"\n  {name}" in doc and f"{prefix} {name}" in doc, name
    for option in ("--namespace", "--table", "--partition", "--drop", "--limit", "--role"):
        assert option in doc

    capsys.readouterr()
    assert bare_ip.run_cell("%fate?").success
    assert "Sub-commands:" in capsys.readouterr().out

    message = error_line(bare_ip, capsys, "%fate jobs")
    assert message.startswith("no running Jupyter server found")


def test_connect_chooses_the_server_and_keeps_the_old_one_on_a_bad_token(
    bare_ip: InteractiveShell, live_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    """%fate connect URL TOKEN returns its client; a refused token leaves the client as it was."""
    client = fate(bare_ip, f"connect {live_server.base_url} {live_server.token}")
    assert isinstance(client, FlowClient)
    assert client.base_url == live_server.base_url
    assert magics(bare_ip).client is client
    assert isinstance(fate(bare_ip, "jobs"), pd.DataFrame)

    message = error_line(bare_ip, capsys, f"%fate connect {live_server.base_url} not-the-token")
    assert "token" in message
    assert magics(bare_ip).client is client


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("%fate", "usage: %fate SUBCOMMAND ...; one of connect, upload"),
        ("%fate bogus", "argument SUBCOMMAND: invalid choice: 'bogus'"),
        ("%fate metrics 1", "usage: %fate metrics JOB COMPONENT (see %fate?)"),
        ("%fate stop 1 2", "usage: %fate stop JOB (see %fate?)"),
        ("%fate jobs --namespace x", "jobs takes no --namespace"),
        ("%fate jobs --limit many", "argument --limit: invalid int value: 'many'"),
        ("%fate upload x.csv", "upload needs --namespace and --table"),
        ("%fate upload x.csv -n a -t b", "upload: no file 'x.csv' (nor a DataFrame variable"),
        ('%fate tasks "1', "No closing quotation in 'tasks \"1'"),
        ("%fate jobs --out 1x", "--out wants a Python variable name, not '1x'"),
        ("%fate submit", "submit takes the job from the cell body"),
        ("%%fate jobs\nx: 1", "only submit takes a cell body, not jobs"),
        ("%%fate submit --timeout 5\nx: 1", "submit takes --timeout with --wait only"),
    ],
)
def test_bad_arguments_are_one_line(
    bare_ip: InteractiveShell, capsys: pytest.CaptureFixture[str], cell: str, message: str
) -> None:
    """Misuse is refused before any server is asked, in one line."""
    assert message in error_line(bare_ip, capsys, cell)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("components: [", "the cell is neither JSON nor YAML: "),
        (
            '{"dsl": {}\n "conf": {}}',
            "the cell is not valid JSON: Expecting ',' delimiter (line 2, ",
        ),
        ("- a list", "the cell must hold a mapping, not list"),
        ("components: {}", "the cell needs job_dsl and job_runtime_conf (or dsl and conf)"),
        ("dsl: {}", "the cell has dsl and conf: missing conf"),
        ("job_dsl: {}\njob_runtime_conf: {}\nextra: 1", "unknown keys extra"),
        ("dsl: {}\nconf: no_such_conf.json", "conf: no file 'no_such_conf.json'"),
        ("dsl: [1]\nconf: {}", "dsl must be a mapping or a file's path, not list"),
    ],
)
def test_a_submit_cell_that_holds_no_job_is_one_line(
    bare_ip: InteractiveShell, capsys: pytest.CaptureFixture[str], body: str, message: str
) -> None:
    """What is wrong with the cell body, said before anything is sent."""
    assert message in error_line(bare_ip, capsys, f"%%fate submit\n{body}")


def test_upload_a_file_a_dataframe_and_drop(
    ip: InteractiveShell, live_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """upload returns the upload's dict; a second upload needs --drop; a DataFrame by name."""
    path = live_root / "breast_hetero_guest.csv"
    uploaded = fate(ip, f"upload {path} --namespace magics --table guest --partition 2")
    assert uploaded["count"] == 569
    assert (uploaded["namespace"], uploaded["table_name"]) == ("magics", "guest")
    assert magics(ip).client.table_info("magics", "guest")["partition"] == 2

    refused = error_line(ip, capsys, f"%fate upload {path} -n magics -t guest")
    assert "already exists" in refused and "retcode" in refused

    ip.user_ns["frame"] = pd.read_csv(path).head(30)
    replaced = fate(ip, "upload frame -n magics -t guest --drop")
    assert replaced["count"] == 30


def test_jobs_and_tasks_are_typed_frames(
    ip: InteractiveShell, hetero_lr_job: dict[str, Any]
) -> None:
    """jobs lists the initiator's rows, newest first; tasks one row per component and party."""
    jobs = fate(ip, "jobs --limit 2")
    assert isinstance(jobs, pd.DataFrame) and len(jobs) == 2
    assert list(jobs.columns[: len(JOB_COLUMNS)]) == JOB_COLUMNS
    assert jobs["is_initiator"].all()
    assert pd.api.types.is_datetime64_any_dtype(jobs["create_time"])

    job_id = hetero_lr_job["job_id"]
    tasks = fate(ip, f"tasks {job_id}")
    assert list(tasks.columns[:5]) == ["job_id", "component_name", "role", "party_id", "status"]
    assert set(tasks["component_name"]) == {
        "dataio_0",
        "intersection_0",
        "hetero_lr_0",
        "evaluation_0",
    }
    assert set(tasks["status"]) == {"success"}
    lr_host = fate(ip, f"tasks {job_id} hetero_lr_0 --role host --party {examples.HOST}")
    assert list(zip(lr_host["component_name"], lr_host["role"], strict=True)) == [
        ("hetero_lr_0", "host")
    ]


def test_metrics_as_an_assigned_frame(
    ip: InteractiveShell, hetero_lr_job: dict[str, Any], session_client: FlowClient
) -> None:
    """``df = %fate metrics JOB COMPONENT`` binds metric_all's long frame; $job_id expands."""
    ip.user_ns["job_id"] = hetero_lr_job["job_id"]
    assert ip.run_cell("df = %fate metrics $job_id evaluation_0").success
    metrics = ip.user_ns["df"]
    assert list(metrics.columns) == METRIC_COLUMNS
    auc = metrics[(metrics["name"] == "hetero_lr_0") & (metrics["key"] == "auc")]["value"]
    assert auc.iloc[0] > 0.98

    guest = fate(ip, f"metrics {hetero_lr_job['job_id']} evaluation_0 -r guest -p 9999")
    pd.testing.assert_frame_equal(guest, metrics)
    loss = fate(ip, f"metrics {hetero_lr_job['job_id']} hetero_lr_0 --role arbiter -p 10000")
    assert "loss" in set(loss["name"])
    expected = session_client.metric_all(hetero_lr_job["job_id"], "hetero_lr_0", role="arbiter")
    pd.testing.assert_frame_equal(loss, expected)


def test_output_is_the_whole_table(
    ip: InteractiveShell,
    hetero_lr_job: dict[str, Any],
    session_client: FlowClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """output returns every row, typed as the client's; another party's; a wrong --data."""
    job_id = hetero_lr_job["job_id"]
    output = fate(ip, f"output {job_id} hetero_lr_0")
    assert len(output) == 569
    assert output["predict_score"].dtype == "float64"
    pd.testing.assert_frame_equal(output, session_client.output_data(job_id, "hetero_lr_0"))

    host = fate(ip, f"output {job_id} dataio_0 --role host --party {examples.HOST}")
    assert len(host) == 569 and "y" not in host.columns

    message = error_line(ip, capsys, f"%fate output {job_id} hetero_lr_0 --data nope")
    assert message.startswith("output: ") and "'nope'" in message


@pytest.mark.parametrize("subcommand", ["metrics", "output"])
def test_a_role_the_job_lacks_is_one_line(
    ip: InteractiveShell,
    hetero_lr_job: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    subcommand: str,
) -> None:
    """-r with a role the job has no party in: the client refuses it, in one line naming it."""
    job_id = hetero_lr_job["job_id"]
    message = error_line(ip, capsys, f"%fate {subcommand} {job_id} hetero_lr_0 -r nonrole")
    assert message.startswith(f"{subcommand}: ")
    assert "nonrole" in message and job_id in message


def test_watch_and_dag_return_their_widgets(
    ip: InteractiveShell, hetero_lr_job: dict[str, Any]
) -> None:
    """watch is a polling JobMonitor of the job, dag a DagView with every component's status."""
    from fate_nb.widgets import DagView, JobMonitor

    job_id = hetero_lr_job["job_id"]
    monitor = fate(ip, f"watch {job_id}")
    try:
        assert isinstance(monitor, JobMonitor)
        assert monitor.job_id == job_id and monitor.client is magics(ip).client
        assert monitor.wait(timeout=60) == "success"
    finally:
        monitor.close()

    dag = fate(ip, f"dag {job_id}")
    assert isinstance(dag, DagView) and dag.job_id == job_id
    assert set(dag.statuses.values()) == {"success"}
    assert set(dag.statuses) == {"dataio_0", "intersection_0", "hetero_lr_0", "evaluation_0"}
    dag.widget.close()


def test_submit_a_json_body_and_wait(
    ip: InteractiveShell, breast_tables: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A JSON submit body (job_dsl, job_runtime_conf) with --wait: the answer and the status."""
    body = json.dumps(examples.scale_job(), indent=2)
    answer = fate(ip, "submit --wait --timeout 120", body)
    assert answer["status"] == "success"
    assert answer["model_info"]["model_version"] == answer["job_id"]
    assert capsys.readouterr().err == ""


def test_submit_a_yaml_body_into_a_variable(
    ip: InteractiveShell, breast_tables: dict[str, Any], session_client: FlowClient
) -> None:
    """A YAML body with dsl and conf; --out binds the answer and shows nothing."""
    job = examples.scale_job()
    body = yaml.safe_dump({"dsl": job["job_dsl"], "conf": job["job_runtime_conf"]})
    result = ip.run_cell(f"%%fate submit --out job\n{body}")
    assert result.success and result.result is None
    answer = ip.user_ns["job"]
    assert set(answer) >= {"job_id", "model_info"} and "status" not in answer
    assert session_client.wait(answer["job_id"], timeout=120) == "success"

    waited = ip.run_cell(f"%%fate submit --wait --out waited\n{body}")
    assert waited.success and ip.user_ns["waited"]["status"] == "success"


def test_submit_files_named_in_the_cell(
    ip: InteractiveShell, breast_tables: dict[str, Any], tmp_path: Path
) -> None:
    """dsl and conf may each be the path of a JSON or YAML file."""
    job = examples.scale_job()
    (tmp_path / "dsl.json").write_text(json.dumps(job["job_dsl"]))
    (tmp_path / "conf.yaml").write_text(yaml.safe_dump(job["job_runtime_conf"]))
    body = f"dsl: {tmp_path / 'dsl.json'}\nconf: {tmp_path / 'conf.yaml'}\n"
    assert fate(ip, "submit --wait", body)["status"] == "success"


def test_a_dsl_file_without_a_mapping_is_one_line(
    ip: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DSL file holding a list: the client refuses it before sending, in one line."""
    (tmp_path / "dsl.yaml").write_text("- dataio_0\n")
    body = f"dsl: {tmp_path / 'dsl.yaml'}\nconf: {{}}\n"
    message = error_line(ip, capsys, f"%%fate submit\n{body}")
    assert message.startswith("submit: ") and "DSL" in message


def test_fate_refuses_a_job_in_one_line(
    ip: InteractiveShell, session_client: FlowClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """The server's refusal of a DSL is the line, retmsg and retcode both."""
    job = examples.scale_job()
    job["job_dsl"]["components"]["dataio_0"]["module"] = "NoSuchModule"
    with pytest.raises(FateFlowError) as refused:
        session_client.submit(copy.deepcopy(job))

    message = error_line(ip, capsys, f"%%fate submit\n{json.dumps(job)}")
    assert refused.value.retmsg in message
    assert f"(retcode {refused.value.retcode})" in message


def test_an_interrupted_wait_keeps_the_job(
    ip: InteractiveShell,
    breast_tables: dict[str, Any],
    session_client: FlowClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C during --wait is one line naming the job, which --out has bound already."""

    def interrupted(job_id: str, timeout: float | None = None) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(magics(ip).client, "wait", interrupted)
    body = json.dumps(examples.scale_job())
    message = error_line(ip, capsys, f"%%fate submit --wait --out job\n{body}")
    job_id = ip.user_ns["job"]["job_id"]
    assert message == f"stopped waiting; job {job_id} goes on (%fate stop {job_id} stops it)"
    assert session_client.wait(job_id, timeout=120) == "success"


def test_stop_cancels_a_running_job(
    ip: InteractiveShell,
    breast_tables: dict[str, Any],
    session_client: FlowClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wait's timeout is one line; stop returns the job id and the answer; the job ends."""
    slow = examples.hetero_lr_job()
    slow["job_runtime_conf"]["algorithm_parameters"]["hetero_lr_0"]["max_iter"] = 500
    slow["job_runtime_conf"]["algorithm_parameters"]["hetero_lr_0"]["tol"] = 0
    cell = f"%%fate submit --wait --timeout 0.5 --out job\n{json.dumps(slow)}"
    message = error_line(ip, capsys, cell)
    job_id = ip.user_ns["job"]["job_id"]
    assert f"job {job_id} is still " in message and "after 0.5 s" in message

    stopped = fate(ip, f"stop {job_id}")
    assert stopped["job_id"] == job_id and stopped["retcode"] == 0
    assert session_client.wait(job_id, timeout=120) == "canceled"
    again = fate(ip, f"stop {job_id}")
    assert "already ended (canceled)" in again["retmsg"]


_UNKNOWN_JOB_CALLS = {
    "tasks": lambda client: client.query_task(UNKNOWN_JOB),
    "watch": lambda client: client.job_status(UNKNOWN_JOB),
    "dag": lambda client: client.job_status(UNKNOWN_JOB),
    "metrics": lambda client: client.metric_all(UNKNOWN_JOB, "evaluation_0"),
    "output": lambda client: client.output_data(UNKNOWN_JOB, "hetero_lr_0"),
    "stop": lambda client: client.stop_job(UNKNOWN_JOB),
}


@pytest.mark.parametrize("subcommand", sorted(_UNKNOWN_JOB_CALLS))
def test_an_unknown_job_is_one_line_with_fates_message(
    ip: InteractiveShell,
    session_client: FlowClient,
    capsys: pytest.CaptureFixture[str],
    subcommand: str,
) -> None:
    """Each sub-command about a job shows FATE's retmsg for an unknown one, no traceback."""
    with pytest.raises(FateFlowError) as raised:
        _UNKNOWN_JOB_CALLS[subcommand](session_client)
    component = {"metrics": " evaluation_0", "output": " hetero_lr_0"}.get(subcommand, "")

    message = error_line(ip, capsys, f"%fate {subcommand} {UNKNOWN_JOB}{component}")
    assert message == str(raised.value)
    assert raised.value.retmsg in message and UNKNOWN_JOB in message
