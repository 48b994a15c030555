"""The second factor itself: RFC 6238 codes within one step of drift, each accepted once; recovery codes once; the
secret sealed at rest; the set-up."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import func, select, update

from console.database import transaction
from console.errors import Refused
from console.extensions import db
from console.models import AdminAccount, AuditEvent, RecoveryCode, SecondFactor
from console.security.keyring import keyring
from console.security.rotation import rotate_sealed_values
from console.services import two_factor
from tests.totp import START, clock_fixture, code_at, enrol  # noqa: F401  (the clock fixture)

STEP = two_factor.STEP_SECONDS


def check(app, account_id, code):
    """two_factor.check_code in its own transaction, as sign-in calls it."""
    with app.app_context(), transaction():
        return two_factor.check_code(db.session.get(AdminAccount, account_id), code)


@pytest.fixture
def boss(make_account):
    return make_account("boss")


def test_the_codes_are_rfc_6238_sha1_six_digits_thirty_seconds(app, boss, clock):
    # RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at 59 s gives 94287082 (8 digits; 6: 287082).
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    with app.app_context():
        factor = SecondFactor(
            account_id=boss, secret_ciphertext=keyring().encrypt(secret), confirmed_at=two_factor.utcnow()
        )
        db.session.add(factor)
        db.session.commit()
    clock.now = 59

    assert check(app, boss, "287082") == "authenticator"


@pytest.mark.parametrize("steps", [-1, 0, 1], ids=["one step behind", "on time", "one step ahead"])
def test_a_code_within_one_step_of_drift_is_accepted(app, boss, clock, steps):
    secret, _ = enrol(app, boss, clock)
    clock.advance(10 * STEP)  # far from the set-up's step, which is spent

    assert check(app, boss, code_at(secret, clock.now, steps)) == "authenticator"


@pytest.mark.parametrize("steps", [-2, 2, -10, 10], ids=["two behind", "two ahead", "ten behind", "ten ahead"])
def test_a_code_two_or_more_steps_away_is_refused(app, boss, clock, steps):
    secret, _ = enrol(app, boss, clock)
    clock.advance(10 * STEP)  # far from the set-up's step, so only the drift refuses

    assert check(app, boss, code_at(secret, clock.now, steps)) is None
    assert check(app, boss, code_at(secret, clock.now)) == "authenticator"  # the right one still works


def test_a_code_is_accepted_once_and_never_again_within_its_window(app, boss, clock):
    secret, _ = enrol(app, boss, clock)
    code = code_at(secret, clock.now)

    assert check(app, boss, code) == "authenticator"
    assert check(app, boss, code) is None
    clock.advance(STEP)  # still within the drift of the next step
    assert check(app, boss, code) is None
    assert check(app, boss, code_at(secret, clock.now)) == "authenticator"


def test_of_two_concurrent_sign_ins_with_one_code_only_one_gets_in(app, boss, clock):
    secret, _ = enrol(app, boss, clock)
    code = code_at(secret, clock.now)
    with app.app_context():
        account = db.session.get(AdminAccount, boss)
        read = db.session.scalar(select(SecondFactor))  # this request read the factor before the other accepted it
        with db.engine.begin() as other_request:
            other_request.execute(update(SecondFactor).values(last_step=two_factor.current_step()))
        with transaction():
            assert two_factor.check_code(account, code) is None  # the conditional UPDATE decides, not what was read
        assert read.last_step == two_factor.current_step() - 1  # what this request read: the set-up step


def test_after_a_code_ahead_of_time_an_older_step_is_refused(app, boss, clock):
    secret, _ = enrol(app, boss, clock)

    assert check(app, boss, code_at(secret, clock.now, 1)) == "authenticator"
    assert check(app, boss, code_at(secret, clock.now)) is None  # an earlier step than the last accepted


def test_the_set_up_code_is_spent_too(app, boss, clock):
    with app.app_context():
        account = db.session.get(AdminAccount, boss)
        secret = two_factor.begin_enrolment(account).secret
        with transaction():
            two_factor.confirm(account, code_at(secret, clock.now))

    assert check(app, boss, code_at(secret, clock.now)) is None


def test_the_last_accepted_step_is_stored_per_account(app, make_account, boss, clock):
    other = make_account("other")
    secret, _ = enrol(app, boss, clock)
    clock.advance(-STEP)
    other_secret, _ = enrol(app, other, clock)

    assert check(app, boss, code_at(secret, clock.now)) == "authenticator"
    assert check(app, other, code_at(other_secret, clock.now)) == "authenticator"
    with app.app_context():
        steps = dict(db.session.execute(select(SecondFactor.account_id, SecondFactor.last_step)).all())
        assert steps == {boss: int(clock.now // STEP), other: int(clock.now // STEP)}


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 56", "１２３４５６"])
def test_malformed_codes_are_refused(app, boss, clock, code):
    enrol(app, boss, clock)
    assert check(app, boss, code) is None


def test_ten_recovery_codes_each_work_once_whatever_the_case_blanks_and_dashes(app, boss, clock):
    _, codes = enrol(app, boss, clock)
    assert len(codes) == len(set(codes)) == 10

    assert check(app, boss, codes[0]) == "recovery code"
    assert check(app, boss, codes[0]) is None
    assert check(app, boss, " " + codes[1].upper().replace("-", " ") + " ") == "recovery code"
    assert check(app, boss, codes[1]) is None
    with app.app_context():
        account = db.session.get(AdminAccount, boss)
        assert two_factor.recovery_codes_left(account) == 8
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "console.recovery_code_use")).all()
        assert [event.details for event in events] == [{"username": "boss", "left": 9}, {"username": "boss", "left": 8}]


def test_recovery_codes_are_stored_only_as_digests_and_belong_to_one_account(app, make_account, boss, clock):
    other = make_account("other")
    _, codes = enrol(app, boss, clock)
    enrol(app, other, clock)

    assert check(app, other, codes[0]) is None
    with app.app_context():
        stored = " ".join(db.session.scalars(select(RecoveryCode.digest)))
    for code in codes:
        assert code not in stored and two_factor.normalise(code) not in stored


def test_an_account_without_a_confirmed_second_factor_accepts_no_code(app, boss, clock):
    with app.app_context():
        secret = two_factor.begin_enrolment(db.session.get(AdminAccount, boss)).secret

    assert check(app, boss, code_at(secret, clock.now)) is None


def test_the_secret_is_sealed_with_the_key_ring_and_a_reload_shows_the_same_one(app, boss):
    with app.app_context():
        account = db.session.get(AdminAccount, boss)
        first = two_factor.begin_enrolment(account)
        again = two_factor.begin_enrolment(account)
        sealed = db.session.scalar(select(SecondFactor.secret_ciphertext))

    assert first == again
    assert len(first.secret) == 32 and pyotp.TOTP(first.secret).now().isdigit()  # 160 bits of base32
    assert first.secret not in sealed
    with app.app_context():
        assert keyring().decrypt(sealed) == first.secret
    assert first.uri.startswith("otpauth://totp/WeChat%20login%20console:boss?secret=" + first.secret)
    assert first.qr_data_url.startswith("data:image/svg+xml")


def test_a_wrong_first_code_leaves_two_factor_off(app, boss, clock):
    with app.app_context():
        account = db.session.get(AdminAccount, boss)
        secret = two_factor.begin_enrolment(account).secret
        with pytest.raises(Refused) as refused, transaction():
            two_factor.confirm(account, code_at(secret, clock.now, 2))
        assert refused.value.field == "code"
        assert not two_factor.is_enrolled(account)
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_setting_up_twice_is_refused(app, boss, clock):
    enrol(app, boss, clock)
    with app.app_context(), pytest.raises(Refused, match="already on"):
        two_factor.begin_enrolment(db.session.get(AdminAccount, boss))


def test_new_recovery_codes_replace_the_old_ones_for_a_current_code(app, boss, clock):
    secret, old = enrol(app, boss, clock)
    with app.app_context():
        account = db.session.get(AdminAccount, boss)
        with pytest.raises(Refused):
            two_factor.renew_recovery_codes(account, old[0])  # a recovery code is not enough here
        new = two_factor.renew_recovery_codes(account, code_at(secret, clock.now))
        assert set(new).isdisjoint(old) and len(new) == 10
        assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == (
            "console.recovery_codes_renew"
        )

    assert check(app, boss, old[1]) is None
    assert check(app, boss, new[0]) == "recovery code"


def test_rotate_keys_reseals_the_secret(app, boss, clock):
    secret, _ = enrol(app, boss, clock)
    with app.app_context():
        before = db.session.scalar(select(SecondFactor.secret_ciphertext))
        # a new first key, the old one still in the ring
        from cryptography.fernet import Fernet

        from console.security.keyring import KeyRing

        new_key = Fernet.generate_key().decode()
        app.extensions["keyring"] = KeyRing(f"{new_key},{app.config['ENCRYPTION_KEYS']}")
        assert rotate_sealed_values().unreadable == []
        after = db.session.scalar(select(SecondFactor.secret_ciphertext))
        assert after != before and KeyRing(new_key).decrypt(after) == secret

    assert check(app, boss, code_at(secret, clock.now)) == "authenticator"


def test_audit_events_never_carry_the_secret_or_a_code(app, boss, clock):
    secret, codes = enrol(app, boss, clock)
    check(app, boss, codes[0])
    with app.app_context():
        details = " ".join(str(event.details) for event in db.session.scalars(select(AuditEvent)))
    assert secret not in details and not any(code in details for code in codes)
    assert START  # the clock started where tests.totp says
