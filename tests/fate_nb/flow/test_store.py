"""The SQL store: engine settings and the tables it creates."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import select

from fate_nb.flow import store


@pytest.fixture
def file_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = store.create_store_engine(f"sqlite:///{tmp_path / 'fate_nb.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def memory_engine() -> Iterator[Engine]:
    engine = store.create_store_engine("sqlite://")
    yield engine
    engine.dispose()


def test_sqlite_file_uses_wal_journal_mode(file_engine: Engine) -> None:
    with file_engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_sqlite_file_waits_when_the_database_is_busy(file_engine: Engine) -> None:
    with file_engine.connect() as connection:
        timeout_ms = connection.execute(text("PRAGMA busy_timeout")).scalar()
    assert timeout_ms == store.SQLITE_BUSY_TIMEOUT_S * 1000
    assert timeout_ms > 0


def test_sqlite_file_settings_apply_to_every_new_connection(file_engine: Engine) -> None:
    with file_engine.connect() as first, file_engine.connect() as second:
        for connection in (first, second):
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() > 0


def test_init_store_creates_job_task_and_data_table_tables(file_engine: Engine) -> None:
    store.init_store(file_engine)
    assert {"t_job", "t_task", "t_data_table"} <= set(inspect(file_engine).get_table_names())


def test_init_store_twice_keeps_existing_rows(file_engine: Engine) -> None:
    store.init_store(file_engine)
    with store.session(file_engine) as session:
        session.add(store.DataTable(namespace="experiment", table_name="guest", count=569))
        session.commit()
    store.init_store(file_engine)
    with store.session(file_engine) as session:
        assert session.exec(select(store.DataTable.count)).all() == [569]


def test_in_memory_database_is_shared_across_threads(memory_engine: Engine) -> None:
    store.init_store(memory_engine)
    errors: list[BaseException] = []

    def add_job() -> None:
        try:
            with store.session(memory_engine) as session:
                session.add(store.Job(job_id="j1", role="guest", party_id="9999"))
                session.commit()
        except BaseException as error:  # handed to the main thread's assertion
            errors.append(error)

    worker = threading.Thread(target=add_job)
    worker.start()
    worker.join()

    assert errors == []
    with store.session(memory_engine) as session:
        jobs = session.exec(select(store.Job)).all()
    assert [(job.job_id, job.role, job.party_id) for job in jobs] == [("j1", "guest", "9999")]


def test_session_keeps_objects_usable_after_commit(memory_engine: Engine) -> None:
    store.init_store(memory_engine)
    with store.session(memory_engine) as session:
        job = store.Job(job_id="j2", role="host", party_id="10000")
        session.add(job)
        session.commit()
    assert job.status == "waiting"
    assert job.create_time > 0
