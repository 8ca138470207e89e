"""MetricsView: a component's metrics as tables, and its curves (loss, ROC, KS...) as plots."""

from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from fate_nb.exceptions import FateNbError
from fate_nb.widgets._style import default_client, frame_table, html_table, plain

if TYPE_CHECKING:
    from fate_nb.client import FlowClient

# The plots drawn, by the metric types FATE gives their curves.
PLOTS = {
    "loss": "LOSS",
    "roc": "ROC_EVALUATION",
    "ks": "KS_EVALUATION",
    "lift": "LIFT_EVALUATION",
    "gain": "GAIN_EVALUATION",
}
_TITLES = {"loss": "Loss", "roc": "ROC", "ks": "KS", "lift": "Lift", "gain": "Gain"}
_AXES = {
    "loss": ("iteration", "loss"),
    "roc": ("false positive rate", "true positive rate"),
    "ks": ("threshold quantile", "rate"),
    "lift": ("fraction of rows", "lift"),
    "gain": ("fraction of rows", "gain"),
}
# Metrics of at most this many points are listed whole; longer ones are curves, summarised.
_SHORT = 10


class MetricsView:
    """A component's metrics: a table of values, a table of curves, and plots of the curves.

    Plots the loss (HeteroLR's is on the arbiter, which is asked when the given party has no
    loss), and Evaluation's ROC, KS, lift and gain curves, with matplotlib.

    Parameters
    ----------
    job_id, component_name
        The job and its component, e.g. ``"hetero_lr_0"`` or ``"evaluation_0"``.
    client
        The server's client; ``FlowClient()`` when None.
    role, party_id
        Whose metrics; by default the job's initiator, as in FATE.

    Examples
    --------
    >>> MetricsView(job_id, "evaluation_0")       # doctest: +SKIP
    """

    def __init__(
        self,
        job_id: str,
        component_name: str,
        client: FlowClient | None = None,
        role: str | None = None,
        party_id: int | str | None = None,
    ) -> None:
        self.job_id, self.component_name = job_id, component_name
        self.role, self.party_id = role, party_id
        self.client = default_client(client)
        self.frame = pd.DataFrame()
        self.plots: dict[str, bytes] = {}
        self.title = widgets.HTML(
            f"<b>{html.escape(component_name)}</b> of job {html.escape(job_id)}"
        )
        self.table = widgets.HTML()
        self.images = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([self.title, self.table, self.images])
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def refresh(self) -> pd.DataFrame:
        """Fetch the metrics (and the arbiter's loss if needed), redraw; return them."""
        frame = self.client.metric_all(
            self.job_id, self.component_name, role=self.role, party_id=self.party_id
        )
        if self.role is None and not (frame["metric_type"] == PLOTS["loss"]).any():
            frame = pd.concat([frame, self._arbiter_loss()], ignore_index=True)
        self.apply(frame)
        return self.frame

    def _arbiter_loss(self) -> pd.DataFrame:
        try:
            roles = self.client.query_job(self.job_id, role="arbiter")["roles"].iloc[0]
            party = roles.get("arbiter", [None])[0]
            if party is None:
                return pd.DataFrame()
            loss = self.client.metric_all(
                self.job_id, self.component_name, role="arbiter", party_id=party
            )
        except (FateNbError, LookupError, AttributeError):
            return pd.DataFrame()  # no arbiter in this job, or no task of it here
        return loss[loss["metric_type"] == PLOTS["loss"]]

    def apply(self, frame: pd.DataFrame) -> None:
        """Show ``metric_all``'s frame: the short metrics whole, the curves summed up, plotted."""
        self.frame = frame
        for image in self.images.children:
            image.close()
        if frame.empty:
            self.table.value = "<i>This component has no metrics.</i>"
            self.plots = {}
            self.images.children = ()
            return
        groups = list(frame.groupby(["namespace", "name"], sort=False))
        short = [group for _, group in groups if len(group) <= _SHORT]
        curves = [(key, group) for key, group in groups if len(group) > _SHORT]
        parts = []
        if short:
            values = pd.concat(short)[["namespace", "name", "key", "value", "metric_type"]]
            parts.append(frame_table(values, max_rows=100))
        if curves:
            parts.append(
                "<b>Curves</b>"
                + html_table(
                    ["namespace", "name", "metric_type", "points", "min", "max"],
                    [
                        (ns, name, g["metric_type"].iloc[0], len(g), *_range(g["value"]))
                        for (ns, name), g in curves
                    ],
                )
            )
        self.table.value = "".join(parts)
        self.plots = {}
        for plot, metric_type in PLOTS.items():
            chosen = [(key, g) for key, g in curves if g["metric_type"].iloc[0] == metric_type]
            if plot == "loss":
                chosen += [(k, g) for k, g in groups if len(g) <= _SHORT and _is(g, metric_type)]
            if chosen:
                self.plots[plot] = self._plot(plot, chosen, frame)
        self.images.children = tuple(
            widgets.Image(value=png, format="png") for png in self.plots.values()
        )

    def _plot(
        self, plot: str, curves: list[tuple[Any, pd.DataFrame]], frame: pd.DataFrame
    ) -> bytes:
        figure = Figure(figsize=(4.5, 3.2), dpi=100, layout="tight")
        axes = figure.subplots()
        title = _TITLES[plot]
        for (namespace, name), group in curves:
            points = group.assign(key=pd.to_numeric(group["key"], errors="coerce"))
            points = points.dropna(subset=["key"])
            if plot == "loss":
                points = points.sort_values("key")
            meta = group["meta"].iloc[0] if "meta" in group else {}
            label = f"{namespace} {(meta or {}).get('curve_name') or name}"
            auc = _summary(frame, namespace, (meta or {}).get("curve_name"), "auc")
            if plot == "roc" and auc is not None:
                label += f" (AUC {auc:.3f})"
            ks = _summary(frame, namespace, (meta or {}).get("pair_type"), "ks")
            if plot == "ks" and ks is not None:
                title = f"KS {ks:.3f}"
            axes.plot(points["key"], points["value"].astype(float), label=label)
        if plot in ("roc", "gain"):
            axes.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1)
        xlabel, ylabel = _AXES[plot]
        axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()


def _is(group: pd.DataFrame, metric_type: str) -> bool:
    return bool(group["metric_type"].iloc[0] == metric_type)


def _range(values: pd.Series) -> tuple[str, str]:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().all():
        return "", ""
    return plain(float(numbers.min())), plain(float(numbers.max()))


def _summary(frame: pd.DataFrame, namespace: str, name: str | None, key: str) -> float | None:
    """An Evaluation summary's value (``auc``, ``ks``) of one model's scores."""
    if name is None:
        return None
    rows = frame[
        (frame["namespace"] == namespace) & (frame["name"] == name) & (frame["key"] == key)
    ]
    return None if rows.empty else float(rows["value"].iloc[0])
