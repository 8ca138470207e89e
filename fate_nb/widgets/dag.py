"""DagView: a job's DAG drawn with graphviz, components filled by their tasks' status."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import graphviz
import ipywidgets as widgets
import pandas as pd

from fate_nb.exceptions import InvalidArgument
from fate_nb.widgets._style import default_client, error_html, status_color

if TYPE_CHECKING:
    from fate_nb.client import FlowClient

DOT_MISSING = "Graphviz's dot is not installed: apt-get install graphviz"
# Inputs that are not components of the job: tables (v1) and a predict job's trained models.
ARGS, PIPELINE = "args.", "pipeline."

# A component's status from its tasks' statuses, the first that any task has winning.
_PRECEDENCE = ("failed", "timeout", "canceled", "running")


class InvalidDsl(InvalidArgument):
    """A DSL that cannot be drawn (a FateNbError and a ValueError); the message names why."""


def parse_dsl(dsl: Mapping[str, Any]) -> dict[str, Any]:
    """A DSL (v1 or v2, or a submit body with ``job_dsl``) as ``dag/dependency`` answers it.

    Returns ``component_list``, ``component_module`` and ``dependencies``: for each component,
    its upstream components as ``{"component_name": ..., "type": "data" | "model"}``;
    ``args.<key>`` inputs are tables, not components, and are left out. A predict DSL's
    ``pipeline.<component>.<alias>`` model inputs are trained models of another job, not
    components of this one: they are left out of ``dependencies`` too (as the server does)
    and listed in ``trained_models``, ``{component: [ref, ...]}``. Raises ``InvalidDsl``
    when the DSL is not a mapping of components, each with a module and lists of inputs.
    """
    if isinstance(dsl, Mapping) and "job_dsl" in dsl:
        dsl = _mapping(dsl["job_dsl"], "job_dsl")
    components = dsl.get("components") if isinstance(dsl, Mapping) else None
    if not isinstance(components, Mapping) or not components:
        raise InvalidDsl("the DSL has no components; give {'components': {'<name>': {...}}}")
    modules: dict[str, str] = {}
    dependencies: dict[str, list[dict[str, str]]] = {}
    trained: dict[str, list[str]] = {}
    for name, spec in components.items():
        path = f"components.{name}"
        module = _mapping(spec, path).get("module")
        if not isinstance(module, str) or not module:
            raise InvalidDsl(f"{path} has no module; give one, such as 'module': 'DataIO'")
        modules[str(name)] = module
        inputs = _mapping(spec.get("input"), f"{path}.input")
        data = _mapping(inputs.get("data"), f"{path}.input.data")
        refs = [
            (ref, "data")
            for key, value in data.items()
            for ref in _strings(value, f"{path}.input.data.{key}")
        ]
        for key in ("model", "isometric_model"):
            refs += [(ref, "model") for ref in _strings(inputs.get(key), f"{path}.input.{key}")]
        upstream = []
        for ref, kind in refs:
            if ref.startswith(PIPELINE):
                trained.setdefault(str(name), []).append(ref)
                continue
            edge = {"component_name": ref.partition(".")[0], "type": kind}
            if not ref.startswith(ARGS) and edge not in upstream:
                upstream.append(edge)
        if upstream:
            dependencies[str(name)] = upstream
    return {
        "component_list": list(modules),
        "component_module": modules,
        "dependencies": dependencies,
        "trained_models": trained,
    }


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidDsl(f"{path} must be a mapping, not {type(value).__name__}")
    return value


def _strings(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(ref, str) for ref in value):
        raise InvalidDsl(
            f"{path} must be a list of strings such as ['dataio_0.train'], not {value!r}"
        )
    return list(value)


def component_statuses(tasks: pd.DataFrame | None) -> dict[str, str]:
    """Each component's status from its tasks (``query_task``'s frame), over every party."""
    if tasks is None or tasks.empty:
        return {}
    statuses = {}
    for name, group in tasks.groupby("component_name", sort=False):
        found = {str(status) for status in group["status"]}
        winner = next((status for status in _PRECEDENCE if status in found), None)
        if winner is None:
            if found == {"success"}:
                winner = "success"
            elif "success" in found:
                winner = "running"  # some parties done, the others about to start
            else:
                winner = sorted(found)[0] if found else "waiting"
        statuses[str(name)] = winner
    return statuses


class DagView:
    """A job's DAG as a graphviz drawing in an HTML widget, filled by status.

    Edges are labelled data or model (dashed); ``args.<key>`` table inputs are not drawn.
    A predict DSL's ``pipeline.<component>.<alias>`` model inputs (``flow model deploy``'s)
    name models trained by another job, not components of this one: like FATE's own DAG,
    the view draws no edge for them; the reading component's tooltip names the model, and
    ``trained_models`` lists them by component.

    Parameters
    ----------
    job_id_or_dsl
        A job id, whose DAG and task statuses come from the server; or a DSL dict (v1 or v2,
        or ``{"job_dsl": ...}``), drawn without the server. A DSL that cannot be drawn (no
        components, a component without a module, inputs that are not lists of names) shows
        what is wrong instead, also kept as ``.error``.
    client
        The server's client; ``FlowClient()`` when None and a job id is given.
    load
        For a job id: fetch the DAG now. False waits for ``refresh()`` or ``apply()``.

    Examples
    --------
    >>> DagView("202612031636377934201")                       # doctest: +SKIP
    >>> DagView(examples.hetero_lr_job()["job_dsl"]).svg()     # doctest: +SKIP
    """

    def __init__(
        self,
        job_id_or_dsl: str | Mapping[str, Any],
        client: FlowClient | None = None,
        *,
        load: bool = True,
    ) -> None:
        self.widget = widgets.HTML()
        self.components: dict[str, str] = {}
        self.edges: list[tuple[str, str, str]] = []
        self.statuses: dict[str, str] = {}
        self.trained_models: dict[str, list[str]] = {}
        self.error = ""
        self.dot_missing = False
        self._dependency: dict[str, Any] | None = None
        self._rendered: tuple[Any, ...] | None = None
        if isinstance(job_id_or_dsl, str):
            self.job_id: str | None = job_id_or_dsl
            self.client: FlowClient | None = default_client(client)
            if load:
                self.refresh()
        else:
            self.job_id, self.client = None, client
            try:
                dependency = parse_dsl(job_id_or_dsl)
            except InvalidDsl as error:
                self.show_error(f"cannot draw this DSL: {error}")
            else:
                self.apply(dependency)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def refresh(self) -> dict[str, str]:
        """Fetch the job's DAG (once) and its task statuses, redraw; return the statuses."""
        if self.job_id is None or self.client is None:
            return self.statuses
        if self._dependency is None:
            self._dependency = self.client.dag_dependency(self.job_id)
        self.apply(self._dependency, self.client.query_task(self.job_id))
        return self.statuses

    def apply(self, dependency: Mapping[str, Any], tasks: pd.DataFrame | None = None) -> None:
        """Take a ``dag/dependency`` answer and ``query_task``'s frame; redraw if changed."""
        self._dependency = dict(dependency)
        modules = dependency.get("component_module") or {}
        names = list(dependency.get("component_list") or modules)
        edges = []
        for name, upstream in (dependency.get("dependencies") or {}).items():
            for edge in upstream:
                source = edge["component_name"]
                if source not in names:
                    names.append(source)
                edges.append((source, name, str(edge.get("type", "data"))))
        self.components = {name: str(modules.get(name, "")) for name in names}
        self.edges = list(dict.fromkeys(edges))
        self.trained_models = dict(dependency.get("trained_models") or {})
        self.error = ""
        if tasks is not None:
            self.statuses = component_statuses(tasks)
        self.render()

    @property
    def graph(self) -> graphviz.Digraph:
        """The DAG as a graphviz ``Digraph``."""
        graph = graphviz.Digraph("dag", graph_attr={"rankdir": "TB"})
        graph.attr("node", shape="box", style="rounded,filled", fontname="Helvetica")
        graph.attr("edge", fontname="Helvetica", fontsize="10")
        for name, module in self.components.items():
            status = self.statuses.get(name, "")
            label = f"{name}\n{module}" if module else name
            tooltip = f"{name}: {status}" if status else name
            for ref in self.trained_models.get(name, []):
                tooltip += f"\nreads the trained model {ref}"
            graph.node(name, label=label, fillcolor=status_color(status), tooltip=tooltip)
        for source, target, kind in self.edges:
            graph.edge(source, target, label=kind, style="dashed" if kind == "model" else "solid")
        return graph

    def svg(self) -> str:
        """The drawing as SVG text; raises ``graphviz.ExecutableNotFound`` without ``dot``."""
        return self.graph.pipe(format="svg", encoding="utf-8")

    def text(self) -> str:
        """The DAG as text: one ``source -> target (kind)`` line per edge, then lone components."""
        lines = [f"{source} -> {target} ({kind})" for source, target, kind in self.edges]
        linked = {name for edge in self.edges for name in edge[:2]}
        lines += [name for name in self.components if name not in linked]
        return "\n".join(lines)

    def show_error(self, message: str) -> None:
        """Show a message instead of a drawing, and forget the DAG; ``error`` holds it."""
        self.components, self.edges, self.trained_models = {}, [], {}
        self.error = message
        self.widget.value = error_html(message)
        self._rendered = None

    def render(self) -> None:
        """Draw into the widget; without ``dot``, a message and the edge list instead."""
        key = (
            tuple(self.components.items()),
            tuple(self.edges),
            tuple(self.statuses.items()),
            tuple((name, tuple(refs)) for name, refs in self.trained_models.items()),
        )
        if key == self._rendered:
            return
        try:
            svg = self.svg()
        except graphviz.ExecutableNotFound:
            self.dot_missing = True
            lines = [self.text(), *(f"{n}: {status}" for n, status in self.statuses.items())]
            text = html.escape("\n".join(line for line in lines if line))
            self.widget.value = f"{error_html(DOT_MISSING)}<pre>{text}</pre>"
        else:
            self.dot_missing = False
            self.widget.value = svg[svg.find("<svg") :]
        self._rendered = key
