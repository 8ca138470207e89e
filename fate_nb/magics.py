"""The ``%fate`` magics: FATE-Flow from notebook cells (``%load_ext fate_nb``).

One line-and-cell magic, ``%fate SUBCOMMAND ...``, whose sub-commands call a ``FlowClient``:
tables come back as DataFrames (``df = %fate metrics ...``), live views as widgets, and every
refusal as one ``UsageError`` line instead of a traceback. ``FateMagics.__doc__`` (what
``%fate?`` shows) lists the sub-commands with an example each.
"""

from __future__ import annotations

import json
import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, argument_group, magic_arguments
from IPython.utils.process import arg_split

from fate_nb._job_calls import yaml_problem
from fate_nb.client import FlowClient
from fate_nb.exceptions import FateNbError

__all__ = ["FateMagics", "job_from_cell", "load_ipython_extension", "unload_ipython_extension"]

# The two ways a ``%%fate submit`` cell may name the DSL and the runtime conf.
CELL_KEYS = (("job_dsl", "job_runtime_conf"), ("dsl", "conf"))


@dataclass(frozen=True)
class _Spec:
    """A sub-command: its positional arguments (required, then optional) and its options."""

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def usage(self, name: str) -> str:
        words = [name, *self.required, *(f"[{word}]" for word in self.optional)]
        return " ".join(words)


_SUBCOMMANDS: dict[str, _Spec] = {
    "connect": _Spec(optional=("URL", "TOKEN")),
    "upload": _Spec(("PATH",), options=("namespace", "table", "partition", "drop", "timeout")),
    "jobs": _Spec(options=("limit",)),
    "tasks": _Spec(("JOB",), ("COMPONENT",), ("role", "party")),
    "watch": _Spec(("JOB",)),
    "dag": _Spec(("JOB",)),
    "metrics": _Spec(("JOB", "COMPONENT"), options=("role", "party")),
    "output": _Spec(("JOB", "COMPONENT"), options=("role", "party", "data")),
    "stop": _Spec(("JOB",)),
    "submit": _Spec(options=("wait", "timeout")),
}
# The options some sub-commands take and the others refuse (--out goes with every one).
_OPTIONS = sorted({option for spec in _SUBCOMMANDS.values() for option in spec.options})


@magics_class
class FateMagics(Magics):
    """The ``%fate`` magics, talking to one fate-nb server through a ``FlowClient``.

    Parameters
    ----------
    shell
        The IPython shell the magics are registered with.
    client
        The client to use; by default one is made on first use with ``FlowClient()``, which
        finds the server itself (``FATE_NB_URL``/``FATE_NB_TOKEN``, or the server that runs
        this kernel), or by ``%fate connect URL TOKEN``.
    """

    def __init__(self, shell: Any = None, client: FlowClient | None = None) -> None:
        super().__init__(shell)
        self._client = client
        self._owns_client = False

    @property
    def client(self) -> FlowClient:
        """The client the sub-commands use, made with ``FlowClient()`` on first use."""
        if self._client is None:
            self._client = FlowClient()
            self._owns_client = True
        return self._client

    def close(self) -> None:
        """Close the client if these magics made it."""
        if self._client is not None and self._owns_client:
            self._client.close()
        self._client, self._owns_client = None, False

    @magic_arguments()
    @argument(
        "subcommand", choices=list(_SUBCOMMANDS), metavar="SUBCOMMAND", help="one of those above"
    )
    @argument("params", nargs="*", metavar="ARG", help="JOB, COMPONENT, PATH, URL or TOKEN")
    @argument("-o", "--out", metavar="NAME", help="store the result in this variable, not Out")
    @argument_group("upload")
    @argument("-n", "--namespace", help="the table's namespace (required)")
    @argument("-t", "--table", help="the table's name (required)")
    @argument("--partition", type=int, help="how many partitions to store it in (default 4)")
    @argument("--drop", action="store_true", help="replace a table of the same name")
    @argument_group("jobs")
    @argument("--limit", type=int, help="how many of the newest jobs (default 20)")
    @argument_group("tasks, metrics, output")
    @argument("-r", "--role", help="the party's role (default: the job's initiator)")
    @argument("-p", "--party", type=int, help="the party's id; give it with --role")
    @argument("--data", metavar="NAME", help="output: which output table (default: the first)")
    @argument_group("submit, upload")
    @argument("--wait", action="store_true", help="submit: wait until the job ends")
    @argument("--timeout", type=float, help="seconds to wait at most")
    @line_cell_magic
    def fate(self, line: str, cell: str | None = None) -> Any:
        """Run FATE jobs and read their results; ``%fate SUBCOMMAND [ARG...] [options]``.

        JOB is a job id; IPython fills in ``$job_id`` and ``{job["job_id"]}`` first.
        Tables come back as DataFrames, so ``df = %fate metrics ...`` works.

        Sub-commands:

          connect [URL [TOKEN]]       talk to this server (default: the one found by
                                      FlowClient(), e.g. the server running this notebook)
              %fate connect http://127.0.0.1:8888/ 0123abcd
          upload PATH -n NS -t NAME [--partition N] [--drop] [--timeout S]
                                      upload a CSV file (or a DataFrame variable named
                                      PATH) and wait for it: a dict with job_id and count
              %fate upload breast_hetero_guest.csv -n experiment -t breast_hetero_guest
          jobs [--limit N]            the newest jobs, the initiator's row of each
              %fate jobs --limit 5
          tasks JOB [COMPONENT] [-r ROLE -p PARTY]
                                      the job's tasks, one row per component and party
              %fate tasks $job_id
          watch JOB                   a live JobMonitor widget of the job
              %fate watch $job_id
          dag JOB                     the job's DAG, coloured by status (a DagView)
              %fate dag $job_id
          metrics JOB COMPONENT [-r ROLE -p PARTY]
                                      every metric: namespace, name, key, value, meta
              df = %fate metrics $job_id evaluation_0
          output JOB COMPONENT [-r ROLE -p PARTY] [--data NAME]
                                      the component's whole output table
              df = %fate output $job_id hetero_lr_0 -r guest -p 9999
          stop JOB                    stop a running job or cancel a waiting one
              %fate stop $job_id
          submit [--wait [--timeout S]]   (cell magic) submit the job in the cell body:
                                      one JSON or YAML mapping, either FATE's submit body
                                      {"job_dsl": ..., "job_runtime_conf": ...} or
                                      {"dsl": ..., "conf": ...}; each value a mapping or
                                      the path of a JSON or YAML file. Returns submit's
                                      answer (job_id, model_info...), with --wait its status.
              %%fate submit --wait --out job
              dsl: {components: {...}}
              conf: {initiator: {role: guest, party_id: 9999}, ...}

        Errors, FATE's refusals and arguments the client refuses (a role the job lacks)
        among them, show as one UsageError line.
        """
        parser = self.fate.parser  # type: ignore[attr-defined]
        if not line.strip():
            raise UsageError(f"usage: %fate SUBCOMMAND ...; one of {', '.join(_SUBCOMMANDS)}")
        try:
            words = arg_split(line, strict=True)
        except ValueError as error:  # shlex: an unclosed quote
            raise UsageError(f"{error} in {line.strip()!r}") from None
        args = parser.parse_intermixed_args(words)
        spec = _SUBCOMMANDS[args.subcommand]
        params = _checked_params(args, spec)
        if args.subcommand == "submit" and cell is None:
            raise UsageError("submit takes the job from the cell body: start the cell with %%fate")
        if args.subcommand != "submit" and cell is not None:
            raise UsageError(f"only submit takes a cell body, not {args.subcommand}")
        if args.subcommand == "submit" and args.timeout is not None and not args.wait:
            raise UsageError("submit takes --timeout with --wait only")
        if args.out is not None and not (
            args.out.isidentifier() and not keyword.iskeyword(args.out)
        ):
            raise UsageError(f"--out wants a Python variable name, not {args.out!r}")

        run: Callable[..., Any] = getattr(self, f"_{args.subcommand}")
        try:
            result = run(args, *params, cell=cell) if cell is not None else run(args, *params)
        except (ValueError, LookupError) as error:  # the client refused an argument
            raise UsageError(f"{args.subcommand}: {_one_line(error)}") from None
        except FateNbError as error:
            raise UsageError(_one_line(error)) from None
        if args.out is None:
            return result
        self.shell.user_ns[args.out] = result
        return None

    def _connect(self, args: Any, url: str | None = None, token: str | None = None) -> FlowClient:
        client = FlowClient(url, token)
        try:
            client.list_jobs(limit=1)
        except FateNbError:
            client.close()
            raise
        self.close()
        self._client, self._owns_client = client, True
        return client

    def _upload(self, args: Any, path: str) -> dict[str, Any]:
        if not (args.namespace and args.table):
            raise UsageError("upload needs --namespace and --table")
        data = self.shell.user_ns.get(path)
        if not isinstance(data, pd.DataFrame):
            data = Path(path).expanduser()
            if not data.is_file():
                raise UsageError(f"upload: no file {path!r} (nor a DataFrame variable so named)")
        optional = {"partition": args.partition, "timeout": args.timeout}
        return self.client.upload(
            data,
            namespace=args.namespace,
            table_name=args.table,
            drop=args.drop,
            **{key: value for key, value in optional.items() if value is not None},
        )

    def _jobs(self, args: Any) -> pd.DataFrame:
        return self.client.list_jobs(**({} if args.limit is None else {"limit": args.limit}))

    def _tasks(self, args: Any, job_id: str, component: str | None = None) -> pd.DataFrame:
        return self.client.query_task(
            job_id, component_name=component, role=args.role, party_id=args.party
        )

    def _watch(self, args: Any, job_id: str) -> Any:
        self.client.job_status(job_id)  # an unknown job is FATE's one-line refusal
        return _widget("JobMonitor")(job_id, client=self.client)

    def _dag(self, args: Any, job_id: str) -> Any:
        self.client.job_status(job_id)
        return _widget("DagView")(job_id, client=self.client)

    def _metrics(self, args: Any, job_id: str, component: str) -> pd.DataFrame:
        return self.client.metric_all(job_id, component, role=args.role, party_id=args.party)

    def _output(self, args: Any, job_id: str, component: str) -> pd.DataFrame:
        return self.client.output_data(
            job_id, component, role=args.role, party_id=args.party, data_name=args.data
        )

    def _stop(self, args: Any, job_id: str) -> dict[str, Any]:
        return {"job_id": job_id, **self.client.stop_job(job_id)}

    def _submit(self, args: Any, *, cell: str) -> dict[str, Any]:
        dsl, conf = job_from_cell(cell)
        result = self.client.submit(dsl, conf)
        if args.out is not None:  # bound now, so an interrupted wait keeps the job id
            self.shell.user_ns[args.out] = result
        if args.wait:
            job_id = result["job_id"]
            try:
                result["status"] = self.client.wait(job_id, timeout=args.timeout)
            except KeyboardInterrupt:
                raise UsageError(
                    f"stopped waiting; job {job_id} goes on (%fate stop {job_id} stops it)"
                ) from None
        return result


def job_from_cell(text: str) -> tuple[Any, Any]:
    """The DSL and runtime conf a ``%%fate submit`` cell holds (see ``%fate?``).

    Raises ``UsageError`` with one line saying what is wrong with the cell.
    """
    if not text.strip():
        raise UsageError("%%fate submit needs the job in the cell body (see %fate?)")
    try:
        body = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = f"is neither JSON nor YAML: {yaml_problem(error)}"
        if text.lstrip().startswith("{"):  # meant as JSON: JSON's message says more
            try:
                json.loads(text)
            except json.JSONDecodeError as json_error:
                where = f"line {json_error.lineno}, column {json_error.colno}"
                problem = f"is not valid JSON: {json_error.msg} ({where})"
        raise UsageError(f"the cell {problem}") from None
    if not isinstance(body, Mapping):
        raise UsageError(f"the cell must hold a mapping, not {type(body).__name__}")

    for keys in CELL_KEYS:
        if keys[0] in body or keys[1] in body:
            break
    else:
        raise UsageError("the cell needs job_dsl and job_runtime_conf (or dsl and conf)")
    missing = [key for key in keys if key not in body]
    unknown = sorted(str(key) for key in body if key not in keys)
    if missing or unknown:
        wrong = [f"missing {', '.join(missing)}"] if missing else []
        wrong += [f"unknown keys {', '.join(unknown)}"] if unknown else []
        raise UsageError(f"the cell has {keys[0]} and {keys[1]}: {'; '.join(wrong)}")
    for key in keys:
        value = body[key]
        if isinstance(value, str) and not Path(value).expanduser().is_file():
            raise UsageError(f"{key}: no file {value!r} (give a mapping or a file's path)")
        if not isinstance(value, str | Mapping):
            raise UsageError(
                f"{key} must be a mapping or a file's path, not {type(value).__name__}"
            )
    return body[keys[0]], body[keys[1]]


def _checked_params(args: Any, spec: _Spec) -> list[str]:
    """The positional arguments, refused when too few or too many, and no foreign options."""
    name, params = args.subcommand, args.params
    if not len(spec.required) <= len(params) <= len(spec.required) + len(spec.optional):
        raise UsageError(f"usage: %fate {spec.usage(name)} (see %fate?)")
    for option in _OPTIONS:
        if getattr(args, option) not in (None, False) and option not in spec.options:
            raise UsageError(f"{name} takes no --{option}")
    return list(params)


def _widget(name: str) -> Any:
    """A widget class of ``fate_nb.widgets``, imported when first wanted."""
    try:
        from fate_nb import widgets
    except ImportError as error:
        raise UsageError(f"{name} needs fate_nb.widgets and ipywidgets: {error}") from None
    return getattr(widgets, name)


def _one_line(error: Exception) -> str:
    """An error's message on one line, as a ``UsageError`` shows it."""
    return " ".join(str(error).split())


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext fate_nb``: register the ``%fate`` magics; no server is needed yet."""
    ipython.register_magics(FateMagics(ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext fate_nb``: close the client the magics made."""
    magics = ipython.magics_manager.registry.get(FateMagics.__name__)
    if isinstance(magics, FateMagics):
        magics.close()
