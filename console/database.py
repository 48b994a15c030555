"""Transactions and SQLite set-up: writes that begin as writes, and reads given back before slow calls.

pysqlite's own transaction handling is switched off so that SQLAlchemy's "begin" event issues BEGIN
itself: a plain BEGIN for reads, BEGIN IMMEDIATE for the service's write transactions. A read snapshot
that later tries to write fails at once with "database is locked" when another writer committed
meanwhile, whatever the busy timeout; taking the write lock first makes writers queue instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from sqlalchemy import CursorResult, Executable, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session

from console.extensions import db

WRITE_OPTION = "sqlite_begin_write"


@event.listens_for(Engine, "connect")
def _configure(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: durable up to the last checkpoint
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            "BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "BEGIN"
        )


@contextmanager
def transaction() -> Iterator[scoped_session]:
    """Run the block as one write transaction: committed at its end, or rolled back whole if it raises."""
    if db.session().in_transaction():
        db.session.commit()  # end the read snapshot taken before the block: writes must begin as writes
    db.session.connection(execution_options={WRITE_OPTION: True})
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def end_read() -> None:
    """Give the connection back before a slow outbound call, so no transaction or lock is held meanwhile."""
    db.session.commit()


def rows_changed(statement: Executable) -> int:
    """Run an UPDATE or DELETE in the current transaction; how many rows it changed (the race decider)."""
    return cast(CursorResult, db.session.execute(statement)).rowcount
