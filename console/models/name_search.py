"""The SQLite index behind "name contains" in the console's user search (FTS5 trigrams over users.name)."""

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
