"""POST /wechat-mini/<name>/login: the wx.login() code in, a loginCode or a bindCode out."""

from __future__ import annotations

import pytest

from console.services.answers import BindCodeAnswer, ErrorAnswer, LoginCodeAnswer


def test_a_new_user_gets_a_five_minute_bind_code(harness, changes):
    method = harness.add_method()

    with changes() as changed:
        answer = harness.login(method, "alice")

    assert answer.status_code == 200
    BindCodeAnswer.model_validate(answer.json)
    assert answer.json["expiresIn"] == 300
    assert "loginCode" not in answer.json
    assert changed["one_time_codes"] == 1
    assert changed["users"] == 0 and changed["wechat_bindings"] == 0


def test_a_registered_user_gets_a_login_code_and_their_corps(harness):
    method = harness.add_method(corp=("acme", "Acme Ltd"))
    harness.register(method, "alice")

    answer = harness.login(method, "alice")

    assert answer.status_code == 200
    LoginCodeAnswer.model_validate(answer.json)
    assert answer.json["expiresIn"] == 120
    assert answer.json["corpList"] == [{"corpId": "acme", "name": "Acme Ltd"}]
    assert "bindCode" not in answer.json


def test_an_unknown_user_is_refused_when_registration_is_closed(harness, unchanged):
    method = harness.add_method(allow_register=False)

    with unchanged():
        answer = harness.login(method, "stranger")

    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "registration_closed"


def test_an_unknown_login_method_is_404(harness):
    answer = harness.post("/wechat-mini/noSuchMethod/login", {"code": "abc"})
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "login_method_not_found"
    ErrorAnswer.model_validate(answer.json)


def test_a_disabled_login_method_is_refused_without_calling_wechat(harness, simulator, unchanged):
    method = harness.add_method(enabled=False)
    code = harness.code(method, "alice")

    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/login", {"code": code})

    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "login_method_disabled"
    assert simulator.state.exchanges.get(code) is None


@pytest.mark.parametrize(
    "body, field",
    [
        (None, "body"),
        ([], "body"),
        ("code", "body"),
        ({}, "code"),
        ({"code": ""}, "code"),
        ({"code": "   "}, "code"),
        ({"code": 12345}, "code"),
        ({"code": None}, "code"),
        ({"code": "x" * 257}, "code"),
    ],
)
def test_a_malformed_body_is_invalid_request_and_writes_nothing(harness, unchanged, body, field):
    method = harness.add_method()
    with unchanged():
        if body is None:
            answer = harness.client.post(
                f"/api/v1/wechat-mini/{method.name}/login", data="not json{", content_type="application/json"
            )
        else:
            answer = harness.client.post(f"/api/v1/wechat-mini/{method.name}/login", json=body)

    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_request"
    assert field in answer.json["error"]["message"]


@pytest.mark.parametrize(
    "errcode, code, status",
    [
        (40029, "invalid_code", 400),
        (40163, "code_used", 400),
        (40226, "user_blocked", 403),
        (45011, "wechat_rate_limited", 429),
        (-1, "wechat_unavailable", 503),
        (40001, "wechat_misconfigured", 502),
        (99999, "wechat_unavailable", 503),
    ],
)
def test_wechat_errors_map_to_the_contract_and_write_nothing(harness, unchanged, errcode, code, status):
    method = harness.add_method()

    with unchanged():
        answer = harness.login(method, "alice", errcode=errcode)

    assert answer.status_code == status
    assert answer.json["error"]["code"] == code
    assert answer.json["error"]["wechatErrcode"] == errcode


def test_a_code_wechat_never_issued_is_invalid_code(harness):
    method = harness.add_method()
    answer = harness.post(f"/wechat-mini/{method.name}/login", {"code": "0" * 32})
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_code"


def test_a_code_of_another_app_is_invalid_code(harness):
    method = harness.add_method()
    other = harness.add_method(name="otherLogin")
    answer = harness.post(f"/wechat-mini/{method.name}/login", {"code": harness.code(other, "alice")})
    assert answer.json["error"]["code"] == "invalid_code"


def test_a_code_presented_twice_is_code_used_and_reaches_wechat_once(harness, simulator, unchanged):
    method = harness.add_method()
    code = harness.code(method, "alice")
    first = harness.post(f"/wechat-mini/{method.name}/login", {"code": code})

    with unchanged():
        second = harness.post(f"/wechat-mini/{method.name}/login", {"code": code})

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json["error"]["code"] == "code_used"
    assert simulator.state.exchanges[code] == 1


def test_a_code_that_failed_at_wechat_is_not_sent_again(harness, simulator):
    method = harness.add_method()
    code = harness.code(method, "alice", errcode=-1)
    assert (
        harness.post(f"/wechat-mini/{method.name}/login", {"code": code}).json["error"]["code"] == "wechat_unavailable"
    )

    again = harness.post(f"/wechat-mini/{method.name}/login", {"code": code})

    assert again.json["error"]["code"] == "code_used"
    assert simulator.state.exchanges[code] == 1


@pytest.mark.parametrize("change", ["wrong_secret", "unknown_app"])
def test_credentials_wechat_rejects_are_wechat_misconfigured(harness, app, unchanged, change):
    from console.extensions import db
    from console.models import LoginMethod
    from console.services.login_methods import set_app_secret

    method = harness.add_method()
    code = harness.code(method, "alice")
    with app.app_context():
        row = db.session.get(LoginMethod, method.id)
        if change == "wrong_secret":
            set_app_secret(row, "not-the-secret")
        else:
            row.app_id = "wxunknown0000000"
        db.session.commit()

    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/login", {"code": code})

    assert answer.status_code == 502
    assert answer.json["error"]["code"] == "wechat_misconfigured"
    assert answer.json["error"]["wechatErrcode"] == (40125 if change == "wrong_secret" else 40013)
    assert "not-the-secret" not in answer.get_data(as_text=True)


@pytest.mark.parametrize("fault", ["http_500", "not_json", "no_openid"])
def test_unreadable_wechat_answers_are_wechat_unavailable(harness, unchanged, fault):
    method = harness.add_method()

    with unchanged():
        answer = harness.login(method, "alice", fault=fault)

    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "wechat_unavailable"


def test_a_slow_wechat_is_wechat_unavailable_after_the_timeout(harness, unchanged):
    method = harness.add_method()

    with unchanged():
        answer = harness.login(method, "alice", delay=2.5)  # WECHAT_TIMEOUT is 2 in tests

    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "wechat_unavailable"
    assert "within 2 s" in answer.json["error"]["message"]


def test_wechat_refusing_connections_is_wechat_unavailable(harness, app, unchanged):
    import socket

    from console.wechat.client import WeChatClient

    method = harness.add_method()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.extensions["wechat_client"] = WeChatClient(f"http://127.0.0.1:{closed_port}", 2)

    with unchanged():
        answer = harness.post(f"/wechat-mini/{method.name}/login", {"code": "abc"})

    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "wechat_unavailable"
    assert "could not be reached" in answer.json["error"]["message"]


def test_a_disabled_account_cannot_log_in(harness, app, unchanged):
    from console.extensions import db
    from console.models import USER_DISABLED, User

    method = harness.add_method()
    user_id = harness.register(method, "alice")["user"]["userId"]
    with app.app_context():
        db.session.get(User, user_id).status = USER_DISABLED
        db.session.commit()

    with unchanged():
        answer = harness.login(method, "alice")

    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "account_disabled"


def test_a_known_unionid_logs_in_to_the_same_account_through_another_mini_program(harness, app):
    from console.extensions import db
    from console.models import AuditEvent

    shop = harness.add_method(name="shopLogin", open_platform="acme-platform", corp=("acme", "Acme"))
    blog = harness.add_method(name="blogLogin", open_platform="acme-platform", allow_register=False)
    user_id = harness.register(shop, "alice")["user"]["userId"]

    answer = harness.login(blog, "alice")

    assert answer.status_code == 200
    assert "loginCode" in answer.json
    assert answer.json["corpList"] == [{"corpId": "acme", "name": "Acme"}]
    token = harness.post("/auth/token", {"loginCode": answer.json["loginCode"]}).json
    assert token["user"]["userId"] == user_id
    me = harness.get("/me", token["accessToken"]).json
    assert sorted(binding["loginMethod"] for binding in me["bindings"]) == ["blogLogin", "shopLogin"]
    assert len({binding["unionId"] for binding in me["bindings"]}) == 1
    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "bind")).one()
        assert event.details["via"] == "unionid" and event.user_id == user_id


def test_unionid_linking_can_be_switched_off(harness):
    shop = harness.add_method(name="shopLogin", open_platform="acme-platform")
    blog = harness.add_method(name="blogLogin", open_platform="acme-platform", link_by_unionid=False)
    harness.register(shop, "alice")

    assert "bindCode" in harness.login(blog, "alice").json


def test_apps_of_different_open_platforms_never_link(harness):
    shop = harness.add_method(name="shopLogin", open_platform="acme-platform")
    other = harness.add_method(name="otherLogin", open_platform="another-platform")
    harness.register(shop, "alice")

    assert "bindCode" in harness.login(other, "alice").json


def test_every_login_stores_the_new_session_key_encrypted(harness, app, simulator):
    from console.extensions import db
    from console.models import WeChatBinding
    from console.security.keyring import keyring

    method = harness.add_method()
    harness.register(method, "alice")
    with app.app_context():
        first = db.session.scalars(db.select(WeChatBinding)).one().session_key_ciphertext

    harness.login(method, "alice")

    latest_key = simulator.state.session_keys[(method.app_id, "alice")]
    with app.app_context():
        binding = db.session.scalars(db.select(WeChatBinding)).one()
        assert binding.session_key_ciphertext != first
        assert latest_key not in binding.session_key_ciphertext
        assert keyring().decrypt(binding.session_key_ciphertext) == latest_key
        assert binding.session_key_set_at is not None and binding.last_login_at is not None
