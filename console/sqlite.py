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


# "Name contains" at a million users: SQLite has no index for LIKE '%term%', but FTS5's trigram tokenizer
# serves it (terms of 3 characters or more, case-insensitive). An external-content table over users.name,
# kept in step by triggers. Created by migration 0004 and, for db.create_all(), by the users table's
# after_create event (console/models/user.py).
NAME_SEARCH_TABLE = "users_name_fts"
NAME_SEARCH_TRIGGERS = {
    "users_name_fts_insert": "CREATE TRIGGER users_name_fts_insert AFTER INSERT ON users BEGIN "
    "INSERT INTO users_name_fts(rowid, name) VALUES (new.id, new.name); END",
    "users_name_fts_delete": "CREATE TRIGGER users_name_fts_delete AFTER DELETE ON users BEGIN "
    "INSERT INTO users_name_fts(users_name_fts, rowid, name) VALUES ('delete', old.id, old.name); END",
    "users_name_fts_update": "CREATE TRIGGER users_name_fts_update AFTER UPDATE OF name ON users BEGIN "
    "INSERT INTO users_name_fts(users_name_fts, rowid, name) VALUES ('delete', old.id, old.name); "
    "INSERT INTO users_name_fts(rowid, name) VALUES (new.id, new.name); END",
}
NAME_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE users_name_fts USING fts5("
    "name, content='users', content_rowid='id', tokenize='trigram', detail='none')",
    *NAME_SEARCH_TRIGGERS.values(),
)
NAME_SEARCH_REBUILD = "INSERT INTO users_name_fts(users_name_fts) VALUES ('rebuild')"


def outside_the_models(name, type_, parent_names) -> bool:
    """Alembic's include_name hook: False for the FTS5 name index and its shadow tables, which no model describes."""
    return not (type_ == "table" and (name == NAME_SEARCH_TABLE or name.startswith(NAME_SEARCH_TABLE + "_")))
