"""SQLite done right: write transactions begin as writes, so concurrent read-then-write loses nothing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from console.database import WRITE_OPTION


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER)"))
        connection.execute(text("INSERT INTO counter VALUES (0)"))
    yield engine
    engine.dispose()


def increment(engine, times: int) -> None:
    for _ in range(times):
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection, connection.begin():
            value = connection.execute(text("SELECT n FROM counter")).scalar()
            connection.execute(text("UPDATE counter SET n = :n"), {"n": value + 1})


def test_concurrent_read_then_write_transactions_lose_no_update(engine):
    threads = [threading.Thread(target=increment, args=(engine, 50)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar() == 400
