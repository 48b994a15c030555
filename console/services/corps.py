"""Corps (the corpList of a login) and the memberships that put users in them."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from console.database import transaction
from console.errors import Refused
from console.extensions import db
from console.models import Corp, Membership, User
from console.services.answers import CorpOut
from console.services.audit import record

SLUG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def user_corps(user_id: int) -> list[Corp]:
    """The corps a user belongs to, by name."""
    return list(
        db.session.scalars(
            select(Corp)
            .join(Membership, Membership.corp_id == Corp.id)
            .where(Membership.user_id == user_id)
            .order_by(Corp.name, Corp.id)
        )
    )


def corp_list(user_id: int) -> list[CorpOut]:
    """The user's corps as a login answers them (columns only: every login reads it)."""
    rows = db.session.execute(
        select(Corp.slug, Corp.name)
        .join(Membership, Membership.corp_id == Corp.id)
        .where(Membership.user_id == user_id)
        .order_by(Corp.name, Corp.id)
    )
    return [CorpOut(corpId=slug, name=name) for slug, name in rows]


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
