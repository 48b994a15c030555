"""Audit events, written in the same transaction as the change they describe."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g
from sqlalchemy import insert

from console.extensions import db
from console.models import AuditEvent, LoginMethod, utcnow

# Detail keys that must never be written, whatever a caller passes.
SECRET_KEYS = {"appSecret", "app_secret", "sessionKey", "session_key", "code", "ticket", "token", "bindCode", "loginCode"}


@dataclass(frozen=True)
class Actor:
    """Who acts: the JSON API, a console account, the CLI, or Python code in the app."""

    type: str
    name: str
    address: str | None = None


PYTHON_ACTOR = Actor("app", "python")
INSERT_EVENT = insert(AuditEvent)  # built once: every login writes an event


def set_actor(actor: Actor) -> None:
    """Name the actor of the audit events written during this request or command."""
    g.audit_actor = actor


def current_actor() -> Actor:
    """The actor set for this context, else Python code in the app."""
    return g.get("audit_actor", PYTHON_ACTOR)


def record(action: str, *, user_id: int | None = None, method: LoginMethod | None = None, **details) -> None:
    """Write an audit event in the current transaction."""
    actor = current_actor()
    db.session.execute(INSERT_EVENT, dict(
        created_at=utcnow(),
        actor_type=actor.type,
        actor=actor.name,
        action=action,
        user_id=user_id,
        login_method_id=method.id if method else None,
        login_method_name=method.name if method else None,
        source_address=actor.address,
        details={key: value for key, value in details.items() if key not in SECRET_KEYS and value is not None},
    ))
