"""Re-encrypt every secret at rest with the first key of ENCRYPTION_KEYS, batch by batch."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from console.extensions import db
from console.models import LoginMethod, OneTimeCode, SecondFactor, WeChatBinding
from console.security.keyring import KeyRingError, keyring

# (model, column) of every encrypted value; a new secret column must be listed here to be rotated.
SEALED_COLUMNS = (
    (LoginMethod, LoginMethod.app_secret_ciphertext),
    (WeChatBinding, WeChatBinding.session_key_ciphertext),
    (OneTimeCode, OneTimeCode.session_key_ciphertext),
    (SecondFactor, SecondFactor.secret_ciphertext),  # console accounts' authenticator secrets
)


@dataclass
class RotationReport:
    """What a rotation did: values re-encrypted, and the rows whose value no key opens."""

    rotated: int = 0
    unreadable: list[str] = field(default_factory=list)


def count_sealed_values() -> int:
    """How many encrypted values the database holds."""
    return sum(
        db.session.scalar(select(func.count()).select_from(model).where(column.is_not(None)))
        for model, column in SEALED_COLUMNS
    )


def rotate_sealed_values(batch_size: int = 500, on_progress=lambda done: None) -> RotationReport:
    """Re-encrypt every value with the first key; each batch commits, so a stopped run can simply be run again."""
    ring, report = keyring(), RotationReport()
    for model, column in SEALED_COLUMNS:
        last_id = 0
        while True:
            rows = db.session.execute(
                select(model.id, column)
                .where(column.is_not(None), model.id > last_id)
                .order_by(model.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            for row_id, sealed in rows:
                if sealed is None:  # the query leaves these out; this tells the type checker
                    continue
                try:
                    fresh = ring.rotate(sealed)
                except KeyRingError:
                    report.unreadable.append(f"{model.__tablename__} id={row_id}")
                    continue
                # Only if unchanged since we read it: a login may have stored a new session key meanwhile.
                db.session.execute(update(model).where(model.id == row_id, column == sealed).values({column: fresh}))
                report.rotated += 1
            db.session.commit()
            last_id = rows[-1][0]
            on_progress(len(rows))
    return report
