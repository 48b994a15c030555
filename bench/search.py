"""The console's user search as SQL over the console's models: what the users list and a user's page run.

Semantics (Flask-Admin style): the query string is split on spaces and every term must match; a user
matches a term when their name contains it (case-insensitive), their phone, openId or unionId starts
with it (the whole value included), or their id equals it (numeric terms). Rows are sorted by a
whitelisted column (then id), 25 a page, and counted up to COUNT_CAP: a page never counts a million rows.

Two forms differ by database, so that each uses its indexes (migration 0003):
- "starts with" is GLOB 'term*' on SQLite, whose LIKE ignores case and so skips a plain index, and
  LIKE 'term%' on PostgreSQL (varchar_pattern_ops);
- the binding arm is `id = ANY(ARRAY(SELECT user_id ...))` on PostgreSQL, which its planner ORs with the
  other arms' indexes (an `IN (SELECT ...)` inside an OR becomes a filter run on every row), and
  `id IN (SELECT user_id ...)` on SQLite.

SQLite has no index for "name contains": every search there reads every name. `name_fts` names an FTS5
trigram table over users.name (see NAME_FTS_DDL; not in the product's schema) to measure what one would
change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import any_, column, func, or_, select, table
from sqlalchemy.orm import selectinload

from console.extensions import db
from console.models import AccessToken, AuditEvent, User, WeChatBinding, utcnow

SORTS = {"id": User.id, "name": User.name, "created": User.created_at}
PER_PAGE = 25
COUNT_CAP = 1_000
HISTORY = 50
MAX_ID = 2**31 - 1
GLOB_SPECIAL = re.compile(r"([*?\[])")
NAME_FTS_DDL = (
    "CREATE VIRTUAL TABLE {name} USING fts5(name, content='users', content_rowid='id', tokenize='trigram', detail='none')",
    "INSERT INTO {name}({name}) VALUES ('rebuild')",
)


@dataclass
class Page:
    """One page of users and how many match (at most COUNT_CAP + 1, meaning "more than COUNT_CAP")."""

    users: list[User]
    total: int


def _starts_with(column, term: str, dialect: str):
    if dialect == "sqlite":
        return column.op("GLOB")(GLOB_SPECIAL.sub(r"[\1]", term) + "*")
    return column.startswith(term, autoescape=True)


def _name_contains(term: str, name_fts: str | None):
    # A trigram index serves terms of 3 characters or more; FTS5 takes LIKE without ESCAPE (no wildcards)
    if name_fts and len(term) >= 3 and not set(term) & set("%_"):
        fts = table(name_fts, column("rowid"), column("name"))
        return User.id.in_(select(fts.c.rowid).where(fts.c.name.like(f"%{term}%")))
    return User.name.icontains(term, autoescape=True)


def term_matches(term: str, dialect: str, name_fts: str | None = None):
    """The condition "this user matches this search term"."""
    bound = select(WeChatBinding.user_id).where(
        or_(_starts_with(WeChatBinding.openid, term, dialect), _starts_with(WeChatBinding.unionid, term, dialect))
    )
    arms = [
        _name_contains(term, name_fts),
        _starts_with(User.phone, term, dialect),
        User.id == any_(func.array(bound.scalar_subquery())) if dialect == "postgresql" else User.id.in_(bound),
    ]
    if term.isdigit() and int(term) <= MAX_ID:
        arms.append(User.id == int(term))
    return or_(*arms)


def search_users(q: str = "", sort: str = "created", descending: bool = True, page: int = 1,
                 name_fts: str | None = None) -> Page:
    """A page of the users matching every term of `q`, sorted by a whitelisted column, and their count."""
    dialect = db.session.get_bind().dialect.name
    conditions = [term_matches(term, dialect, name_fts) for term in q.split()]
    column = SORTS.get(sort, SORTS["created"])
    order = (column.desc(), User.id.desc()) if descending else (column.asc(), User.id.asc())
    users = db.session.scalars(
        select(User).where(*conditions).order_by(*order).limit(PER_PAGE).offset((max(page, 1) - 1) * PER_PAGE)
        .options(selectinload(User.bindings).selectinload(WeChatBinding.login_method))
    ).all()
    capped = select(User.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    return Page(list(users), db.session.scalar(select(func.count()).select_from(capped)))


def user_page(user_id: int) -> dict:
    """What a user's page shows: the user, their bindings, live access tokens and latest audit events."""
    user = db.session.get(User, user_id)
    return {
        "user": user,
        "bindings": list(db.session.scalars(select(WeChatBinding).where(WeChatBinding.user_id == user_id))),
        "tokens": list(db.session.scalars(
            select(AccessToken).where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None),
                                      AccessToken.expires_at > utcnow()).order_by(AccessToken.created_at.desc())
        )),
        "history": list(db.session.scalars(
            select(AuditEvent).where(AuditEvent.user_id == user_id).order_by(AuditEvent.id.desc()).limit(HISTORY)
        )),
    }
