"""Bind an existing account to a mini program (bearer token or console ticket), and unbind it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from console.extensions import db
from console.models import AuditEvent, OneTimeCode, WeChatBinding, utcnow
from console.services.answers import BindAnswer, UnbindAnswer
from console.services.bindings import issue_bind_ticket
from console.services.login_methods import find_login_method


def issue_ticket(app, method, user_id):
    with app.app_context():
        return issue_bind_ticket(find_login_method(method.name), user_id)


def test_a_signed_in_user_binds_another_mini_program(harness, app, changes):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    token = harness.token(shop, "alice")

    with changes() as changed:
        answer = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice")}, token=token)

    assert answer.status_code == 200
    BindAnswer.model_validate(answer.json)
    assert answer.json["loginMethod"] == blog.name
    assert answer.json["openId"] == harness.simulator.mint(blog.app_id, "alice")["openid"]
    assert changed["wechat_bindings"] == 1
    assert "loginCode" in harness.login(blog, "alice").json
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "bind")).one()
        assert event.actor_type == "api" and event.user_id == answer.json["userId"]


def test_binding_a_second_wechat_to_the_same_mini_program_is_user_already_bound(harness, simulator, unchanged):
    method = harness.add_method()
    token = harness.token(method, "alice")
    code = harness.code(method, "alice-second-phone")

    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/bind", {"code": code}, token=token)

    assert answer.status_code == 409 and answer.json["error"]["code"] == "user_already_bound"
    assert simulator.state.exchanges.get(code) is None  # refused before spending the code


def test_a_wechat_user_bound_to_someone_else_is_wechat_already_bound(harness, unchanged):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    harness.register(blog, "bob")
    alice = harness.token(shop, "alice")

    with unchanged():
        answer = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "bob")}, token=alice)

    assert answer.status_code == 409 and answer.json["error"]["code"] == "wechat_already_bound"


def test_bind_without_token_or_ticket_is_unauthorized(harness):
    method = harness.add_method()
    answer = harness.post(f"/wechat-mini/{method.name}/bind", {"code": harness.code(method, "alice")})
    assert answer.status_code == 401 and answer.json["error"]["code"] == "unauthorized"


def test_bind_errors_from_wechat_write_nothing(harness, unchanged):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    token = harness.token(shop, "alice")

    with unchanged():
        answer = harness.post(
            f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice", errcode=40226)}, token=token
        )

    assert answer.status_code == 403 and answer.json["error"]["code"] == "user_blocked"


def test_a_ticket_binds_the_account_it_names_once(harness, app):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    user_id = harness.register(shop, "alice")["user"]["userId"]
    ticket = issue_ticket(app, blog, user_id)

    answer = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice"), "ticket": ticket})
    again = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "carol"), "ticket": ticket})

    assert answer.status_code == 200 and answer.json["userId"] == user_id
    assert again.status_code == 400 and again.json["error"]["code"] == "invalid_ticket"
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "bind")).one()
        assert event.details["via"] == "ticket"


@pytest.mark.parametrize("problem", ["unknown", "other_method", "expired"])
def test_bad_tickets_are_invalid_ticket_and_spend_no_code(harness, app, simulator, unchanged, problem):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    user_id = harness.register(shop, "alice")["user"]["userId"]
    ticket = issue_ticket(app, shop if problem == "other_method" else blog, user_id)
    if problem == "unknown":
        ticket = "T" * 43
    if problem == "expired":
        with app.app_context():
            db.session.execute(update(OneTimeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
    code = harness.code(blog, "alice")

    with unchanged():
        answer = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": code, "ticket": ticket})

    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_ticket"
    assert simulator.state.exchanges.get(code) is None


def test_a_ticket_survives_a_wechat_failure(harness, app, unchanged):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    user_id = harness.register(shop, "alice")["user"]["userId"]
    ticket = issue_ticket(app, blog, user_id)

    with unchanged():
        failed = harness.post(
            f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice", errcode=-1), "ticket": ticket}
        )

    assert failed.json["error"]["code"] == "wechat_unavailable"
    retried = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice"), "ticket": ticket})
    assert retried.status_code == 200


def test_unbind_removes_the_binding_and_revokes_the_tokens_issued_through_it(harness, app):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    shop_token = harness.token(shop, "alice")
    assert (
        harness.post(
            f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice")}, token=shop_token
        ).status_code
        == 200
    )
    blog_token = harness.token(blog, "alice")

    answer = harness.post(f"/wechat-mini/{blog.name}/unbind", {}, token=shop_token)

    assert answer.status_code == 200
    UnbindAnswer.model_validate(answer.json)
    assert answer.json["loginMethod"] == blog.name
    assert harness.get("/me", blog_token).status_code == 401
    assert [b["loginMethod"] for b in harness.get("/me", shop_token).json["bindings"]] == [shop.name]
    assert "bindCode" in harness.login(blog, "alice").json
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "unbind")).one()
        assert event.details["revokedTokens"] == 1 and event.login_method_name == blog.name


def test_the_last_binding_cannot_be_unbound(harness, unchanged):
    method = harness.add_method()
    token = harness.token(method, "alice")

    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/unbind", {}, token=token)

    assert answer.status_code == 409 and answer.json["error"]["code"] == "last_login_method"


def test_unbinding_a_mini_program_that_is_not_bound_is_not_bound(harness):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    token = harness.token(shop, "alice")

    answer = harness.post(f"/wechat-mini/{blog.name}/unbind", {}, token=token)

    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_bound"


def test_unbind_needs_a_token(harness):
    method = harness.add_method()
    assert harness.post(f"/wechat-mini/{method.name}/unbind", {}).status_code == 401


def test_unbind_on_a_disabled_method_is_refused(harness, app):
    from console.models import LoginMethod

    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    token = harness.token(shop, "alice")
    harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice")}, token=token)
    with app.app_context():
        db.session.get(LoginMethod, blog.id).enabled = False
        db.session.commit()

    answer = harness.post(f"/wechat-mini/{blog.name}/unbind", {}, token=token)

    assert answer.status_code == 403 and answer.json["error"]["code"] == "login_method_disabled"
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(WeChatBinding)) == 2


def test_a_ticket_pending_at_a_disable_is_void_after_enable(harness, app):
    from console.models import User
    from console.services.users import set_user_disabled

    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    user_id = harness.register(shop, "alice")["user"]["userId"]
    ticket = issue_ticket(app, blog, user_id)
    with app.app_context():
        set_user_disabled(db.session.get(User, user_id), True)
        set_user_disabled(db.session.get(User, user_id), False)

    answer = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice"), "ticket": ticket})

    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_ticket"


def test_removing_the_last_binding_ends_every_token_and_pending_code_of_the_user(harness, app):
    from console.services.bindings import remove_binding

    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    token = harness.token(shop, "alice")
    user_id = harness.get("/me", token).json["user"]["userId"]
    login_code = harness.login(shop, "alice").json["loginCode"]
    ticket = issue_ticket(app, blog, user_id)  # issued while the account still had its binding

    with app.app_context():
        remove_binding(find_login_method(shop.name), user_id, reason="stolen phone")

    assert harness.get("/me", token).status_code == 401
    assert harness.post("/auth/token", {"loginCode": login_code}).json["error"]["code"] == "invalid_login_code"
    bound = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "mallory"), "ticket": ticket})
    assert bound.status_code == 400 and bound.json["error"]["code"] == "invalid_ticket"
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "unbind")).one()
        assert event.details["revokedTokens"] == 1 and event.details["voidedCodes"] == 2


def test_removing_a_binding_that_is_not_the_last_keeps_the_other_access(harness, app):
    from console.services.bindings import remove_binding

    shop, blog, news = (harness.add_method(name=name) for name in ("shopLogin", "blogLogin", "newsLogin"))
    shop_token = harness.token(shop, "alice")
    harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice")}, token=shop_token)
    blog_token = harness.token(blog, "alice")
    user_id = harness.get("/me", shop_token).json["user"]["userId"]
    ticket = issue_ticket(app, news, user_id)

    with app.app_context():
        remove_binding(find_login_method(blog.name), user_id, reason="lost phone")

    assert harness.get("/me", blog_token).status_code == 401
    assert harness.get("/me", shop_token).status_code == 200
    bound = harness.post(f"/wechat-mini/{news.name}/bind", {"code": harness.code(news, "alice"), "ticket": ticket})
    assert bound.status_code == 200
