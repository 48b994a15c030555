"""SQLite done right for the default database: WAL, a busy timeout, and writes that begin as writes.

pysqlite's own transaction handling is switched off so that SQLAlchemy's "begin" event issues BEGIN
itself: a plain BEGIN for reads, BEGIN IMMEDIATE for the service's write transactions. A read snapshot
that later tries to write fails at once with "database is locked" when another writer committed
meanwhile, whatever the busy timeout; taking the write lock first makes writers queue instead.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

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
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "BEGIN")
