"""The people side for support: find users, their corps and tokens, disable them; corps and memberships."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import any_, column, func, or_, select, table
from sqlalchemy.orm import selectinload

from console.errors import Refused
from console.extensions import db
from console.login.audit import record
from console.login.element import transaction
from console.sqlite import NAME_SEARCH_TABLE
from console.models import (
    USER_ACTIVE,
    USER_DISABLED,
    AccessToken,
    AuditEvent,
    Corp,
    LoginMethod,
    Membership,
    User,
    WeChatBinding,
    utcnow,
)

SLUG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Whitelisted sorts, each served by an index (migration 0003).
USER_SORTS = {"id": User.id, "name": User.name, "created": User.created_at}
MAX_USER_ID = 2**31 - 1
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
        """Read the query string, falling back to the defaults for anything not whitelisted."""
        sort = args.get("sort", cls.sort)
        per_page = args.get("per_page", cls.per_page, type=int)
        return cls(
            q=args.get("q", "").strip()[:200],
            sort=sort if sort in USER_SORTS else cls.sort,
            desc=args.get("dir", "desc" if cls.desc else "asc") != "asc",
            page=max(args.get("page", 1, type=int) or 1, 1),
            per_page=per_page if per_page in PAGE_SIZES else cls.per_page,
        )


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
    if term.isdigit() and int(term) <= MAX_USER_ID:
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
    return CappedPagination(select=statement, session=db.session(), page=query.page, per_page=query.per_page,
                            error_out=False)


def user_bindings(user: User) -> list[WeChatBinding]:
    """The user's WeChat bindings, by login method name."""
    return list(
        db.session.scalars(
            select(WeChatBinding)
            .join(LoginMethod, LoginMethod.id == WeChatBinding.login_method_id)
            .where(WeChatBinding.user_id == user.id)
            .order_by(LoginMethod.name)
        )
    )


def active_tokens(user: User) -> list[AccessToken]:
    """The user's access tokens that still work, newest first."""
    return list(
        db.session.scalars(
            select(AccessToken)
            .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None), AccessToken.expires_at > utcnow())
            .order_by(AccessToken.created_at.desc())
        )
    )


def user_history(user: User, limit: int = 50) -> list[AuditEvent]:
    """The latest audit events about the user."""
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.user_id == user.id).order_by(AuditEvent.id.desc()).limit(limit)
        )
    )


def set_user_disabled(user: User, disabled: bool) -> None:
    """Disable a user (their tokens stop working, they cannot log in) or enable them again."""
    with transaction():
        user.status = USER_DISABLED if disabled else USER_ACTIVE
        record("user.disable" if disabled else "user.enable", user_id=user.id)


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of the user's live access tokens at once."""
    with transaction():
        token = db.session.scalar(
            select(AccessToken).where(AccessToken.id == token_id, AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
        )
        if token is None:
            raise Refused("That access token is unknown or already revoked.")
        token.revoked_at = utcnow()
        record("token.revoke", user_id=user.id, method=token.login_method, tokenId=token.id)


def list_corps() -> list[Corp]:
    """Every corp, by name."""
    return list(db.session.scalars(select(Corp).order_by(Corp.name, Corp.id)))


def _check_corp_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise Refused("A corp name is a text of 1 to 128 characters.", field="name")
    return name


def create_corp(slug: str, name: str) -> Corp:
    """Create a corp; `slug` is its public corpId and never changes."""
    if not SLUG_PATTERN.match(slug or ""):
        raise Refused("A corpId is 1 to 64 letters, digits, _ or -, starting with a letter or digit.", field="slug")
    name = _check_corp_name(name)
    with transaction():
        if db.session.scalar(select(Corp.id).where(Corp.slug == slug)) is not None:
            raise Refused(f"A corp with the corpId {slug!r} already exists.", field="slug")
        corp = Corp(slug=slug, name=name)
        db.session.add(corp)
        db.session.flush()
        record("corp.create", corpId=slug, name=name)
    return corp


def rename_corp(corp: Corp, name: str) -> None:
    """Give a corp a new display name."""
    name = _check_corp_name(name)
    with transaction():
        previous, corp.name = corp.name, name
        record("corp.rename", corpId=corp.slug, name=name, previousName=previous)


def member_counts() -> dict[int, int]:
    """{corp id: number of members}"""
    rows = db.session.execute(select(Membership.corp_id, func.count()).group_by(Membership.corp_id))
    return dict(rows.all())


def add_membership(user: User, corp_id: int) -> None:
    """Make the user a member of the corp."""
    with transaction():
        corp = db.session.get(Corp, corp_id)
        if corp is None:
            raise Refused("That corp does not exist.", field="corp_id")
        if db.session.get(Membership, (user.id, corp.id)) is not None:
            raise Refused(f"The user is already a member of {corp.name}.", field="corp_id")
        db.session.add(Membership(user_id=user.id, corp_id=corp.id))
        record("membership.add", user_id=user.id, corpId=corp.slug)


def remove_membership(user: User, corp_id: int) -> None:
    """End the user's membership of the corp."""
    with transaction():
        membership = db.session.get(Membership, (user.id, corp_id))
        if membership is None:
            raise Refused("The user is not a member of that corp.")
        record("membership.remove", user_id=user.id, corpId=membership.corp.slug)
        db.session.delete(membership)
