"""The shapes in which users, corps and bindings are answered, by the Python API and the JSON API alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from console.extensions import db
from console.models import Corp, LoginMethod, Membership, User, WeChatBinding


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def user_dict(user: User) -> dict:
    """{"userId", "name", "avatarUrl", "phone", "createdAt"}"""
    return {
        "userId": user.id,
        "name": user.name,
        "avatarUrl": user.avatar_url,
        "phone": user.phone,
        "createdAt": iso(user.created_at),
    }


def user_corps(user_id: int) -> list[Corp]:
    """The corps a user belongs to, by name."""
    return list(
        db.session.scalars(
            select(Corp).join(Membership, Membership.corp_id == Corp.id).where(Membership.user_id == user_id).order_by(Corp.name, Corp.id)
        )
    )


def corp_list(user_id: int) -> list[dict]:
    """[{"corpId", "name"}] of the user's corps (columns only: every login answers it)."""
    rows = db.session.execute(
        select(Corp.slug, Corp.name).join(Membership, Membership.corp_id == Corp.id)
        .where(Membership.user_id == user_id).order_by(Corp.name, Corp.id)
    )
    return [{"corpId": slug, "name": name} for slug, name in rows]


def binding_list(user_id: int) -> list[dict]:
    """[{"loginMethod", "appId", "openId", "unionId", "boundAt"}] of the user's WeChat bindings."""
    rows = db.session.execute(
        select(WeChatBinding, LoginMethod)
        .join(LoginMethod, LoginMethod.id == WeChatBinding.login_method_id)
        .where(WeChatBinding.user_id == user_id)
        .order_by(LoginMethod.name)
    )
    return [
        {
            "loginMethod": method.name,
            "appId": method.app_id,
            "openId": binding.openid,
            "unionId": binding.unionid,
            "boundAt": iso(binding.bound_at),
        }
        for binding, method in rows
    ]
