"""flask rotate-keys: every secret at rest re-encrypted with the first key, safely and row by row."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import select, update

from console import create_app
from console.extensions import db
from console.models import AuditEvent, LoginMethod, OneTimeCode, WeChatBinding


def app_with_keys(app, *keys):
    """Another process of the same deployment, started with a different ENCRYPTION_KEYS."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "ENCRYPTION_KEYS": ",".join(keys),
        },
        environ={"SECRET_KEY": "s", "ENCRYPTION_KEYS": keys[0]},
    )


def populate(harness):
    """Two login methods, a registered user with a session key, and a pending bind code carrying one."""
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    harness.register(shop, "alice")
    harness.login(blog, "bob")
    return shop, blog


def readable_secrets(app):
    """Every sealed value decrypted with the app's key ring."""
    with app.app_context():
        ring = app.extensions["keyring"]
        values = [ring.decrypt(row) for row in db.session.scalars(select(LoginMethod.app_secret_ciphertext))]
        values += [ring.decrypt(row) for row in db.session.scalars(select(WeChatBinding.session_key_ciphertext))]
        values += [
            ring.decrypt(row)
            for row in db.session.scalars(
                select(OneTimeCode.session_key_ciphertext).where(OneTimeCode.session_key_ciphertext.is_not(None))
            )
        ]
        return values


def test_a_new_key_first_then_the_old_key_removed_leaves_every_secret_readable(app, harness):
    shop, blog = populate(harness)
    old_key = app.config["ENCRYPTION_KEYS"]
    before = readable_secrets(app)
    new_key = Fernet.generate_key().decode()
    rotating = app_with_keys(app, new_key, old_key)

    result = rotating.test_cli_runner().invoke(args=["rotate-keys", "--batch-size", "1"])

    assert result.exit_code == 0, result.output
    assert "Re-encrypted 4 values with the first key; 0 unreadable." in result.output
    new_only = app_with_keys(app, new_key)
    assert readable_secrets(new_only) == before
    with new_only.app_context():
        assert new_only.getElement("auths.loginTypes.shopLogin").authConfig["appSecret"] == shop.secret
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "keys.rotate")).details == {
            "rotated": 4,
            "unreadable": 0,
        }


def test_the_api_keeps_working_after_the_old_key_is_removed(app, harness):
    shop, _ = populate(harness)
    new_key = Fernet.generate_key().decode()
    app_with_keys(app, new_key, app.config["ENCRYPTION_KEYS"]).test_cli_runner().invoke(args=["rotate-keys"])
    new_only = app_with_keys(app, new_key)
    new_only.extensions["wechat_client"] = app.extensions["wechat_client"]

    answer = new_only.test_client().post(
        f"/api/v1/wechat-mini/{shop.name}/login", json={"code": harness.code(shop, "alice")}
    )

    assert answer.status_code == 200 and "loginCode" in answer.json


def test_running_it_again_is_harmless(app, harness):
    populate(harness)
    new_key = Fernet.generate_key().decode()
    rotating = app_with_keys(app, new_key, app.config["ENCRYPTION_KEYS"])
    first = rotating.test_cli_runner().invoke(args=["rotate-keys"])
    second = rotating.test_cli_runner().invoke(args=["rotate-keys"])
    assert first.exit_code == second.exit_code == 0
    assert readable_secrets(app_with_keys(app, new_key))


def test_a_value_no_key_opens_is_reported_by_row_and_the_rest_rotated(app, harness):
    populate(harness)
    with app.app_context():
        broken_id = db.session.scalar(select(WeChatBinding.id))
        db.session.execute(
            update(WeChatBinding).values(session_key_ciphertext=Fernet(Fernet.generate_key()).encrypt(b"x").decode())
        )
        db.session.commit()
    new_key = Fernet.generate_key().decode()

    result = app_with_keys(app, new_key, app.config["ENCRYPTION_KEYS"]).test_cli_runner().invoke(args=["rotate-keys"])

    assert result.exit_code == 1
    assert f"unreadable: wechat_bindings id={broken_id}: no key of ENCRYPTION_KEYS opens its value" in result.output
    assert "Re-encrypted 3 values with the first key; 1 unreadable." in result.output
    new_only = app_with_keys(app, new_key)
    with new_only.app_context():
        assert new_only.extensions["keyring"].decrypt(db.session.scalar(select(LoginMethod.app_secret_ciphertext)))


def test_nothing_to_rotate(app):
    result = app.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0 and "Re-encrypted 0 values" in result.output
