"""Register with a bindCode, exchange the loginCode for an access token, read /me, log out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from console.extensions import db
from console.models import USER_DISABLED, AccessToken, OneTimeCode, User, utcnow
from console.services.answers import MeAnswer, RegisterAnswer, TokenAnswer


def bind_code(harness, method, user="alice"):
    answer = harness.login(method, user)
    assert answer.status_code == 200, answer.json
    return answer.json["bindCode"]


def expire_all(app, model):
    with app.app_context():
        db.session.execute(update(model).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def test_register_creates_the_user_in_the_default_corp_and_logs_them_in(harness, changes):
    method = harness.add_method(corp=("acme", "Acme"))
    code = bind_code(harness, method)

    with changes() as changed:
        answer = harness.post(
            f"/wechat-mini/{method.name}/register",
            {"bindCode": code, "name": "Alice", "avatarUrl": "https://img.example/a.png"},
        )

    assert answer.status_code == 201
    RegisterAnswer.model_validate(answer.json)
    assert answer.json["user"]["name"] == "Alice"
    assert answer.json["user"]["avatarUrl"] == "https://img.example/a.png"
    assert answer.json["user"]["createdAt"].endswith("Z")
    assert answer.json["corpList"] == [{"corpId": "acme", "name": "Acme"}]
    assert changed["users"] == 1
    assert changed["wechat_bindings"] == 1
    assert changed["memberships"] == 1


def test_a_bind_code_works_once(harness, unchanged):
    method = harness.add_method()
    code = bind_code(harness, method)
    assert harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": code}).status_code == 201

    with unchanged():
        again = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": code})

    assert again.status_code == 400
    assert again.json["error"]["code"] == "invalid_bind_code"


def test_an_expired_bind_code_is_refused(harness, app, unchanged):
    method = harness.add_method()
    code = bind_code(harness, method)
    expire_all(app, OneTimeCode)

    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": code})

    assert answer.json["error"]["code"] == "invalid_bind_code"


def test_a_bind_code_of_another_login_method_is_refused(harness):
    shop = harness.add_method(name="shopLogin")
    blog = harness.add_method(name="blogLogin")
    code = bind_code(harness, shop)

    answer = harness.post(f"/wechat-mini/{blog.name}/register", {"bindCode": code})

    assert answer.json["error"]["code"] == "invalid_bind_code"
    assert harness.post(f"/wechat-mini/{shop.name}/register", {"bindCode": code}).status_code == 201


def test_codes_of_one_kind_are_never_accepted_as_another(harness, unchanged):
    method = harness.add_method()
    login_code = harness.register(method, "alice")["loginCode"]
    code = bind_code(harness, method, "bob")

    with unchanged():
        as_bind_code = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": login_code})
        as_login_code = harness.post("/auth/token", {"loginCode": code})

    assert as_bind_code.json["error"]["code"] == "invalid_bind_code"
    assert as_login_code.json["error"]["code"] == "invalid_login_code"


def test_a_second_bind_code_of_a_registered_user_is_already_registered(harness, unchanged):
    method = harness.add_method()
    first, second = bind_code(harness, method), bind_code(harness, method)
    assert harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": first}).status_code == 201

    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": second})

    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "already_registered"


def test_register_is_refused_once_registration_closed(harness, app, unchanged):
    from console.models import LoginMethod

    method = harness.add_method()
    code = bind_code(harness, method)
    with app.app_context():
        db.session.get(LoginMethod, method.id).allow_register = False
        db.session.commit()

    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": code})

    assert answer.json["error"]["code"] == "registration_closed"


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "bindCode"),
        ({"bindCode": 7}, "bindCode"),
        ({"bindCode": "x" * 129}, "bindCode"),
        ({"bindCode": "VALID", "name": "n" * 65}, "name"),
        ({"bindCode": "VALID", "name": ""}, "name"),
        ({"bindCode": "VALID", "avatarUrl": "javascript:alert(1)"}, "avatarUrl"),
        ({"bindCode": "VALID", "avatarUrl": 3}, "avatarUrl"),
    ],
)
def test_bad_register_bodies_are_invalid_request_and_keep_the_bind_code(harness, unchanged, body, field):
    method = harness.add_method()
    code = bind_code(harness, method)
    if body.get("bindCode") == "VALID":
        body["bindCode"] = code

    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/register", body)

    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_request"
    assert field in answer.json["error"]["message"]
    assert harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": code}).status_code == 201


def test_register_on_a_disabled_or_unknown_method_is_refused(harness, app):
    from console.models import LoginMethod

    method = harness.add_method()
    code = bind_code(harness, method)
    with app.app_context():
        db.session.get(LoginMethod, method.id).enabled = False
        db.session.commit()

    assert (
        harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": code}).json["error"]["code"]
        == "login_method_disabled"
    )
    assert (
        harness.post("/wechat-mini/nope/register", {"bindCode": code}).json["error"]["code"] == "login_method_not_found"
    )


def test_a_login_code_buys_one_access_token_in_the_default_corp(harness, changes):
    method = harness.add_method(corp=("acme", "Acme"))
    login_code = harness.register(method, "alice", name="Alice")["loginCode"]

    with changes() as changed:
        answer = harness.post("/auth/token", {"loginCode": login_code})
        again = harness.post("/auth/token", {"loginCode": login_code})

    assert answer.status_code == 200
    TokenAnswer.model_validate(answer.json)
    assert answer.json["tokenType"] == "Bearer"
    assert answer.json["expiresIn"] == 7200
    assert answer.json["corpId"] == "acme"
    assert answer.json["user"]["name"] == "Alice"
    assert again.status_code == 400 and again.json["error"]["code"] == "invalid_login_code"
    assert changed["access_tokens"] == 1


def test_a_token_can_be_asked_for_one_of_the_users_corps(harness, app):
    from console.models import Corp, Membership

    method = harness.add_method(corp=("acme", "Acme"))
    user_id = harness.register(method, "alice")["user"]["userId"]
    beta = harness.add_corp("beta", "Beta")
    with app.app_context():
        db.session.add(Membership(user_id=user_id, corp_id=beta))
        db.session.commit()

    token = harness.token(method, "alice", corp_id="beta")

    me = harness.get("/me", token).json
    assert me["corpId"] == "beta"
    assert [corp["corpId"] for corp in me["corpList"]] == ["acme", "beta"]
    with app.app_context():
        assert db.session.get(Corp, beta).name == "Beta"


def test_a_corp_the_user_is_not_in_is_not_a_member_and_keeps_the_login_code(harness, unchanged):
    method = harness.add_method(corp=("acme", "Acme"))
    harness.add_corp("other", "Other")
    login_code = harness.register(method, "alice")["loginCode"]

    with unchanged():
        answer = harness.post("/auth/token", {"loginCode": login_code, "corpId": "other"})

    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "not_a_member"
    assert harness.post("/auth/token", {"loginCode": login_code}).status_code == 200


def test_a_user_without_corps_gets_a_token_without_corp(harness):
    method = harness.add_method()
    token = harness.token(method, "alice")
    me = harness.get("/me", token)
    assert me.json["corpId"] is None and me.json["corpList"] == []


@pytest.mark.parametrize("problem", ["unknown", "expired", "malformed"])
def test_bad_login_codes_are_invalid_login_code(harness, app, unchanged, problem):
    method = harness.add_method()
    login_code = harness.register(method, "alice")["loginCode"]
    if problem == "unknown":
        login_code = "A" * 43
    elif problem == "expired":
        expire_all(app, OneTimeCode)
    else:
        login_code = "not a code!"

    with unchanged():
        answer = harness.post("/auth/token", {"loginCode": login_code})

    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_login_code"


def test_a_disabled_account_gets_no_token(harness, app):
    method = harness.add_method()
    registered = harness.register(method, "alice")
    with app.app_context():
        db.session.get(User, registered["user"]["userId"]).status = USER_DISABLED
        db.session.commit()

    answer = harness.post("/auth/token", {"loginCode": registered["loginCode"]})

    assert answer.status_code == 403 and answer.json["error"]["code"] == "account_disabled"


def test_me_describes_the_user_and_their_bindings(harness):
    method = harness.add_method(corp=("acme", "Acme"))
    token = harness.token(method, "alice")

    answer = harness.get("/me", token)

    assert answer.status_code == 200
    MeAnswer.model_validate(answer.json)
    assert answer.json["corpId"] == "acme"
    [binding] = answer.json["bindings"]
    assert binding["loginMethod"] == method.name and binding["appId"] == method.app_id
    assert binding["openId"] == harness.simulator.mint(method.app_id, "alice")["openid"]
    assert binding["unionId"] is None


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-token!", "Bearer " + "A" * 43, "Token {token}"],
)
def test_me_without_a_valid_bearer_token_is_unauthorized(harness, header):
    method = harness.add_method()
    token = harness.token(method, "alice")
    headers = {} if header is None else {"Authorization": header.format(token=token)}

    answer = harness.client.get("/api/v1/me", headers=headers)

    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_unauthorized(harness, app):
    method = harness.add_method()
    token = harness.token(method, "alice")
    expire_all(app, AccessToken)

    assert harness.get("/me", token).status_code == 401


def test_a_disabled_account_is_locked_out_of_a_live_token(harness, app):
    method = harness.add_method()
    token = harness.token(method, "alice")
    with app.app_context():
        db.session.execute(update(User).values(status=USER_DISABLED))
        db.session.commit()

    answer = harness.get("/me", token)

    assert answer.status_code == 403 and answer.json["error"]["code"] == "account_disabled"


def set_disabled(app, user_id, disabled):
    from console.services.users import set_user_disabled

    with app.app_context():
        set_user_disabled(db.session.get(User, user_id), disabled)


def test_a_token_issued_before_a_disable_stays_dead_after_enable(harness, app):
    method = harness.add_method()
    token = harness.token(method, "alice")
    user_id = harness.get("/me", token).json["user"]["userId"]

    set_disabled(app, user_id, True)
    set_disabled(app, user_id, False)

    assert harness.get("/me", token).status_code == 401
    fresh = harness.token(method, "alice")  # enabling lets the user log in again: only the old access is gone
    assert harness.get("/me", fresh).status_code == 200


def test_a_login_code_pending_at_a_disable_cannot_be_redeemed_after_enable(harness, app):
    method = harness.add_method()
    user_id = harness.register(method, "alice")["user"]["userId"]
    login_code = harness.login(method, "alice").json["loginCode"]

    set_disabled(app, user_id, True)
    set_disabled(app, user_id, False)
    answer = harness.post("/auth/token", {"loginCode": login_code})

    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_login_code"


def test_a_disable_is_audited_with_what_it_ended(harness, app):
    from console.models import AuditEvent

    method = harness.add_method()
    user_id = harness.register(method, "alice")["user"]["userId"]  # its loginCode is still pending
    harness.token(method, "alice")
    harness.token(method, "alice")

    set_disabled(app, user_id, True)

    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.disable"))
        assert event.details == {"revokedTokens": 2, "voidedCodes": 1}
        assert db.session.scalar(db.select(db.func.count()).where(AccessToken.revoked_at.is_(None))) == 0


def test_logout_revokes_the_token_at_once(harness, app):
    from console.models import AuditEvent

    method = harness.add_method()
    token = harness.token(method, "alice")

    answer = harness.post("/auth/logout", {}, token=token)

    assert answer.status_code == 200 and answer.json == {"loggedOut": True}
    assert harness.get("/me", token).status_code == 401
    assert harness.post("/auth/logout", {}, token=token).status_code == 401
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).where(AuditEvent.action == "logout")) == 1


def test_logout_needs_a_json_object_body(harness):
    method = harness.add_method()
    token = harness.token(method, "alice")
    answer = harness.client.post("/api/v1/auth/logout", data="[]", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_request"
    assert harness.get("/me", token).status_code == 200


def test_codes_and_tokens_are_stored_only_as_digests(harness, app):
    method = harness.add_method()
    registered = harness.register(method, "alice")
    token = harness.post("/auth/token", {"loginCode": registered["loginCode"]}).json["accessToken"]
    with app.app_context():
        stored = [row.digest for row in db.session.scalars(db.select(OneTimeCode))]
        stored += [row.digest for row in db.session.scalars(db.select(AccessToken))]
    assert registered["loginCode"] not in stored and token not in stored
    assert all(len(value) == 64 for value in stored)
    with app.app_context():  # the redeemed bindCode handed its session key to the binding: one copy at rest
        assert (
            db.session.scalar(db.select(OneTimeCode.session_key_ciphertext).where(OneTimeCode.kind == "bind_code"))
            is None
        )
    assert len(token) >= 43 and len(registered["loginCode"]) >= 43  # 256 random bits
