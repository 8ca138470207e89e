"""What tasks leave behind: output tables, models and metrics, written and read back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fate_nb.flow import storage, tables
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.errors import NotFound
from fate_nb.flow.store import (
    ComponentModel,
    DataTable,
    OutputDataInfo,
    Task,
    TrackingMetric,
    session,
)


def output_table_name(task: Task, data_name: str) -> tuple[str, str]:
    """The namespace and name of a task's output table: unique per job, component and party."""
    return f"output_data_{task.task_id}_{task.role}_{task.party_id}", data_name


def header_of(schema: Mapping[str, Any]) -> list[str]:
    """A schema's feature names: uploads keep them comma-joined, outputs as a list."""
    header = schema.get("header", [])
    if isinstance(header, str):
        return [name for name in header.split(",") if name]
    return list(header)


def save_output_data(
    config: FlowConfig,
    engine: Engine,
    task: Task,
    data_name: str,
    table: pa.Table,
    schema: Mapping[str, Any],
    partition: int = 1,
) -> DataTable:
    """Store ``table`` (id column first) as the task's output ``data_name`` and record it."""
    namespace, table_name = output_table_name(task, data_name)
    folder = tables.new_table_dir(config)
    try:
        writer = storage.PartitionedWriter(folder, partition, table.schema)
        try:
            writer.write(table)
        finally:
            writer.close()
        stored = tables.commit_table(
            config,
            engine,
            namespace=namespace,
            table_name=table_name,
            folder=folder,
            count=table.num_rows,
            partition=partition,
            schema=dict(schema),
            job_id=task.job_id,
            drop=True,
        )
    except BaseException:
        storage.remove_table_dir(folder)
        raise
    record_output_data(engine, task, data_name, stored)
    return stored


def record_output_data(engine: Engine, task: Task, data_name: str, table: DataTable) -> None:
    """Name an existing table as the task's output ``data_name`` (a pass-through)."""
    with session(engine) as db:
        db.merge(
            OutputDataInfo(
                job_id=task.job_id,
                component_name=task.component_name,
                role=task.role,
                party_id=task.party_id,
                data_name=data_name,
                task_id=task.task_id,
                table_namespace=table.namespace,
                table_name=table.table_name,
            )
        )
        db.commit()


def output_tables(
    engine: Engine, job_id: str, component_name: str, role: str, party_id: str
) -> dict[str, DataTable]:
    """The output tables of one component of one party, by data name."""
    with session(engine) as db:
        query = select(OutputDataInfo, DataTable).where(
            OutputDataInfo.job_id == job_id,
            OutputDataInfo.component_name == component_name,
            OutputDataInfo.role == role,
            OutputDataInfo.party_id == party_id,
            DataTable.namespace == OutputDataInfo.table_namespace,
            DataTable.table_name == OutputDataInfo.table_name,
        )
        return {info.data_name: table for info, table in db.exec(query)}


def output_table(
    engine: Engine, job_id: str, component_name: str, role: str, party_id: str, data_name: str
) -> DataTable:
    """One output table of a component of a party; NotFound when the task wrote none."""
    found = output_tables(engine, job_id, component_name, role, party_id)
    if data_name not in found:
        raise NotFound(
            f"{component_name} has no output data {data_name!r} for {role} {party_id} "
            f"in job {job_id}"
        )
    return found[data_name]


def component_of_table(engine: Engine, task: Task, table: DataTable) -> str | None:
    """The component of ``task``'s job and party that output ``table``; its writer wins.

    Components that passed the table through name it too; None when no component output it.
    """
    with session(engine) as db:
        query = select(OutputDataInfo).where(
            OutputDataInfo.job_id == task.job_id,
            OutputDataInfo.role == task.role,
            OutputDataInfo.party_id == task.party_id,
            OutputDataInfo.table_namespace == table.namespace,
            OutputDataInfo.table_name == table.table_name,
        )
        found = list(db.exec(query.order_by(col(OutputDataInfo.create_time))))
    for info in found:
        # The namespace output_table_name gives the task that wrote the table.
        if table.namespace == f"output_data_{info.task_id}_{info.role}_{info.party_id}":
            return info.component_name
    return found[0].component_name if found else None


def save_model(
    engine: Engine,
    task: Task,
    model_alias: str,
    meta: Mapping[str, Any],
    param: Mapping[str, Any],
) -> None:
    """Store a task's model (Meta and Param as JSON objects) under ``model_alias``."""
    with session(engine) as db:
        db.merge(
            ComponentModel(
                job_id=task.job_id,
                component_name=task.component_name,
                role=task.role,
                party_id=task.party_id,
                model_alias=model_alias,
                module_name=task.module_name,
                meta=json.dumps(meta),
                param=json.dumps(param),
            )
        )
        db.commit()


def component_models(
    engine: Engine, job_id: str, component_name: str, role: str, party_id: str
) -> list[ComponentModel]:
    """Every model one component of one party stored, in alias order."""
    with session(engine) as db:
        query = (
            select(ComponentModel)
            .where(
                ComponentModel.job_id == job_id,
                ComponentModel.component_name == component_name,
                ComponentModel.role == role,
                ComponentModel.party_id == party_id,
            )
            .order_by(col(ComponentModel.model_alias))
        )
        return list(db.exec(query))


def log_metric_data(
    engine: Engine, task: Task, namespace: str, name: str, points: Iterable[tuple[Any, Any]]
) -> None:
    """Append metric points ``(key, value)`` under ``namespace``/``name``."""
    with session(engine) as db:
        for key, value in points:
            db.add(_metric(task, namespace, name, "data", key, value))
        db.commit()


def set_metric_meta(
    engine: Engine, task: Task, namespace: str, name: str, meta: Mapping[str, Any]
) -> None:
    """Set the meta of metric ``namespace``/``name`` (name, metric_type and extras)."""
    with session(engine) as db:
        old = select(TrackingMetric).where(
            *_metric_filter(task, namespace, name), TrackingMetric.kind == "meta"
        )
        for row in db.exec(old):
            db.delete(row)
        db.add(_metric(task, namespace, name, "meta", None, dict(meta)))
        db.commit()


def _metric_filter(task: Task, namespace: str, name: str) -> list[Any]:
    return [
        TrackingMetric.job_id == task.job_id,
        TrackingMetric.component_name == task.component_name,
        TrackingMetric.role == task.role,
        TrackingMetric.party_id == task.party_id,
        TrackingMetric.namespace == namespace,
        TrackingMetric.name == name,
    ]


def _metric(
    task: Task, namespace: str, name: str, kind: str, key: Any, value: Any
) -> TrackingMetric:
    return TrackingMetric(
        job_id=task.job_id,
        component_name=task.component_name,
        role=task.role,
        party_id=task.party_id,
        namespace=namespace,
        name=name,
        kind=kind,
        key=json.dumps(key),
        value=json.dumps(value),
    )


def metrics(
    engine: Engine, job_id: str, component_name: str, role: str, party_id: str
) -> dict[str, dict[str, dict[str, Any]]]:
    """Every metric of a component of a party: ``{namespace: {name: {data, meta}}}``."""
    with session(engine) as db:
        query = (
            select(TrackingMetric)
            .where(
                TrackingMetric.job_id == job_id,
                TrackingMetric.component_name == component_name,
                TrackingMetric.role == role,
                TrackingMetric.party_id == party_id,
            )
            .order_by(col(TrackingMetric.id))
        )
        rows = list(db.exec(query))
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        entry = found.setdefault(row.namespace, {}).setdefault(row.name, {"data": [], "meta": {}})
        if row.kind == "meta":
            entry["meta"] = json.loads(row.value)
        else:
            entry["data"].append([json.loads(row.key), json.loads(row.value)])
    return found
