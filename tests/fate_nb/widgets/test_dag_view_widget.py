"""DagView: DSLs parsed locally (v1, v2), a job's DAG from the server, and no `dot`."""

from __future__ import annotations

import copy
import html
from collections.abc import Callable
from typing import Any

import graphviz
import pytest
from widget_helpers import edge_labels, node_fills

from fate_nb import examples
from fate_nb.client import FlowClient
from fate_nb.exceptions import FateNbError
from fate_nb.widgets import DagView, InvalidDsl, parse_dsl
from fate_nb.widgets._style import STATUS_COLORS, UNKNOWN_COLOR
from fate_nb.widgets.dag import DOT_MISSING

# DSL v2 with a model input and an isometric model input, as FATE's examples have them.
V2_DSL: dict[str, Any] = {
    "components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "reader_1": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_1": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_1.data"]}, "model": ["data_transform_0.model"]},
            "output": {"data": ["data"]},
        },
        "feature_scale_0": {
            "module": "FeatureScale",
            "input": {
                "data": {"train_data": ["data_transform_0.data"]},
                "isometric_model": ["data_transform_0.model"],
            },
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}


def test_a_v1_dsl_is_drawn_without_the_server() -> None:
    """FATE's hetero-LR DSL: four components in a chain of data edges; args inputs left out."""
    view = DagView(examples.hetero_lr_job())

    assert view.client is None
    assert view.components == {
        "dataio_0": "DataIO",
        "intersection_0": "Intersection",
        "hetero_lr_0": "HeteroLR",
        "evaluation_0": "Evaluation",
    }
    assert view.edges == [
        ("dataio_0", "intersection_0", "data"),
        ("intersection_0", "hetero_lr_0", "data"),
        ("hetero_lr_0", "evaluation_0", "data"),
    ]
    svg = view.svg()
    assert svg == view.graph.pipe(format="svg", encoding="utf-8")
    assert view.widget.value == svg[svg.index("<svg") :]
    assert set(node_fills(svg).values()) == {UNKNOWN_COLOR}  # no statuses yet
    assert edge_labels(svg)[("dataio_0", "intersection_0")] == ["data"]
    assert not view.dot_missing


def test_a_v2_dsl_labels_model_and_isometric_model_edges() -> None:
    """v2's model and isometric_model inputs are model edges, its data inputs data edges."""
    assert parse_dsl(V2_DSL)["dependencies"] == {
        "data_transform_0": [{"component_name": "reader_0", "type": "data"}],
        "data_transform_1": [
            {"component_name": "reader_1", "type": "data"},
            {"component_name": "data_transform_0", "type": "model"},
        ],
        "feature_scale_0": [
            {"component_name": "data_transform_0", "type": "data"},
            {"component_name": "data_transform_0", "type": "model"},
        ],
    }
    labels = edge_labels(DagView(V2_DSL).svg())
    assert labels[("data_transform_0", "data_transform_1")] == ["model"]
    assert sorted(labels[("data_transform_0", "feature_scale_0")]) == ["data", "model"]
    assert labels[("reader_0", "data_transform_0")] == ["data"]


def test_a_jobs_dag_comes_from_the_server_with_its_statuses(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """The finished hetero-LR job: the DSL's edges, every component filled green."""
    view = DagView(hetero_lr_job["job_id"], session_client)

    assert view.edges == DagView(examples.hetero_lr_job()).edges
    assert view.statuses == dict.fromkeys(view.components, "success")
    assert node_fills(view.widget.value) == dict.fromkeys(view.components, STATUS_COLORS["success"])
    assert view.refresh() == view.statuses
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()


def test_without_dot_a_message_and_the_edge_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """With no `dot` on PATH: svg() raises graphviz's error, the widget says how to install
    it and lists the edges and statuses as text."""
    monkeypatch.setenv("PATH", str(tmp_path))
    view = DagView(examples.hetero_lr_job())

    with pytest.raises(graphviz.ExecutableNotFound):
        view.svg()
    assert view.dot_missing
    shown = html.unescape(view.widget.value)
    assert DOT_MISSING in shown
    assert "apt-get install graphviz" in shown
    assert "dataio_0 -> intersection_0 (data)\nintersection_0 -> hetero_lr_0 (data)" in shown
    assert "<svg" not in shown
    assert view.text().splitlines() == [
        "dataio_0 -> intersection_0 (data)",
        "intersection_0 -> hetero_lr_0 (data)",
        "hetero_lr_0 -> evaluation_0 (data)",
    ]

    view.statuses = {"dataio_0": "failed"}
    view.render()
    assert "hetero_lr_0 -> evaluation_0 (data)\ndataio_0: failed" in html.unescape(
        view.widget.value
    )


def test_a_predict_dsls_trained_models_are_not_components(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """The server's predict DSL reads pipeline.<component>.<alias> models: no "pipeline" node
    and no edge for them; the reading components' tooltips name the trained models."""
    model = hetero_lr_job["model_info"]
    # Other tests of the session deploy other components of this shared model: choose ours.
    session_client.deploy_model(
        model["model_id"], model["model_version"], ["dataio_0", "intersection_0", "hetero_lr_0"]
    )
    predict = session_client.predict_dsl(model["model_id"], model["model_version"])
    assert predict["components"]["hetero_lr_0"]["input"]["model"] == [
        "pipeline.hetero_lr_0.hetero_lr"
    ]

    parsed = parse_dsl(predict)
    assert parsed["component_list"] == ["dataio_0", "intersection_0", "hetero_lr_0"]
    assert parsed["dependencies"] == {
        "intersection_0": [{"component_name": "dataio_0", "type": "data"}],
        "hetero_lr_0": [{"component_name": "intersection_0", "type": "data"}],
    }
    assert parsed["trained_models"] == {
        "dataio_0": ["pipeline.dataio_0.dataio"],
        "hetero_lr_0": ["pipeline.hetero_lr_0.hetero_lr"],
    }
    view = DagView(predict)
    assert list(view.components) == ["dataio_0", "intersection_0", "hetero_lr_0"]
    assert view.edges == [
        ("dataio_0", "intersection_0", "data"),
        ("intersection_0", "hetero_lr_0", "data"),
    ]
    svg = view.svg()
    assert set(node_fills(svg)) == set(view.components)
    assert set(edge_labels(svg)) == {
        ("dataio_0", "intersection_0"),
        ("intersection_0", "hetero_lr_0"),
    }
    assert "reads the trained model pipeline.hetero_lr_0.hetero_lr" in html.unescape(svg)
    assert view.error == ""


def _with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    dsl = copy.deepcopy(examples.SCALE_DSL)
    change(dsl["components"])
    return dsl


MALFORMED = {
    "not a mapping": (["dataio_0"], "the DSL has no components"),
    "components a list": ({"components": ["dataio_0"]}, "the DSL has no components"),
    "job_dsl a string": ({"job_dsl": "dsl.json"}, "job_dsl must be a mapping, not str"),
    "component a string": (
        _with(lambda c: c.update(dataio_0="DataIO")),
        "components.dataio_0 must be a mapping, not str",
    ),
    "no module": (
        _with(lambda c: c["feature_scale_0"].pop("module")),
        "components.feature_scale_0 has no module; give one, such as 'module': 'DataIO'",
    ),
    "input a list": (
        _with(lambda c: c["feature_scale_0"].update(input=["dataio_0.train"])),
        "components.feature_scale_0.input must be a mapping, not list",
    ),
    "data a string": (
        _with(lambda c: c["feature_scale_0"]["input"].update(data="dataio_0.train")),
        "components.feature_scale_0.input.data must be a mapping, not str",
    ),
    "data list a string": (
        _with(lambda c: c["feature_scale_0"]["input"]["data"].update(data="dataio_0.train")),
        "components.feature_scale_0.input.data.data must be a list of strings such as "
        "['dataio_0.train'], not 'dataio_0.train'",
    ),
    "model a string": (
        _with(lambda c: c["feature_scale_0"]["input"].update(model="dataio_0.dataio")),
        "components.feature_scale_0.input.model must be a list of strings",
    ),
    "a reference not a string": (
        _with(lambda c: c["feature_scale_0"]["input"]["data"].update(data=[1])),
        "components.feature_scale_0.input.data.data must be a list of strings",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_dsl_shows_what_is_wrong(case: str) -> None:
    """A DSL that cannot be drawn: parse_dsl raises InvalidDsl (a FateNbError and a
    ValueError) naming the culprit; DagView shows that message instead of a traceback."""
    dsl, message = MALFORMED[case]
    with pytest.raises(InvalidDsl) as raised:
        parse_dsl(dsl)
    assert message in str(raised.value)
    assert isinstance(raised.value, FateNbError) and isinstance(raised.value, ValueError)

    view = DagView(dsl)
    assert view.error == f"cannot draw this DSL: {raised.value}"
    assert view.error in html.unescape(view.widget.value)
    assert "<svg" not in view.widget.value
    assert view.components == {} and view.edges == []
