"""JobSubmitter: presets, parse errors, the server's refusals shown, submit opening a monitor."""

from __future__ import annotations

import copy
import html
import json
from typing import Any

import yaml

from fate_nb import examples
from fate_nb.client import FlowClient
from fate_nb.widgets import JobMonitor, JobSubmitter


def _error(submitter: JobSubmitter) -> str:
    return html.unescape(submitter.error.value)


def test_a_preset_fills_both_editors_and_passes_the_check(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """Choosing an example job fills the DSL and conf; the server accepts it and a DAG shows."""
    submitter = JobSubmitter(session_client)
    assert [value for _, value in submitter.preset.options] == ["", *examples.names()]

    submitter.preset.value = "hetero_lr"
    job = examples.job("hetero_lr")
    assert json.loads(submitter.dsl_editor.value) == job["job_dsl"]
    assert json.loads(submitter.conf_editor.value) == job["job_runtime_conf"]

    dependency = submitter.check()
    assert dependency is not None
    assert dependency["component_list"] == list(job["job_dsl"]["components"])
    assert "The server accepts this job: 4 components" in submitter.message.value
    assert submitter.error.value == ""
    assert submitter.preview is not None
    assert submitter.preview_box.children == (submitter.preview.widget,)


def test_an_invalid_dsl_is_refused_with_the_servers_message(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """A cycle and an unknown module: Check and Submit show the server's retmsg, nothing runs."""
    submitter = JobSubmitter(session_client)
    submitter.preset.value = "feature_scale"
    cycle = copy.deepcopy(examples.SCALE_DSL)
    cycle["components"]["dataio_0"]["input"]["data"]["data"] = ["feature_scale_0.train"]
    submitter.dsl_editor.value = json.dumps(cycle)

    assert submitter.check() is None
    assert "The server refused the job: component dependencies form a loop" in _error(submitter)
    assert "dataio_0 -> feature_scale_0 -> dataio_0" in _error(submitter)
    assert submitter.preview is None

    unknown = copy.deepcopy(examples.SCALE_DSL)
    unknown["components"]["feature_scale_0"]["module"] = "NoSuchModule"
    submitter.dsl_editor.value = json.dumps(unknown)
    submitter.submit_button.click()
    assert submitter.monitor is None
    assert submitter.monitor_box.children == ()
    assert "feature_scale_0 has unknown module 'NoSuchModule'" in _error(submitter)


def test_parse_errors_are_shown_by_the_editors() -> None:
    """Text that is neither JSON nor YAML, or not a mapping, is refused before the server."""
    submitter = JobSubmitter(FlowClient("http://127.0.0.1:9/", "unused"))
    submitter.dsl_editor.value = '{"components": '
    submitter.conf_editor.value = "[1, 2]"

    assert submitter.check() is None
    assert submitter.submit() is None
    assert "the DSL is not valid JSON: Expecting value (line 1, column 16)" in _error(submitter)
    assert "the runtime conf must be a mapping, not list" in _error(submitter)

    submitter.dsl_editor.value = ""
    submitter.parse()
    assert "the DSL is empty" in _error(submitter)


def test_yaml_is_accepted_and_submit_opens_a_monitor(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """The example job as YAML; Submit answers the job id and watches it to success."""
    submitter = JobSubmitter(session_client, interval=0.2)
    job = examples.scale_job()
    submitter.dsl_editor.value = yaml.safe_dump(job["job_dsl"])
    submitter.conf_editor.value = yaml.safe_dump(job["job_runtime_conf"])

    job_id = submitter.submit()
    assert job_id is not None
    assert isinstance(submitter.monitor, JobMonitor)
    assert submitter.monitor.job_id == job_id
    assert submitter.monitor_box.children == (submitter.monitor.widget,)
    assert job_id in submitter.message.value
    assert submitter.monitor.wait(timeout=120) == "success"
    assert session_client.job_status(job_id) == "success"


def test_broken_json_is_reported_with_jsons_error() -> None:
    """Text starting with "{" that does not parse: JSON's message, line and column, not
    YAML's; other text gets YAML's problem on one line; YAML's flow style is accepted."""
    submitter = JobSubmitter(FlowClient("http://127.0.0.1:9/", "unused"))
    submitter.dsl_editor.value = '{\n  "components": {\n    "dataio_0": {"module": "DataIO"\n  }\n'
    submitter.conf_editor.value = "initiator:\n  role: [guest\n"

    assert submitter.parse() is None
    assert "the DSL is not valid JSON: Expecting ',' delimiter (line 5, column 1)\n" in (
        _error(submitter)
    )
    assert (
        "the runtime conf is neither JSON nor YAML: expected ',' or ']', but got "
        "'<stream end>' (line 3, column 1)" in _error(submitter)
    )

    submitter.dsl_editor.value = "{components: {dataio_0: {module: DataIO}}}"
    submitter.conf_editor.value = '{"initiator": {"role": "guest"}}'
    assert submitter.parse() == (
        {"components": {"dataio_0": {"module": "DataIO"}}},
        {"initiator": {"role": "guest"}},
    )
    assert submitter.error.value == ""


def test_a_refused_check_leaves_no_stale_dag(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """After an accepted check, a refused check, an edit or a parse error removes the DAG
    and the acceptance, so the picture never shows a DSL other than the checked one."""
    submitter = JobSubmitter(session_client)
    submitter.preset.value = "feature_scale"
    assert submitter.check() is not None and submitter.preview is not None

    unknown = copy.deepcopy(examples.SCALE_DSL)
    unknown["components"]["feature_scale_0"]["module"] = "NoSuchModule"
    submitter.dsl_editor.value = json.dumps(unknown)
    assert submitter.check() is None
    assert "feature_scale_0 has unknown module 'NoSuchModule'" in _error(submitter)
    assert submitter.preview is None and submitter.preview_box.children == ()
    assert submitter.message.value == ""

    submitter.dsl_editor.value = json.dumps(examples.SCALE_DSL)
    assert submitter.check() is not None
    submitter.conf_editor.value += " "  # still valid: the check's answer is now out of date
    assert submitter.preview is None and submitter.message.value == ""

    assert submitter.check() is not None
    submitter.dsl_editor.value = "{"
    assert submitter.check() is None
    assert submitter.preview is None and submitter.preview_box.children == ()


def test_a_malformed_dsl_is_refused_in_words(
    session_client: FlowClient, breast_tables: dict[str, Any]
) -> None:
    """Components that are not mappings, input lists that are strings, no module: Check
    shows the server's message, naming the culprit, and draws nothing."""
    submitter = JobSubmitter(session_client)
    submitter.preset.value = "feature_scale"
    components = examples.SCALE_DSL["components"]
    cases = {
        "components.dataio_0 must be an object, got str": {**components, "dataio_0": "DataIO"},
        "feature_scale_0.input.data.data must be a list of strings": {
            **components,
            "feature_scale_0": {
                **components["feature_scale_0"],
                "input": {"data": {"data": "dataio_0.train"}},
            },
        },
        "feature_scale_0 has unknown module None": {
            **components,
            "feature_scale_0": {"input": components["feature_scale_0"]["input"]},
        },
    }
    for message, malformed in cases.items():
        submitter.dsl_editor.value = json.dumps({"components": malformed})
        assert submitter.check() is None
        assert f"The server refused the job: {message}" in _error(submitter)
        assert submitter.preview is None
