"""SQLite writers queue on a lock file: a second writer waits for the first to commit, then goes on."""

from __future__ import annotations

import threading
import time

from sqlalchemy import create_engine, text

from console.sqlite import WRITE_OPTION


def test_a_second_writer_waits_for_the_first_to_commit(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (name TEXT)"))
    events = []

    def write(name: str, hold: float) -> None:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection, connection.begin():
            events.append(f"{name} begins")
            connection.execute(text("INSERT INTO events VALUES (:name)"), {"name": name})
            time.sleep(hold)
            events.append(f"{name} commits")

    first = threading.Thread(target=write, args=("first", 0.3))
    first.start()
    time.sleep(0.1)
    write("second", 0)
    first.join()
    assert events == ["first begins", "first commits", "second begins", "second commits"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar() == 2
    assert (tmp_path / "queue.db-writers").exists()
    engine.dispose()
