"""Users of the mini programs as support sees them: search and filters at a million users, the CSV export,
history, editing a profile, disable and enable, signing out everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from annotated_types import MaxLen, MinLen
from flask_sqlalchemy.pagination import SelectPagination
from pydantic import AfterValidator, BaseModel, ConfigDict, Strict, ValidationError
from sqlalchemy import and_, any_, column, func, or_, select, table, update
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from console.database import end_read, rows_changed, transaction
from console.errors import LoginError
from console.extensions import db
from console.models import (
    USER_ACTIVE,
    USER_DISABLED,
    AccessToken,
    AuditEvent,
    Corp,
    LoginMethod,
    Membership,
    OneTimeCode,
    User,
    WeChatBinding,
    utcnow,
)
from console.models.name_search import NAME_SEARCH_TABLE
from console.services.audit import midnight, record
from console.services.inputs import MAX_ID, page_number
from console.services.rules import Rule, ordered_dates, refusal, storable
from console.services.spreadsheet import BOM, CsvLines

# Whitelisted sorts, each served by an index (migration 0003).
USER_SORTS = {"id": User.id, "name": User.name, "created": User.created_at}
GLOB_SPECIAL = re.compile(r"([*?\[])")
PAGE_SIZES = (20, 50, 100)
STATUSES = (USER_ACTIVE, USER_DISABLED)
# How the console names the last-login range's ends (the users list's filter form uses the same words).
SINCE_LABEL, UNTIL_LABEL = "Last login from", "Last login to"


@dataclass(frozen=True)
class UserQuery:
    """A search of the user list: free text, filters, a whitelisted sort, a direction, a page and a page size.

    The filters (None: any) are a login method's instance name, a status, a corp's corpId and the UTC days
    the user's last login falls in (their latest login through any binding).
    """

    q: str = ""
    sort: str = "created"
    desc: bool = True
    page: int = 1
    per_page: int = PAGE_SIZES[0]
    login_method: str | None = None
    status: str | None = None
    corp: str | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_args(cls, args, **filters) -> UserQuery:
        """Read the query string, falling back to the defaults for anything not whitelisted (pages clamped);
        the filters come checked by the caller (the console's filter form)."""
        sort = args.get("sort", cls.sort)
        per_page = args.get("per_page", cls.per_page, type=int)
        return cls(
            q=args.get("q", "").strip()[:200],
            sort=sort if sort in USER_SORTS else cls.sort,
            desc=args.get("dir", "desc" if cls.desc else "asc") != "asc",
            page=page_number(args.get("page", 1)),
            per_page=per_page if per_page in PAGE_SIZES else cls.per_page,
            **filters,
        )

    def filter_args(self) -> dict[str, str]:
        """The query string of what this search selects (its text and filters), without sort or page."""
        args = {
            "q": self.q,
            "login_method": self.login_method,
            "status": self.status,
            "corp": self.corp,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {key: value for key, value in args.items() if value}

    def link_args(self) -> dict[str, str]:
        """The query string of this search for the pager's links: its own fields, never whatever else came."""
        args = {**self.filter_args(), "sort": self.sort, "dir": "desc" if self.desc else "asc"}
        return {**args, "per_page": str(self.per_page)}


def check_last_login_range(since: date | None, until: date | None) -> None:
    """Refuse a last-login range that ends before it starts (it would show no user and say nothing)."""
    ordered_dates(since, until, SINCE_LABEL, UNTIL_LABEL)


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


def _last_login_between(since: date | None, until: date | None) -> list:
    """The user's latest login falls on the days since..until (UTC): one login in the range and none after it."""
    start = midnight(since) if since else None
    end = midnight(until + timedelta(days=1)) if until and until < date.max else None  # the last day bounds nothing
    in_range: list[ColumnElement[bool]] = [WeChatBinding.last_login_at.is_not(None)]
    if start is not None:
        in_range.append(WeChatBinding.last_login_at >= start)
    if end is not None:
        in_range.append(WeChatBinding.last_login_at < end)
    conditions = [User.bindings.any(and_(*in_range))]
    if end is not None:
        conditions.append(~User.bindings.any(WeChatBinding.last_login_at >= end))
    return conditions


def _conditions(query: UserQuery, dialect: str) -> list:
    """The WHERE clauses of the query's search terms and filters."""
    conditions = [_term_matches(term, dialect) for term in query.q.split()]
    if query.login_method:
        method_id = select(LoginMethod.id).where(LoginMethod.name == query.login_method).scalar_subquery()
        conditions.append(User.bindings.any(WeChatBinding.login_method_id == method_id))
    if query.status:
        conditions.append(User.status == query.status)
    if query.corp:
        corp_id = select(Corp.id).where(Corp.slug == query.corp).scalar_subquery()
        conditions.append(User.memberships.any(Membership.corp_id == corp_id))
    if query.since or query.until:
        conditions.extend(_last_login_between(query.since, query.until))
    return conditions


def search_users(query: UserQuery) -> CappedPagination:
    """A page of users whose name, phone, id, openId or unionId match every term of the query, and who pass
    its filters."""
    dialect = db.session.get_bind().dialect.name
    order = USER_SORTS[query.sort]
    statement = (
        select(User)
        .where(*_conditions(query, dialect))
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


def sign_out_everywhere(user: User) -> tuple[int, int]:
    """End every session of the user at once, as disabling does but leaving them able to log in again:
    (tokens revoked, pending codes voided)."""
    with transaction():
        revoked, voided = end_access(user.id)
        record("user.sign_out_everywhere", user_id=user.id, revokedTokens=revoked, voidedCodes=voided)
    return revoked, voided


# ---------------------------------------------------------------------------------------------------------
# A user's profile as support edits it.

NAME_MAX = 64  # the column's width, and the API's register rule
PHONE_INPUT_MAX = 32  # the column's width: more than any number with its spaces and dashes
PHONE_SEPARATORS = re.compile(r"[\s\-()]")
CHINESE_MOBILE = re.compile(r"1[3-9][0-9]{9}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _phone_number(text: str) -> str:
    """A phone number as WeChat's getPhoneNumber stores it: a Chinese mobile as its 11 digits (+86 dropped),
    any other as + and the country code (E.164). Spaces, dashes and brackets are dropped."""
    number = PHONE_SEPARATORS.sub("", text)
    if number.startswith("+86") and CHINESE_MOBILE.fullmatch(number[3:]):
        return number[3:]
    if CHINESE_MOBILE.fullmatch(number) or E164.fullmatch(number):
        return number
    raise ValueError("not a phone number")


# Kept without surrounding blanks; the length counts them, as the console form's Length does.
UserName = Annotated[
    str,
    Strict(),
    MaxLen(NAME_MAX),
    AfterValidator(storable),
    AfterValidator(str.strip),
    MinLen(1),
    Rule("{label} is required (a text of at most 64 characters)", field="name"),
]
PhoneNumber = Annotated[
    str,
    Strict(),
    MaxLen(PHONE_INPUT_MAX),
    AfterValidator(_phone_number),
    Rule(
        "{label} must be a mobile number: 11 digits in China (13800138000), else + and the country code "
        "(+14155550123); leave it empty to remove it",
        field="phone",
    ),
]


class Profile(BaseModel):
    """What support may change on a user: the name and the phone (None: no phone)."""

    model_config = ConfigDict(strict=True)

    name: UserName
    phone: PhoneNumber | None


PROFILE_LABELS = {"name": "The name", "phone": "The phone"}


def update_profile(user: User, name: object, phone: object) -> list[str]:
    """Change a user's name and phone (blank: none); the names of the fields that changed, audited with their
    values before and after."""
    if isinstance(phone, str) and not phone.strip():
        phone = None
    try:
        profile = Profile.model_validate({"name": name, "phone": phone})
    except ValidationError as error:
        raise refusal(error, Profile, PROFILE_LABELS) from None
    with transaction():
        changed = [field for field in ("name", "phone") if getattr(user, field) != getattr(profile, field)]
        if changed:
            before = {field: getattr(user, field) for field in changed}
            for field in changed:
                setattr(user, field, getattr(profile, field))
            record(
                "user.update",
                user_id=user.id,
                changed=changed,
                before=before,
                after={field: getattr(profile, field) for field in changed},
            )
    return changed


# ---------------------------------------------------------------------------------------------------------
# The CSV export.

EXPORT_BATCH = 1000
EXPORT_COLUMNS = ("id", "name", "phone", "status", "created_at", "last_login_at", "login_methods", "corps")
# The audit event's names for the query's filters.
EXPORT_FILTER_DETAILS = {
    "q": "search",
    "login_method": "loginMethod",
    "status": "status",
    "corp": "corp",
    "since": "lastLoginFrom",
    "until": "lastLoginTo",
}


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def export_users(query: UserQuery) -> Iterator[str]:
    """Record the export of the users the query selects (its filters and how many rows match now) and return
    their CSV, to be streamed: UTF-8 text after a byte order mark, in batches by id, cells safe from formulas.

    The event is written before the first row is read, so an export cut off half-way is in the audit log too.
    """
    dialect = db.session.get_bind().dialect.name
    conditions = _conditions(query, dialect)
    with transaction():
        rows = db.session.scalar(select(func.count()).select_from(select(User.id).where(*conditions).subquery()))
        filters: dict[str, Any] = {EXPORT_FILTER_DETAILS[key]: value for key, value in query.filter_args().items()}
        record("user.export", rows=rows, **filters)
    return _users_csv(conditions)


def _users_csv(conditions: list) -> Iterator[str]:
    """The CSV lines of the users passing the conditions, header first, read a batch of ids at a time."""
    line = CsvLines()
    yield BOM + line(EXPORT_COLUMNS)
    after = 0
    while True:
        batch = db.session.execute(
            select(User.id, User.name, User.phone, User.status, User.created_at)
            .where(*conditions, User.id > after)
            .order_by(User.id)
            .limit(EXPORT_BATCH)
        ).all()
        if not batch:
            break
        ids = [row.id for row in batch]
        logins: dict[int, list] = {}
        for user_id, method_name, last_login_at in db.session.execute(
            select(WeChatBinding.user_id, LoginMethod.name, WeChatBinding.last_login_at)
            .join(LoginMethod, LoginMethod.id == WeChatBinding.login_method_id)
            .where(WeChatBinding.user_id.in_(ids))
            .order_by(LoginMethod.name)
        ):
            logins.setdefault(user_id, []).append((method_name, last_login_at))
        corps: dict[int, list[str]] = {}
        for user_id, slug in db.session.execute(
            select(Membership.user_id, Corp.slug)
            .join(Corp, Corp.id == Membership.corp_id)
            .where(Membership.user_id.in_(ids))
            .order_by(Corp.slug)
        ):
            corps.setdefault(user_id, []).append(slug)
        end_read()  # no transaction is held while the client takes its time reading
        yield "".join(line(_export_row(row, logins.get(row.id, []), corps.get(row.id, []))) for row in batch)
        after = ids[-1]


def _export_row(user, logins: list, corps: list[str]) -> list:
    """A user's cells: `logins` are (login method, last login) of each binding, `corps` their corpIds."""
    last_login = max((moment for _, moment in logins if moment), default=None)
    return [
        user.id,
        user.name,
        user.phone,
        user.status,
        _iso(user.created_at),
        _iso(last_login),
        " ".join(name for name, _ in logins),
        " ".join(corps),
    ]
