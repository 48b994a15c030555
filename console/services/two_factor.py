"""A console account's second factor: an authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30 s) and ten
one-time recovery codes.

The secret is sealed with the key ring like an appSecret and is shown only while enrolling, before the first code
confirms it. A code is accepted within one time step of drift either way, and once: the step of the last accepted
code is kept per account and a code of that step or an earlier one is refused, in one conditional UPDATE so two
concurrent sign-ins with one code cannot both pass. Recovery codes are stored as SHA-256 digests and redeemed the
same way as the API's one-time codes. Sessions and the lockout are console_accounts' business; this module only
says whether a code is good.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from console.database import rows_changed, transaction
from console.errors import Refused
from console.extensions import db
from console.models import AdminAccount, RecoveryCode, SecondFactor, utcnow
from console.security.codes import digest
from console.security.keyring import keyring
from console.services.audit import record

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # a phone's clock may be one step ahead or behind, no more
RECOVERY_CODES = 10
RECOVERY_CODE_BYTES = 10  # 80 bits: too many to search even knowing the digest, so plain SHA-256 suffices
ISSUER = "WeChat login console"  # what the authenticator app shows above the username
TOTP_PATTERN = re.compile(rf"[0-9]{{{DIGITS}}}")  # ASCII only: \d would take any script's digits
RECOVERY_PATTERN = re.compile(rf"[0-9a-f]{{{RECOVERY_CODE_BYTES * 2}}}")
CODE_MISMATCH = "That code does not match: check the clock of your device and type the newest code."


def clock() -> float:
    """The time codes are checked against, in seconds since the epoch; tests replace it."""
    return time.time()


def current_step() -> int:
    """The RFC 6238 time step of now."""
    return int(clock() // STEP_SECONDS)


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs: the secret as text and as the otpauth:// URI its QR code carries."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, easier to type."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    @property
    def qr_data_url(self) -> str:
        """The URI as a QR code, an SVG data: URL (the pages' policy allows data: images and nothing inline)."""
        return segno.make(self.uri, error="m").svg_data_uri(scale=5, light="#fff", title="Authenticator set-up")


def _totp(sealed_secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(keyring().decrypt(sealed_secret), digits=DIGITS, interval=STEP_SECONDS)


def _matching_step(factor: SecondFactor, code: str) -> int | None:
    """The time step within the drift whose code is `code` and that is later than the last accepted one."""
    if not TOTP_PATTERN.fullmatch(code):
        return None
    totp, now = _totp(factor.secret_ciphertext), current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if factor.last_step is not None and step <= factor.last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _take_step(factor: SecondFactor, step: int) -> bool:
    """Record `step` as the last accepted one unless an equal or later one was accepted meanwhile."""
    taken = rows_changed(
        update(SecondFactor)
        .where(
            SecondFactor.id == factor.id,
            or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    if taken:
        factor.last_step = step
    return taken == 1


def normalise(code: str) -> str:
    """A typed code without blanks and dashes, in lower case: how recovery codes are compared."""
    return re.sub(r"[\s-]", "", code).lower()


def _factor(account: AdminAccount, confirmed: bool = True) -> SecondFactor | None:
    factor = db.session.scalar(select(SecondFactor).where(SecondFactor.account_id == account.id))
    if factor is not None and confirmed and factor.confirmed_at is None:
        return None
    return factor


def is_enrolled(account: AdminAccount) -> bool:
    """Whether the account signs in with a second factor."""
    return _factor(account) is not None


def enrolled_since(account: AdminAccount):
    """When the account's second factor was confirmed, or None."""
    factor = _factor(account)
    return factor.confirmed_at if factor else None


def enrolled_ids(account_ids: list[int]) -> set[int]:
    """The ids among `account_ids` of accounts with a confirmed second factor."""
    return set(
        db.session.scalars(
            select(SecondFactor.account_id).where(
                SecondFactor.account_id.in_(account_ids), SecondFactor.confirmed_at.is_not(None)
            )
        )
    )


def recovery_codes_left(account: AdminAccount) -> int:
    """How many of the account's recovery codes are unused."""
    return (
        db.session.scalar(
            select(func.count()).where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def begin_enrolment(account: AdminAccount) -> Enrolment:
    """A new secret for the account, or the one it is already enrolling with (a reload shows the same QR code)."""
    factor = _factor(account, confirmed=False)
    if factor is not None and factor.confirmed_at is not None:
        raise Refused("Two-factor sign-in is already on for this account.")
    if factor is None:
        try:
            with transaction():
                factor = SecondFactor(account_id=account.id, secret_ciphertext=keyring().encrypt(pyotp.random_base32()))
                db.session.add(factor)
        except IntegrityError:  # the same account's other tab began at the same moment: use its secret
            return begin_enrolment(account)
    secret = keyring().decrypt(factor.secret_ciphertext)
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account.username, issuer_name=ISSUER
    )
    return Enrolment(secret, uri)


def confirm(account: AdminAccount, code: str) -> list[str]:
    """Turn the second factor on once the first code from the app matches, in the caller's transaction; the new
    recovery codes, to show once. Refuse a wrong code, naming the field."""
    factor = _factor(account, confirmed=False)
    if factor is None or factor.confirmed_at is not None:
        raise Refused("Start the set-up again: this account is not setting up two-factor sign-in.")
    step = _matching_step(factor, code.strip())
    if step is None or not _take_step(factor, step):
        raise Refused(CODE_MISMATCH, field="code")
    factor.confirmed_at = utcnow()
    codes = _replace_recovery_codes(account)
    record("console.two_factor_enrol", username=account.username)
    return codes


def _replace_recovery_codes(account: AdminAccount) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = [secrets.token_hex(RECOVERY_CODE_BYTES) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(account_id=account.id, digest=digest(code)) for code in codes)
    return [format_recovery_code(code) for code in codes]


def format_recovery_code(code: str) -> str:
    """A recovery code in groups of five, as it is shown."""
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


def check_code(account: AdminAccount, code: str) -> str | None:
    """Accept a code from the authenticator or an unused recovery code, once, in the caller's transaction.

    Returns what was accepted ("authenticator" or "recovery code"), or None. A used recovery code is audited.
    """
    factor = _factor(account)
    if factor is None:
        return None
    code = code.strip()
    if TOTP_PATTERN.fullmatch(code):
        step = _matching_step(factor, code)
        return "authenticator" if step is not None and _take_step(factor, step) else None
    recovery = normalise(code)
    if not RECOVERY_PATTERN.fullmatch(recovery):
        return None
    redeemed = rows_changed(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.digest == digest(recovery),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if redeemed != 1:
        return None
    record("console.recovery_code_use", username=account.username, left=recovery_codes_left(account))
    return "recovery code"


def renew_recovery_codes(account: AdminAccount, code: str) -> list[str]:
    """Ten new recovery codes in place of the old ones, for a current code from the authenticator; shown once."""
    with transaction():
        factor = _factor(account)
        if factor is None:
            raise Refused("Two-factor sign-in is off for this account.")
        step = _matching_step(factor, code.strip())
        if step is None or not _take_step(factor, step):
            raise Refused(CODE_MISMATCH, field="code")
        codes = _replace_recovery_codes(account)
        record("console.recovery_codes_renew", username=account.username)
    return codes


def remove(account: AdminAccount) -> bool:
    """Delete the account's second factor and recovery codes in the caller's transaction; whether it had any."""
    factors = rows_changed(delete(SecondFactor).where(SecondFactor.account_id == account.id))
    codes = rows_changed(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    return bool(factors or codes)
