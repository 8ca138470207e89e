"""SQLModel tables for jobs, tasks, tables, task outputs and models, and the engine holding them."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, Session, SQLModel, create_engine

SQLITE_BUSY_TIMEOUT_S = 30


def now_ms() -> int:
    """Epoch milliseconds, FATE's unit for every time column."""
    return int(time.time() * 1000)


class Job(SQLModel, table=True):
    """One party's view of a job: FATE keeps a row per (job_id, role, party_id)."""

    __tablename__ = "t_job"

    job_id: str = Field(primary_key=True, max_length=32)
    role: str = Field(primary_key=True, max_length=32)
    party_id: str = Field(primary_key=True, max_length=32)
    name: str = ""
    description: str = ""
    tag: str = ""
    roles: str = "{}"
    work_mode: int = 0
    initiator_role: str = ""
    initiator_party_id: str = ""
    is_initiator: int = 0
    dsl: str = "{}"
    runtime_conf: str = "{}"
    train_runtime_conf: str = "{}"
    run_ip: str = ""
    status: str = Field(default="waiting", index=True)
    current_steps: str | None = None
    current_tasks: str | None = None
    progress: int = 0
    create_time: int = Field(default_factory=now_ms)
    update_time: int = Field(default_factory=now_ms)
    start_time: int | None = None
    end_time: int | None = None
    elapsed: int | None = None
    error: str | None = None


class Task(SQLModel, table=True):
    """One component of a job as run by one party."""

    __tablename__ = "t_task"

    job_id: str = Field(primary_key=True, max_length=32)
    task_id: str = Field(primary_key=True, max_length=128)
    role: str = Field(primary_key=True, max_length=32)
    party_id: str = Field(primary_key=True, max_length=32)
    component_name: str = Field(index=True)
    module_name: str = ""
    operator: str = "python_operator"
    run_ip: str = ""
    run_pid: int | None = None
    status: str = Field(default="waiting", index=True)
    summary: str = "{}"
    error: str | None = None
    create_time: int = Field(default_factory=now_ms)
    update_time: int = Field(default_factory=now_ms)
    start_time: int | None = None
    end_time: int | None = None
    elapsed: int | None = None


class DataTable(SQLModel, table=True):
    """A stored table: its name, its schema and the folder holding its partitions."""

    __tablename__ = "t_data_table"

    namespace: str = Field(primary_key=True, max_length=256)
    table_name: str = Field(primary_key=True, max_length=256)
    count: int = 0
    partition: int = 1
    table_meta: str = "{}"
    path: str = ""
    job_id: str = ""
    create_time: int = Field(default_factory=now_ms)
    update_time: int = Field(default_factory=now_ms)


class OutputDataInfo(SQLModel, table=True):
    """The table a task wrote as one of its data outputs."""

    __tablename__ = "t_tracking_output_data_info"

    job_id: str = Field(primary_key=True, max_length=32)
    component_name: str = Field(primary_key=True, max_length=128)
    role: str = Field(primary_key=True, max_length=32)
    party_id: str = Field(primary_key=True, max_length=32)
    data_name: str = Field(primary_key=True, max_length=128)
    task_id: str = ""
    table_namespace: str = ""
    table_name: str = ""
    create_time: int = Field(default_factory=now_ms)


class ComponentModel(SQLModel, table=True):
    """A model a task produced: FATE's Meta and Param messages as JSON objects."""

    __tablename__ = "t_component_model"

    job_id: str = Field(primary_key=True, max_length=32)
    component_name: str = Field(primary_key=True, max_length=128)
    role: str = Field(primary_key=True, max_length=32)
    party_id: str = Field(primary_key=True, max_length=32)
    model_alias: str = Field(primary_key=True, max_length=128)
    module_name: str = ""
    meta: str = "{}"
    param: str = "{}"
    create_time: int = Field(default_factory=now_ms)


class TrackingMetric(SQLModel, table=True):
    """One metric point (kind "data") or a metric's meta (kind "meta") of a task."""

    __tablename__ = "t_tracking_metric"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(index=True, max_length=32)
    component_name: str = Field(max_length=128)
    role: str = Field(max_length=32)
    party_id: str = Field(max_length=32)
    namespace: str = Field(max_length=256)
    name: str = Field(max_length=256)
    kind: str = Field(max_length=8)
    key: str = "null"
    value: str = "null"
    create_time: int = Field(default_factory=now_ms)


class MLModel(SQLModel, table=True):
    """One party's trained model version: FATE 1.5's model info, with its pipeline."""

    __tablename__ = "t_machine_learning_model_info"

    party_model_id: str = Field(primary_key=True, max_length=512)
    model_version: str = Field(primary_key=True, max_length=32)
    model_id: str = Field(index=True, max_length=512)
    role: str = Field(max_length=32)
    party_id: str = Field(max_length=32)
    job_id: str = Field(max_length=32)
    roles: str = "{}"
    initiator_role: str = ""
    initiator_party_id: str = ""
    train_dsl: str = "{}"
    inference_dsl: str = "{}"
    train_runtime_conf: str = "{}"
    loaded_times: int = 0
    create_time: int = Field(default_factory=now_ms)
    update_time: int = Field(default_factory=now_ms)


class ServiceBinding(SQLModel, table=True):
    """A serving ``service_id`` bound to the initiator's loaded model version."""

    __tablename__ = "t_service_binding"

    service_id: str = Field(primary_key=True, max_length=256)
    party_model_id: str = Field(max_length=512)
    model_version: str = Field(max_length=32)
    create_time: int = Field(default_factory=now_ms)
    update_time: int = Field(default_factory=now_ms)


def _enable_sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def create_store_engine(db_url: str) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite files get WAL mode and a busy timeout."""
    if db_url in ("sqlite://", "sqlite:///:memory:"):
        # One shared connection: every thread must see the same in-memory database.
        return create_engine(
            db_url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )

    if db_url.startswith("sqlite"):
        engine = create_engine(
            db_url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        event.listen(engine, "connect", _enable_sqlite_wal)
        return engine

    return create_engine(db_url, pool_pre_ping=True)


def init_store(engine: Engine) -> None:
    """Create the tables that do not exist yet."""
    SQLModel.metadata.create_all(engine)


def session(engine: Engine) -> Session:
    """A session that keeps loaded objects usable after commit."""
    return Session(engine, expire_on_commit=False)
