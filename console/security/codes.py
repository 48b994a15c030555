"""Random one-time values: codes, tickets and tokens, stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import insert, select, update

from console.database import rows_changed
from console.extensions import db
from console.models import OneTimeCode, utcnow

# 32 random bytes: 256 bits, url-safe base64 without padding (43 characters)
TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
INSERT_CODE = insert(OneTimeCode)  # built once: every login writes a code


def new_secret_value() -> str:
    """A fresh random value of 256 bits for a code, ticket or token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(value: str) -> str:
    """The SHA-256 hex digest under which a code or token is stored."""
    return hashlib.sha256(value.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Whether a value has the shape of something we issue (cheap filter before a lookup)."""
    return bool(TOKEN_PATTERN.match(value))


def issue_code(kind: str, ttl_seconds: int, **fields) -> str:
    """Write a one-time code of `kind` in the current transaction and return its value (only its digest is stored)."""
    value = new_secret_value()
    now = utcnow()
    db.session.execute(
        INSERT_CODE,
        dict(
            kind=kind, digest=digest(value), created_at=now, expires_at=now + timedelta(seconds=ttl_seconds), **fields
        ),
    )
    return value


def find_code(kind: str, value: str, login_method_id: int) -> OneTimeCode | None:
    """The unused, unexpired code of this kind and login method, without redeeming it."""
    if not looks_like_token(value):
        return None
    return db.session.scalar(
        select(OneTimeCode).where(
            OneTimeCode.kind == kind,
            OneTimeCode.digest == digest(value),
            OneTimeCode.login_method_id == login_method_id,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > utcnow(),
        )
    )


def redeem_code(kind: str, value: str, login_method_id: int | None = None) -> OneTimeCode | None:
    """Mark the code used in one conditional UPDATE and return it; None if it is not redeemable.

    The row count of the UPDATE decides: of two concurrent redemptions, exactly one matches
    `used_at IS NULL`, whatever the database's locking (SQLite ignores FOR UPDATE).
    """
    if not looks_like_token(value):
        return None
    now = utcnow()
    conditions = [
        OneTimeCode.kind == kind,
        OneTimeCode.digest == digest(value),
        OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > now,
    ]
    if login_method_id is not None:
        conditions.append(OneTimeCode.login_method_id == login_method_id)
    redeemed = rows_changed(
        update(OneTimeCode).where(*conditions).values(used_at=now).execution_options(synchronize_session=False)
    )
    if redeemed != 1:
        return None
    return db.session.scalar(select(OneTimeCode).where(OneTimeCode.digest == digest(value)))
