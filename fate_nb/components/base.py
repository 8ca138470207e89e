"""What a component is, and what a running task hands it."""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Engine

from fate_nb.components.params import Params
from fate_nb.federation import Federation
from fate_nb.flow import storage, tables, tracking
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import DataError, ParameterError
from fate_nb.flow.store import ComponentModel, DataTable, Task

log = logging.getLogger(__name__)


@dataclass
class TaskContext:
    """One task of one party, as its component sees it.

    ``data_inputs`` maps the DSL's input keys (``data``, ``train_data``, ``eval_data``) to the
    tables behind them; ``model_inputs`` holds the models of ``model`` and ``isometric_model``
    inputs. Outputs go through ``save_data``, ``save_model`` and the metric methods.
    """

    config: FlowConfig
    engine: Engine
    task: Task
    params: Any
    progress: Callable[[float], None]
    job_parameters: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, list[int]] = field(default_factory=dict)
    data_inputs: dict[str, list[DataTable]] = field(default_factory=dict)
    model_inputs: list[ComponentModel] = field(default_factory=list)
    data_output: str | None = None
    model_output: str | None = None
    federation: Federation | None = None

    @property
    def role(self) -> str:
        """The role this task runs as."""
        return self.task.role

    @property
    def party_id(self) -> str:
        """The party this task runs for."""
        return self.task.party_id

    def input_table(self, key: str | None = None) -> DataTable:
        """The one table behind input ``key`` (or the only input when ``key`` is None)."""
        if key is None:
            if len(self.data_inputs) != 1:
                raise ParameterError(
                    f"{self.task.component_name} needs exactly one data input, "
                    f"got {sorted(self.data_inputs) or 'none'}"
                )
            key = next(iter(self.data_inputs))
        found = self.data_inputs.get(key) or []
        if len(found) != 1:
            raise ParameterError(
                f"{self.task.component_name} needs one table as input {key!r}, got {len(found)}"
            )
        return found[0]

    def read_frame(self, table: DataTable) -> tuple[pd.DataFrame, dict[str, Any]]:
        """A stored table as a DataFrame (id column first) and its schema."""
        folder = tables.table_dir(self.config, table)
        if not folder.is_dir():
            raise DataError(
                f"table {table.table_name!r} in namespace {table.namespace!r} has no files; "
                "upload it again"
            )
        return storage.read_table(folder).to_pandas(), json.loads(table.table_meta)

    def input_model(self, *modules: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Meta and Param of the input model from one of ``modules``; None without a model."""
        if not self.model_inputs:
            return None
        found = [model for model in self.model_inputs if model.module_name in modules]
        if not found:
            names = sorted({model.module_name for model in self.model_inputs})
            raise ParameterError(
                f"{self.task.component_name} got a model of {names}; give it a "
                f"{' or '.join(modules)} model, or no model to fit on its own data"
            )
        return json.loads(found[0].meta), json.loads(found[0].param)

    def save_data(
        self, frame: pd.DataFrame | pa.Table, schema: Mapping[str, Any], partition: int = 1
    ) -> DataTable | None:
        """Store the task's data output (the first column is the id, kept as text).

        A component whose DSL entry declares no data output keeps none, as in FATE.
        """
        if self.data_output is None:
            log.info("%s declares no data output; its data is not kept", self.task.component_name)
            return None
        table = (
            frame
            if isinstance(frame, pa.Table)
            else pa.Table.from_pandas(frame, preserve_index=False)
        )
        return tracking.save_output_data(
            self.config, self.engine, self.task, self.data_output, table, schema, partition
        )

    def pass_through(self, table: DataTable) -> None:
        """Name an input table as the task's data output, unchanged."""
        if self.data_output is not None:
            tracking.record_output_data(self.engine, self.task, self.data_output, table)

    def save_model(self, meta: Mapping[str, Any], param: Mapping[str, Any]) -> None:
        """Store the task's model output (FATE's Meta and Param as JSON objects)."""
        if self.model_output is not None:
            tracking.save_model(self.engine, self.task, self.model_output, meta, param)

    def log_metric_data(self, namespace: str, name: str, points: list[tuple[Any, Any]]) -> None:
        """Append metric points ``(key, value)``."""
        tracking.log_metric_data(self.engine, self.task, namespace, name, points)

    def set_metric_meta(self, namespace: str, name: str, meta: Mapping[str, Any]) -> None:
        """Set a metric's meta: ``name``, ``metric_type`` and extras."""
        tracking.set_metric_meta(self.engine, self.task, namespace, name, meta)


class Component(abc.ABC):
    """A FATE module: its name, the roles it runs on, its parameters and its ``run``.

    A subclass in any module of ``fate_nb.components`` is found by the registry; adding a
    component is adding one module.
    """

    module: ClassVar[str]
    roles: ClassVar[frozenset[str]]
    param_class: ClassVar[type[Params]] = Params
    need_deploy: ClassVar[bool] = True
    # FATE's model buffers are named <stem>Meta and <stem>Param; the module name by default.
    model_buffer: ClassVar[str] = ""
    # Modules the user may name in a DSL; Upload and Download run only as local jobs.
    in_dsl: ClassVar[bool] = True
    # Whether the DSL must give the component a data input (Reader reads a stored table).
    needs_data_input: ClassVar[bool] = True
    # Roles a job must have for this module to run at all (HeteroLR cannot train without an
    # arbiter); checked at submit.
    needs_roles: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Do the task's work; return its summary (a JSON object)."""

    @classmethod
    def serve(
        cls,
        frame: pd.DataFrame,
        schema: dict[str, Any],
        meta: dict[str, Any],
        param: dict[str, Any],
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Transform rows to score online with this module's trained model (Meta and Param)."""
        raise ParameterError(
            f"{cls.module} cannot score rows online; serve a model of DataIO or DataTransform, "
            "FeatureScale, Intersection and HeteroLR or HomoLR"
        )

    @classmethod
    def buffer_names(cls) -> tuple[str, str]:
        """The names of FATE's Meta and Param buffers of this module's model."""
        stem = cls.model_buffer or cls.module
        return f"{stem}Meta", f"{stem}Param"
