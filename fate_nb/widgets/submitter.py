"""JobSubmitter: DSL and conf editors, FATE's example jobs, a server check, submit and watch."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import yaml

from fate_nb import examples
from fate_nb._job_calls import yaml_problem
from fate_nb.exceptions import FateFlowError, FateNbError, InvalidArgument
from fate_nb.widgets._style import default_client, error_html
from fate_nb.widgets.dag import DagView
from fate_nb.widgets.monitor import JobMonitor

if TYPE_CHECKING:
    from fate_nb.client import FlowClient


def _editor_layout() -> widgets.Layout:
    return widgets.Layout(width="100%", height="320px")


def parse_text(text: str, what: str) -> dict[str, Any]:
    """An editor's text as a dict: JSON or YAML; ``InvalidArgument`` saying what is wrong.

    Text that starts with ``{`` and is neither is reported with JSON's error and where it
    is; YAML's flow style (``{components: ...}``) is still accepted.
    """
    if not text.strip():
        raise InvalidArgument(f"the {what} is empty")
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as yaml_error:
            if text.lstrip().startswith("{"):
                where = f"line {json_error.lineno}, column {json_error.colno}"
                problem = f"is not valid JSON: {json_error.msg} ({where})"
            else:
                problem = f"is neither JSON nor YAML: {yaml_problem(yaml_error)}"
            raise InvalidArgument(f"the {what} {problem}") from None
    if not isinstance(loaded, dict):
        raise InvalidArgument(f"the {what} must be a mapping, not {type(loaded).__name__}")
    return loaded


class JobSubmitter:
    """Editors for a job's DSL and runtime conf, checked by the server, submitted and watched.

    Pick one of FATE's example jobs from the preset list or write your own (JSON or YAML).
    Check asks the server to validate the job without running it and draws the accepted
    DSL's DAG; a refusal, a parse error or an edit removes that drawing, so it never shows
    a DSL other than the one checked. Submit submits the job and opens a ``JobMonitor``
    beneath, also kept as ``.monitor``. Errors show under the editors.

    Parameters
    ----------
    client
        The server's client; ``FlowClient()`` when None.
    interval
        Seconds between the monitor's polls.

    Examples
    --------
    >>> submitter = JobSubmitter()                 # doctest: +SKIP
    >>> submitter.preset.value = "hetero_lr"       # doctest: +SKIP
    >>> submitter.submit()                         # doctest: +SKIP
    '202612031636377934201'
    """

    def __init__(self, client: FlowClient | None = None, interval: float = 1.0) -> None:
        self.client = default_client(client)
        self.interval = interval
        self.monitor: JobMonitor | None = None
        self.preview: DagView | None = None
        self.preset = widgets.Dropdown(
            options=[("(choose an example job)", ""), *((n, n) for n in examples.names())],
            value="",
            description="preset",
        )
        self.preset.observe(self._on_preset, names="value")
        self.dsl_editor = widgets.Textarea(
            placeholder="job DSL, JSON or YAML", layout=_editor_layout()
        )
        self.conf_editor = widgets.Textarea(
            placeholder="runtime conf, JSON or YAML", layout=_editor_layout()
        )
        for editor in (self.dsl_editor, self.conf_editor):
            editor.observe(self._on_edit, names="value")
        self.check_button = widgets.Button(description="Check", icon="check")
        self.submit_button = widgets.Button(description="Submit", button_style="primary")
        self.check_button.on_click(lambda _button: self.check())
        self.submit_button.on_click(lambda _button: self.submit())
        self.error = widgets.HTML()
        self.message = widgets.HTML()
        self.preview_box = widgets.VBox()
        self.monitor_box = widgets.VBox()
        editors = widgets.HBox(
            [
                widgets.VBox([widgets.HTML("<b>DSL</b>"), self.dsl_editor]),
                widgets.VBox([widgets.HTML("<b>runtime conf</b>"), self.conf_editor]),
            ],
            layout=widgets.Layout(width="100%"),
        )
        buttons = widgets.HBox([self.preset, self.check_button, self.submit_button])
        self.widget = widgets.VBox(
            [buttons, editors, self.error, self.message, self.preview_box, self.monitor_box]
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _on_preset(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.load(change["new"])

    def _on_edit(self, _change: dict[str, Any]) -> None:
        if self.preview is not None:  # the check's answer and drawing are out of date
            self.message.value = ""
            self._show_preview(None)

    def load(self, name: str) -> None:
        """Fill both editors with an example job (``fate_nb.examples.names()``)."""
        job = examples.job(name)
        self.dsl_editor.value = json.dumps(job["job_dsl"], indent=2)
        self.conf_editor.value = json.dumps(job["job_runtime_conf"], indent=2)
        self.error.value = self.message.value = ""

    def parse(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The editors' DSL and conf, or None with the parse errors shown."""
        problems, parsed = [], []
        for editor, what in ((self.dsl_editor, "DSL"), (self.conf_editor, "runtime conf")):
            try:
                parsed.append(parse_text(editor.value, what))
            except ValueError as error:
                problems.append(str(error))
        self.error.value = error_html("\n".join(problems)) if problems else ""
        if problems:
            self._show_preview(None)
            return None
        return parsed[0], parsed[1]

    def check(self) -> dict[str, Any] | None:
        """Validate the job on the server; its DAG (and a preview of it), or None if refused."""
        self.message.value = ""
        parsed = self.parse()
        if parsed is None:
            return None
        try:
            dependency = self.client.check_job(*parsed)
        except (FateNbError, ValueError) as error:
            self._refused(error)
            return None
        names = dependency.get("component_list") or []
        self.message.value = (
            f"<span style='color:#38761d'>The server accepts this job: {len(names)} "
            f"components ({html.escape(', '.join(names))}).</span>"
        )
        self._show_preview(parsed[0])
        return dependency

    def submit(self) -> str | None:
        """Submit the job and open a monitor beneath; its job id, or None if refused."""
        self.message.value = ""
        parsed = self.parse()
        if parsed is None:
            return None
        try:
            job = self.client.submit(*parsed)
        except (FateNbError, ValueError) as error:
            self._refused(error)
            return None
        job_id = str(job["job_id"])
        self.message.value = f"Submitted job <b>{html.escape(job_id)}</b>."
        self._show_preview(None)
        if self.monitor is not None:
            self.monitor.close()
        self.monitor = JobMonitor(job_id, self.client, interval=self.interval)
        self.monitor_box.children = (self.monitor.widget,)
        return job_id

    def _refused(self, error: Exception) -> None:
        self._show_preview(None)
        if isinstance(error, FateFlowError):
            self.error.value = error_html(f"The server refused the job: {error.retmsg}")
        else:
            self.error.value = error_html(str(error))

    def _show_preview(self, dsl: dict[str, Any] | None) -> None:
        if self.preview is not None:
            self.preview.widget.close()
            self.preview = None
        if dsl is not None:
            self.preview = DagView(dsl)
        self.preview_box.children = (self.preview.widget,) if self.preview else ()
