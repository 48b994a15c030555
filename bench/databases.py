"""Fresh benchmark databases and the console apps over them: SQLite files in bench/results/, PostgreSQL databases."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
KINDS = ("sqlite", "postgresql")


def fresh_database(kind: str, name: str) -> str:
    """The URL of a new, empty database `name` of `kind` (an older one of that name is dropped)."""
    if kind == "sqlite":
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{name}.db"
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    server = make_url(POSTGRES_URL)
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def console_environ(database_url: str, wechat_url: str) -> dict[str, str]:
    """The console's production settings for a benchmark: its own secrets, Redis, no rate limits."""
    return {
        "SECRET_KEY": Fernet.generate_key().decode(),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "WECHAT_API_BASE": wechat_url,
        "WECHAT_TIMEOUT": "5",
        "RATELIMIT_ENABLED": "false",
        "REDIS_URL": REDIS_URL,
    }


def console_app(environ: dict[str, str]):
    """The console app over `environ`'s database, its schema built by the migrations."""
    from flask_migrate import upgrade

    from console import create_app

    app = create_app(environ=environ)
    with app.app_context():
        upgrade()
    return app
