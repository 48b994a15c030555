"""Users of the mini programs as support sees them: search at a million users, history, disable and enable."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import any_, column, func, or_, select, table, update
from sqlalchemy.orm import selectinload

from console.database import rows_changed, transaction
from console.errors import LoginError
from console.extensions import db
from console.models import (
    USER_ACTIVE,
    USER_DISABLED,
    AccessToken,
    AuditEvent,
    OneTimeCode,
    User,
    WeChatBinding,
    utcnow,
)
from console.models.name_search import NAME_SEARCH_TABLE
from console.services.audit import record
from console.services.inputs import MAX_ID, page_number

# Whitelisted sorts, each served by an index (migration 0003).
USER_SORTS = {"id": User.id, "name": User.name, "created": User.created_at}
GLOB_SPECIAL = re.compile(r"([*?\[])")
PAGE_SIZES = (20, 50, 100)


@dataclass(frozen=True)
class UserQuery:
    """A search of the user list: free text, a whitelisted sort, a direction, a page and a page size."""

    q: str = ""
    sort: str = "created"
    desc: bool = True
    page: int = 1
    per_page: int = PAGE_SIZES[0]

    @classmethod
    def from_args(cls, args) -> UserQuery:
        """Read the query string, falling back to the defaults for anything not whitelisted (pages clamped)."""
        sort = args.get("sort", cls.sort)
        per_page = args.get("per_page", cls.per_page, type=int)
        return cls(
            q=args.get("q", "").strip()[:200],
            sort=sort if sort in USER_SORTS else cls.sort,
            desc=args.get("dir", "desc" if cls.desc else "asc") != "asc",
            page=page_number(args.get("page", 1)),
            per_page=per_page if per_page in PAGE_SIZES else cls.per_page,
        )

    def link_args(self) -> dict[str, str]:
        """The query string of this search for the pager's links: its own fields, never whatever else came."""
        args = {"q": self.q, "sort": self.sort, "dir": "desc" if self.desc else "asc", "per_page": str(self.per_page)}
        return {key: value for key, value in args.items() if value}


def _starts_with(column, term: str, dialect: str):
    """column LIKE 'term%' in the form each database can answer from an index."""
    if dialect == "sqlite":
        # SQLite's LIKE ignores case and so cannot use a plain index; GLOB compares exactly and can.
        return column.op("GLOB")(GLOB_SPECIAL.sub(r"[\1]", term) + "*")
    return column.startswith(term, autoescape=True)


def _name_contains(term: str, dialect: str):
    """The name contains the term, any case: pg_trgm serves ILIKE on PostgreSQL, FTS5 trigrams on SQLite."""
    if dialect == "sqlite" and len(term) >= 3 and not set(term) & set("%_"):  # FTS5's LIKE knows no ESCAPE
        names = table(NAME_SEARCH_TABLE, column("rowid"), column("name"))
        return User.id.in_(select(names.c.rowid).where(names.c.name.like(f"%{term}%")))
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return User.name.ilike(f"%{escaped}%", escape="\\")


def _term_matches(term: str, dialect: str):
    """A user matches a term when the name contains it, the phone, an openId or a unionId starts with it
    (the whole value included), or the id equals it."""
    bound = select(WeChatBinding.user_id).where(
        or_(_starts_with(WeChatBinding.openid, term, dialect), _starts_with(WeChatBinding.unionid, term, dialect))
    )
    arms = [
        _name_contains(term, dialect),
        _starts_with(User.phone, term, dialect),
        # PostgreSQL's planner ORs an = ANY(ARRAY(...)) with the other arms' indexes; an IN (SELECT ...)
        # inside an OR it runs as a filter on every row.
        User.id == any_(func.array(bound.scalar_subquery())) if dialect == "postgresql" else User.id.in_(bound),
    ]
    # isdecimal(), not isdigit(): "²" and "①" are digits that int() refuses. Ten digits at most are read, so
    # int() never meets a number longer than it converts.
    if term.isdecimal() and len(term) <= len(str(MAX_ID)) and int(term) <= MAX_ID:
        arms.append(User.id == int(term))
    return or_(*arms)


class CappedPagination(SelectPagination):
    """Counts matching rows only up to ten pages past the current one: a million users are never counted."""

    capped = False  # True when more rows match than were counted

    def _query_count(self) -> int:
        cap = (self.page + 10) * self.per_page + 1
        statement = self._query_args["select"].order_by(None).limit(cap).subquery()
        counted = self._query_args["session"].execute(select(func.count()).select_from(statement)).scalar()
        self.capped = counted == cap
        return counted - 1 if self.capped else counted


def search_users(query: UserQuery) -> CappedPagination:
    """A page of users whose name, phone, id, openId or unionId match every term of the query."""
    dialect = db.session.get_bind().dialect.name
    order = USER_SORTS[query.sort]
    statement = (
        select(User)
        .where(*(_term_matches(term, dialect) for term in query.q.split()))
        .options(selectinload(User.bindings).selectinload(WeChatBinding.login_method))
        .order_by(order.desc() if query.desc else order.asc(), User.id.desc() if query.desc else User.id.asc())
    )
    return CappedPagination(
        select=statement, session=db.session(), page=query.page, per_page=query.per_page, error_out=False
    )


def user_history(user: User, limit: int = 50) -> list[AuditEvent]:
    """The latest audit events about the user."""
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.user_id == user.id).order_by(AuditEvent.id.desc()).limit(limit)
        )
    )


def end_access(user_id: int) -> tuple[int, int]:
    """Revoke every live access token of the user and void their pending loginCodes and bind tickets, in the
    current transaction: (tokens revoked, codes voided). Nothing brings them back."""
    now = utcnow()
    revoked = rows_changed(
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None), AccessToken.expires_at > now)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    # Only codes that name the user: bindCodes belong to WeChat users not registered yet.
    voided = rows_changed(
        update(OneTimeCode)
        .where(OneTimeCode.user_id == user_id, OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return revoked, voided


def set_user_disabled(user: User, disabled: bool) -> None:
    """Disable a user (their tokens and pending codes end for good, they cannot log in) or enable them again."""
    with transaction():
        user.status = USER_DISABLED if disabled else USER_ACTIVE
        if disabled:
            # Revoked, not merely refused while disabled: enabling the user again must not revive old access.
            revoked, voided = end_access(user.id)
            record("user.disable", user_id=user.id, revokedTokens=revoked, voidedCodes=voided)
        else:
            record("user.enable", user_id=user.id)


def active_user(user_id: int) -> User:
    """The user with that id, who must exist and not be disabled."""
    user = db.session.get(User, user_id)
    if user is None:
        raise LoginError("user_not_found", f"No user has the id {user_id}.")
    if user.is_disabled:
        raise LoginError("account_disabled")
    return user
