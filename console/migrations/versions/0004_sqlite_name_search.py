"""sqlite name search: an FTS5 trigram index over users.name, so "name contains" is indexed on SQLite too

PostgreSQL has its pg_trgm index since 0003; SQLite gets an external-content FTS5 table kept in step by
triggers (the same statements as console/models/name_search.py, frozen here as migrations must be).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CREATE = (
    "CREATE VIRTUAL TABLE users_name_fts USING fts5("
    "name, content='users', content_rowid='id', tokenize='trigram', detail='none')",
    "CREATE TRIGGER users_name_fts_insert AFTER INSERT ON users BEGIN "
    "INSERT INTO users_name_fts(rowid, name) VALUES (new.id, new.name); END",
    "CREATE TRIGGER users_name_fts_delete AFTER DELETE ON users BEGIN "
    "INSERT INTO users_name_fts(users_name_fts, rowid, name) VALUES ('delete', old.id, old.name); END",
    "CREATE TRIGGER users_name_fts_update AFTER UPDATE OF name ON users BEGIN "
    "INSERT INTO users_name_fts(users_name_fts, rowid, name) VALUES ('delete', old.id, old.name); "
    "INSERT INTO users_name_fts(rowid, name) VALUES (new.id, new.name); END",
    "INSERT INTO users_name_fts(users_name_fts) VALUES ('rebuild')",
)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in CREATE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER users_name_fts_{trigger}")
        op.execute("DROP TABLE users_name_fts")
