"""A store in a temporary home, uploaded tables, components run in real task contexts, and a
real federation broker for components whose parties run at once in threads."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from csv_files import DATA_DIR
from sqlalchemy.engine import Engine

from fate_nb.components import TaskContext, get_component
from fate_nb.federation import Federation
from fate_nb.federation.broker import Broker
from fate_nb.flow import ingest, tables, tracking
from fate_nb.flow.config import FlowConfig
from fate_nb.flow.store import (
    ComponentModel,
    DataTable,
    Task,
    create_store_engine,
    init_store,
    session,
)

JOB_ID = "20260101000000000001"
GUEST = ("guest", "9999")


@dataclass
class Ran:
    """One finished task: its context, its summary, and readers of what it stored."""

    ctx: TaskContext
    summary: dict[str, Any]

    def output_table(self) -> DataTable:
        """The task's data output table."""
        task = self.ctx.task
        return tracking.output_table(
            self.ctx.engine, task.job_id, task.component_name, task.role, task.party_id, "data"
        )

    def output(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The task's data output, sorted by id, and its schema."""
        frame, schema = self.ctx.read_frame(self.output_table())
        return frame.sort_values(frame.columns[0], ignore_index=True), schema

    def model(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The task's model: Meta and Param."""
        stored = self.models()
        assert len(stored) == 1
        return json.loads(stored[0].meta), json.loads(stored[0].param)

    def models(self) -> list[ComponentModel]:
        """The model rows the task stored."""
        task = self.ctx.task
        return tracking.component_models(
            self.ctx.engine, task.job_id, task.component_name, task.role, task.party_id
        )

    def metrics(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every metric of the task."""
        task = self.ctx.task
        return tracking.metrics(
            self.ctx.engine, task.job_id, task.component_name, task.role, task.party_id
        )


@dataclass
class Flow:
    """Uploads tables and runs components against one store, as a worker would."""

    config: FlowConfig
    engine: Engine
    tmp_path: Path
    _names: Iterator[int] = field(default_factory=itertools.count)

    def upload(self, source: Path | str, name: str | None = None, partition: int = 1) -> DataTable:
        """Store a CSV (a path, or the text of one) as a table, the way Upload does."""
        if isinstance(source, str):
            path = self.tmp_path / f"upload_{next(self._names)}.csv"
            path.write_text(source, encoding="utf-8")
        else:
            path = source
        folder = tables.new_table_dir(self.config)
        layout, report = ingest.ingest_csv(path, folder, head=True, partition=partition)
        return tables.commit_table(
            self.config,
            self.engine,
            namespace="experiment",
            table_name=name or path.stem,
            folder=folder,
            count=report.actual_count,
            partition=partition,
            schema={"header": ",".join(layout.header), "sid": layout.sid},
            job_id=JOB_ID,
            drop=True,
        )

    def upload_breast(self, party: str, partition: int = 1) -> DataTable:
        """FATE's breast_hetero_<party>.csv as table ``breast_hetero_<party>``."""
        return self.upload(DATA_DIR / f"breast_hetero_{party}.csv", partition=partition)

    def context(
        self,
        module: str,
        conf: dict[str, Any] | None = None,
        data: DataTable | None = None,
        models: list[ComponentModel] | None = None,
        party: tuple[str, str] = GUEST,
    ) -> TaskContext:
        """A context for a new task of ``module``, its parameters built from ``conf``."""
        component_name = f"{module.lower()}_{next(self._names)}"
        params, unknown = get_component(module).param_class.from_conf(conf or {}, component_name)
        assert unknown == []
        task = Task(
            job_id=JOB_ID,
            task_id=f"{JOB_ID}_{component_name}",
            role=party[0],
            party_id=party[1],
            component_name=component_name,
            module_name=module,
        )
        with session(self.engine) as db:
            db.add(task)
            db.commit()
        return TaskContext(
            self.config,
            self.engine,
            task,
            params,
            progress=lambda fraction: None,
            data_inputs={} if data is None else {"data": [data]},
            model_inputs=models or [],
            data_output="data",
            model_output="model",
        )

    def run(self, module: str, conf: dict[str, Any] | None = None, **kwargs: Any) -> Ran:
        """Run ``module`` in a new context and return what it left."""
        ctx = self.context(module, conf, **kwargs)
        summary = get_component(module)().run(ctx)
        json.dumps(summary)
        return Ran(ctx, summary)


@pytest.fixture
def flow(tmp_path: Path) -> Iterator[Flow]:
    """A fresh home and database for one test."""
    config = FlowConfig(
        home=tmp_path / "home", root_dir=tmp_path, db_url=f"sqlite:///{tmp_path}/fate.db"
    )
    config.make_dirs()
    engine = create_store_engine(config.db_url)
    init_store(engine)
    yield Flow(config, engine, tmp_path)
    engine.dispose()


@pytest.fixture
def guest_table(flow: Flow) -> DataTable:
    """breast_hetero_guest.csv (id, y, x0..x9) as an uploaded table."""
    return flow.upload_breast("guest")


@pytest.fixture
def host_table(flow: Flow) -> DataTable:
    """breast_hetero_host.csv (id, x0..x19) as an uploaded table."""
    return flow.upload_breast("host")


@pytest.fixture
def guest_csv() -> pd.DataFrame:
    """breast_hetero_guest.csv as pandas reads it, ids as text, sorted by id."""
    frame = pd.read_csv(DATA_DIR / "breast_hetero_guest.csv", dtype={"id": str})
    return frame.sort_values("id", ignore_index=True)


class RunningBroker:
    """A broker serving on an event loop in a thread, as it does in the server."""

    def __init__(self) -> None:
        self.broker = Broker()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.socket = str(self._call(self.broker.start()))
        self.clients: list[Federation] = []
        self._components = itertools.count()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def _soon(self, function: Any, *args: Any) -> Any:
        async def run() -> Any:
            return function(*args)

        return self._call(run())

    def new_component(self) -> str:
        """A component name of its own, so runs in one test never see each other's messages."""
        return f"intersection_{next(self._components)}"

    def federation(
        self, job_id: str, component: str, party: tuple[str, str], roles: dict[str, list[int]]
    ) -> Federation:
        """A Federation client for one party of ``component``, closed when the test ends."""
        role, party_id = party
        token = self._soon(self.broker.register, job_id, component, role, party_id, roles)
        client = Federation(self.socket, token, role, party_id, roles, timeout=60)
        self.clients.append(client)
        return client

    def client(self, ctx: TaskContext, component: str, roles: dict[str, list[int]]) -> Federation:
        """A Federation client for the task of ``ctx``, as the scheduler would hand out."""
        task = ctx.task
        return self.federation(task.job_id, component, (task.role, task.party_id), roles)

    def drop_job(self, job_id: str) -> None:
        """End a job: whoever still waits for one of its messages fails at once."""
        self._soon(self.broker.drop_job, job_id)

    def run_parties(
        self, contexts: dict[tuple[str, str], TaskContext], roles: dict[str, list[int]]
    ) -> dict[tuple[str, str], Ran]:
        """Run a component's tasks at once in threads; the first failure ends the job, raised."""
        component = self.new_component()
        for ctx in contexts.values():
            ctx.roles = roles
            ctx.federation = self.client(ctx, component, roles)
        with ThreadPoolExecutor(len(contexts)) as pool:
            futures = {
                party: pool.submit(get_component(ctx.task.module_name)().run, ctx)
                for party, ctx in contexts.items()
            }
            done, pending = wait(futures.values(), timeout=120, return_when=FIRST_EXCEPTION)
            failed = [future.exception() for future in done if future.exception() is not None]
            # A party may start waiting only after a drop, so drop until every party gave up.
            while pending:
                self.drop_job(next(iter(contexts.values())).task.job_id)
                _, pending = wait(pending, timeout=0.1)
            if failed:
                raise failed[0]
            return {
                party: Ran(contexts[party], future.result()) for party, future in futures.items()
            }

    def stop(self) -> None:
        """Close every client, then the broker and its loop."""
        for client in self.clients:
            client.close()
        self._call(self.broker.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def broker() -> Iterator[RunningBroker]:
    """A running broker, stopped (with its clients) when the test ends."""
    running = RunningBroker()
    yield running
    running.stop()
