"""Users with a WeChat binding each, in bulk: executemany in one transaction on SQLite, COPY on PostgreSQL.

User i is the stand-in's WeChat user "u<i>": its binding's openid is `openid_for("u<i>")`, so the
stand-in's answers for codes "u<i>-..." land on it.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from tqdm import tqdm

from bench.standin import openid_for
from console.extensions import db
from console.models import Corp, LoginMethod, Membership, User, WeChatBinding
from console.models.name_search import NAME_SEARCH_REBUILD, NAME_SEARCH_TRIGGERS
from console.services.login_methods import set_app_secret

METHOD_NAME = "benchMini"
BATCH = 50_000
FIRST_CREATED = datetime(2023, 1, 1)
SURNAMES = [
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Gao",
    "Lin",
    "Luo",
    "Zheng",
    "Liang",
    "Xie",
    "Song",
    "Tang",
    "Han",
    "Feng",
    "Deng",
    "Cao",
    "Peng",
    "Zeng",
    "Xiao",
    "Tian",
    "Dong",
    "Pan",
    "Yuan",
    "Cai",
    "Jiang",
    "Yu",
    "Du",
    "Ye",
    "Cheng",
    "Wei",
    "Su",
    "Lu",
    "Ding",
    "Ren",
    "Shen",
    "Yao",
    "Jia",
]
GIVEN = [
    "Wei",
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Li",
    "Qiang",
    "Lei",
    "Jun",
    "Yang",
    "Yong",
    "Yan",
    "Jie",
    "Juan",
    "Tao",
    "Ming",
    "Chao",
    "Xiuying",
    "Hua",
    "Ping",
    "Gang",
    "Gui",
    "Ying",
    "Hui",
    "Xin",
    "Yu",
    "Hao",
    "Bo",
    "Lin",
    "Dan",
    "Rui",
    "Kai",
    "Xiang",
    "Yi",
    "Zhen",
    "Ning",
    "Bin",
    "Feng",
    "Lan",
    "Qing",
    "Shu",
    "Xia",
    "Yun",
    "Zhi",
    "Hong",
    "Kun",
    "Peng",
    "Shan",
    "Mei",
    "Ting",
]
USER_COLUMNS = ("id", "name", "avatar_url", "phone", "status", "created_at")
BINDING_COLUMNS = ("id", "user_id", "login_method_id", "openid", "unionid", "bound_at")
MEMBERSHIP_COLUMNS = ("user_id", "corp_id", "created_at")


@dataclass(frozen=True)
class Sample:
    """Values of generated user i, to search for."""

    user_id: int
    name: str
    phone: str | None
    openid: str
    unionid: str | None


def user_values(i: int, rng: random.Random) -> tuple[tuple, tuple]:
    """The users row and the wechat_bindings row of generated user i (ids start at 1)."""
    created = (FIRST_CREATED + timedelta(seconds=90 * i)).isoformat(" ")
    name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}{rng.choice(GIVEN).lower()}"
    phone = f"1{rng.randrange(30, 90)}{rng.randrange(10**8):08d}" if rng.random() < 0.6 else None
    unionid = openid_for(f"union{i}") if i % 2 else None
    user = (i, name, None, phone, "active", created)
    return user, (i, i, 1, openid_for(f"u{i}"), unionid, created)


def sample(i: int, seed: int = 1) -> Sample:
    """What `fill(..., seed)` wrote for user i (generation is deterministic per batch)."""
    rng = random.Random(f"{seed}:{(i - 1) // BATCH}")
    for j in range((i - 1) // BATCH * BATCH + 1, i + 1):
        user, binding = user_values(j, rng)
    return Sample(user[0], user[1], user[3], binding[3], binding[4])


def create_login_method() -> LoginMethod:
    """The benchmark's login method (registration open) and its default corp; call inside an app context."""
    corp = Corp(slug="bench", name="Bench Corp")
    db.session.add(corp)
    db.session.flush()
    method = LoginMethod(
        name=METHOD_NAME, title="Benchmark", app_id="wxbe0c000000000001", allow_register=True, default_corp_id=corp.id
    )
    set_app_secret(method, secrets.token_hex(16))
    db.session.add(method)
    db.session.commit()
    return method


def fill(count: int, seed: int = 1, memberships: bool = True, progress: bool = True) -> None:
    """Add users 1..count, each bound to the benchmark's login method; call inside an app context.

    The tables' secondary indexes are dropped for the load and built again after it, which is several
    times faster than keeping them up to date row by row (the trigram index above all).
    """
    corp_id = db.session.scalar(select(LoginMethod.default_corp_id).where(LoginMethod.name == METHOD_NAME))
    db.session.commit()
    indexes = [index for model in (User, WeChatBinding, Membership) for index in model.__table__.indexes]
    for index in indexes:
        index.drop(db.engine)
    connection = db.engine.raw_connection()
    write = _copy_rows if db.engine.dialect.name == "postgresql" else _insert_rows
    try:
        if db.engine.dialect.name == "sqlite":
            connection.execute("PRAGMA synchronous=OFF")
            for trigger in NAME_SEARCH_TRIGGERS:  # the name index is rebuilt once after the load
                connection.execute(f"DROP TRIGGER {trigger}")
            connection.execute("BEGIN")
        with tqdm(total=count, unit="user", unit_scale=True, disable=not progress, desc="users") as bar:
            for start in range(1, count + 1, BATCH):
                rng = random.Random(f"{seed}:{(start - 1) // BATCH}")
                users, bindings = zip(
                    *(user_values(i, rng) for i in range(start, min(start + BATCH, count + 1))), strict=True
                )
                write(connection, "users", USER_COLUMNS, users)
                write(connection, "wechat_bindings", BINDING_COLUMNS, bindings)
                if memberships:
                    write(
                        connection, "memberships", MEMBERSHIP_COLUMNS, [(user[0], corp_id, user[5]) for user in users]
                    )
                bar.update(len(users))
        connection.commit()
        for index in tqdm(indexes, unit="index", disable=not progress, desc="indexes"):
            index.create(db.engine)
        if db.engine.dialect.name == "sqlite":
            for statement in tqdm(
                [NAME_SEARCH_REBUILD, *NAME_SEARCH_TRIGGERS.values()],
                unit="step",
                disable=not progress,
                desc="name index",
            ):
                connection.execute(statement)
            connection.commit()
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("ANALYZE")
        else:
            _vacuum_analyze()
    finally:
        connection.close()


def _insert_rows(connection, table: str, columns: tuple[str, ...], rows) -> None:
    marks = ", ".join("?" * len(columns))
    connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _copy_rows(connection, table: str, columns: tuple[str, ...], rows) -> None:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _vacuum_analyze() -> None:
    """Fresh statistics and visibility map after a bulk load, and identity sequences past the loaded ids."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("users", "wechat_bindings"):
            connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        connection.exec_driver_sql("VACUUM ANALYZE")
