"""The baseline's two tables (a bindings-like table and a codes table) and its bulk seed."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, UniqueConstraint, create_engine, insert

LOGIN_METHOD_ID = 1
metadata = MetaData()
bindings = Table(
    "baseline_bindings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login_method_id", Integer, nullable=False),
    Column("openid", String(128), nullable=False),
    Column("user_id", Integer, nullable=False),
    UniqueConstraint("login_method_id", "openid"),
)
codes = Table(
    "baseline_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("user_id", Integer, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)


def seed(database_url: str, openids: list[str]) -> None:
    """Create the tables and bind user i to the i-th openid (from 1), in one bulk insert."""
    engine = create_engine(database_url)
    metadata.create_all(engine)
    rows = [
        {"id": i, "login_method_id": LOGIN_METHOD_ID, "openid": openid, "user_id": i}
        for i, openid in enumerate(openids, 1)
    ]
    with engine.begin() as connection:
        connection.execute(insert(bindings), rows)
    engine.dispose()
