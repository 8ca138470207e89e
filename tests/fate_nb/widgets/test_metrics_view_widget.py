"""MetricsView on the finished hetero-LR job: the arbiter's loss, Evaluation's curves."""

from __future__ import annotations

import html
from typing import Any

from fate_nb.client import FlowClient
from fate_nb.widgets import MetricsView

PNG = b"\x89PNG\r\n\x1a\n"


def test_heterolr_plots_the_arbiters_loss(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """The guest has no loss; the view asks the arbiter and plots its curve."""
    view = MetricsView(hetero_lr_job["job_id"], "hetero_lr_0", session_client)

    assert list(view.plots) == ["loss"]
    assert view.plots["loss"].startswith(PNG)
    loss = view.frame[view.frame["metric_type"] == "LOSS"]
    assert 1 < len(loss) <= 30  # one point per iteration, at most max_iter
    assert "loss" in view.table.value and "LOSS" in view.table.value
    assert [image.value for image in view.images.children] == [view.plots["loss"]]
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()


def test_evaluation_plots_roc_ks_lift_and_gain(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """Evaluation's summary (auc, ks) is a table; its ROC, KS, lift and gain are plotted."""
    view = MetricsView(hetero_lr_job["job_id"], "evaluation_0", session_client)

    assert list(view.plots) == ["roc", "ks", "lift", "gain"]
    assert all(png.startswith(PNG) for png in view.plots.values())
    assert len(view.images.children) == 4
    summary = view.frame[view.frame["metric_type"] == "EVALUATION_SUMMARY"]
    assert set(summary["key"]) == {"auc", "ks"}
    auc = float(summary.loc[summary["key"] == "auc", "value"].iloc[0])
    assert 0.9 < auc <= 1.0
    table = html.unescape(view.table.value)
    assert "auc" in table and "hetero_lr_0_roc" in table and "ROC_EVALUATION" in table


def test_a_party_without_metrics_says_so(
    session_client: FlowClient, hetero_lr_job: dict[str, Any]
) -> None:
    """The host's Evaluation does not run: no metrics, no plots, a message."""
    view = MetricsView(
        hetero_lr_job["job_id"], "evaluation_0", session_client, role="host", party_id=10000
    )

    assert view.frame.empty
    assert view.plots == {}
    assert view.images.children == ()
    assert "no metrics" in view.table.value
