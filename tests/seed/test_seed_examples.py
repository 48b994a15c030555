"""The seed document's Python examples, run as written (the code strings are copied verbatim)."""

from __future__ import annotations

import pytest

from console.extensions import db
from console.models import LoginMethod, User
from console.seed import TYPES, LoginError, RowData, WeChatMiniType, register_type
from console.services.login_methods import set_app_secret

BASIC_USAGE = """
# Get instance
wechat_auth = app.getElement("auths.loginTypes.myWeChatMiniLogin")

# Mini Program login
result = wechat_auth.getLoginCode("wx_code_from_miniprogram")
"""

LOGIN_AUTHORIZATION_HANDLING = """
result = wechat_auth.getLoginCode("wx_mini_code")

if "loginCode" in result:
    # Registered user
    login_code = result["loginCode"]
elif "bindCode" in result:
    # New user, needs registration
    bind_code = result["bindCode"]
"""

NEW_USER_REGISTRATION = """
user = wechat_auth.register("bind_code_from_getLoginCode")
print(f"User registration successful: {user.userId.value}")
"""

ACCOUNT_BINDING = """
result = wechat_auth.bind(123, "wx_mini_code")
"""

ACCOUNT_UNBINDING = """
result = wechat_auth.unbind(123)
"""

COMPLETE_REGISTRATION_PROCESS = """
wechat_auth = app.getElement("auths.loginTypes.myWeChatMiniLogin")

# Try login to get binding code
login_result = wechat_auth.getLoginCode("wx_mini_code")

if "bindCode" in login_result:
    # Complete registration using binding code
    bind_code = login_result["bindCode"]
    new_user = wechat_auth.register(bind_code)
    print(f"Registration successful, User ID: {new_user.userId.value}")
"""

ACCOUNT_BINDING_MANAGEMENT = """
# Bind existing account
bind_result = wechat_auth.bind(user_id, "wx_mini_code")

# Unbind account when needed
unbind_result = wechat_auth.unbind(user_id)
"""

CONTRACT_EXAMPLES = """
wechat_auth = app.getElement("auths.loginTypes.myWeChatMiniLogin")
result = wechat_auth.getLoginCode("wx_code_from_miniprogram")   # dict: loginCode + corpList, or bindCode
user = wechat_auth.register(result["bindCode"])                 # user.userId.value is the new id
wechat_auth.bind(123, "wx_mini_code"); wechat_auth.unbind(123)  # dicts
wechat_auth.allowRegister, wechat_auth.authConfig               # 1/0, {"appId", "appSecret"}
"""


@pytest.fixture
def seed(app, harness):
    """The seed's instance myWeChatMiniLogin, and user 123 who signs in through another mini program."""
    method = harness.add_method(name="myWeChatMiniLogin")
    other = harness.add_method(name="otherMiniLogin")
    with app.app_context():
        user = User(id=123, name="Existing user")
        db.session.add(user)
        db.session.commit()
    with app.app_context():
        app.getElement("auths.loginTypes.otherMiniLogin").bind(123, harness.code(other, "user-123"))
    return method


def run(source: str, app, namespace: dict) -> dict:
    with app.app_context():
        exec(compile(source, "<seed example>", "exec"), namespace)  # noqa: S102 (the seed's own text)
    return namespace


def test_basic_usage(app, harness, seed):
    harness.simulator.mint(seed.app_id, "new-user", code="wx_code_from_miniprogram")

    namespace = run(BASIC_USAGE, app, {"app": app})

    assert isinstance(namespace["wechat_auth"], WeChatMiniType)
    assert set(namespace["result"]) == {"bindCode", "expiresIn"}


def test_login_authorization_handling_for_a_new_and_a_registered_user(app, harness, seed):
    with app.app_context():
        wechat_auth = app.getElement("auths.loginTypes.myWeChatMiniLogin")
    harness.simulator.mint(seed.app_id, "new-user", code="wx_mini_code")
    assert "bind_code" in run(LOGIN_AUTHORIZATION_HANDLING, app, {"wechat_auth": wechat_auth})

    harness.register(seed, "registered-user")
    app.extensions["shared_cache"].clear()  # the example reuses the literal code "wx_mini_code"
    harness.simulator.mint(seed.app_id, "registered-user", code="wx_mini_code")
    assert "login_code" in run(LOGIN_AUTHORIZATION_HANDLING, app, {"wechat_auth": wechat_auth})


def test_new_user_registration_with_a_made_up_bind_code_raises_invalid_bind_code(app, seed):
    with app.app_context():
        wechat_auth = app.getElement("auths.loginTypes.myWeChatMiniLogin")
    with pytest.raises(LoginError) as raised:
        run(NEW_USER_REGISTRATION, app, {"wechat_auth": wechat_auth})
    assert raised.value.code == "invalid_bind_code"


def test_complete_registration_process(app, harness, seed, capsys):
    harness.simulator.mint(seed.app_id, "new-user", code="wx_mini_code")

    namespace = run(COMPLETE_REGISTRATION_PROCESS, app, {"app": app})

    assert isinstance(namespace["new_user"], RowData)
    new_id = namespace["new_user"].userId.value
    assert capsys.readouterr().out.strip() == f"Registration successful, User ID: {new_id}"
    with app.app_context():
        assert db.session.get(User, new_id).bindings[0].login_method.name == "myWeChatMiniLogin"


def test_account_binding_and_unbinding(app, harness, seed):
    with app.app_context():
        wechat_auth = app.getElement("auths.loginTypes.myWeChatMiniLogin")
    harness.simulator.mint(seed.app_id, "user-123", code="wx_mini_code")

    bound = run(ACCOUNT_BINDING, app, {"wechat_auth": wechat_auth})["result"]
    unbound = run(ACCOUNT_UNBINDING, app, {"wechat_auth": wechat_auth})["result"]

    assert bound == {
        "bound": True,
        "userId": 123,
        "loginMethod": "myWeChatMiniLogin",
        "openId": harness.simulator.mint(seed.app_id, "user-123")["openid"],
    }
    assert unbound == {"unbound": True, "userId": 123, "loginMethod": "myWeChatMiniLogin"}


def test_account_binding_management(app, harness, seed):
    with app.app_context():
        wechat_auth = app.getElement("auths.loginTypes.myWeChatMiniLogin")
    harness.simulator.mint(seed.app_id, "user-123", code="wx_mini_code")

    namespace = run(ACCOUNT_BINDING_MANAGEMENT, app, {"wechat_auth": wechat_auth, "user_id": 123})

    assert namespace["bind_result"]["bound"] is True
    assert namespace["unbind_result"]["unbound"] is True


def test_the_contract_examples(app, harness, seed):
    harness.simulator.mint(seed.app_id, "new-user", code="wx_code_from_miniprogram")
    harness.simulator.mint(seed.app_id, "user-123", code="wx_mini_code")

    namespace = run(CONTRACT_EXAMPLES, app, {"app": app})

    assert namespace["user"].userId.value not in (None, 123)
    assert namespace["wechat_auth"].allowRegister == 1
    with app.app_context():
        assert namespace["wechat_auth"].authConfig == {"appId": seed.app_id, "appSecret": seed.secret}


def test_failures_raise_login_error_with_the_contract_code(app, harness, seed):
    with app.app_context():
        wechat_auth = app.getElement("auths.loginTypes.myWeChatMiniLogin")
        with pytest.raises(LoginError) as raised:
            wechat_auth.unbind(123)
        assert raised.value.code == "not_bound" and raised.value.status == 404
        with pytest.raises(LoginError) as raised:
            wechat_auth.bind(999, "wx_mini_code")
        assert raised.value.code == "user_not_found"
        with pytest.raises(LoginError) as raised:
            wechat_auth.bind("123", "wx_mini_code")
        assert raised.value.code == "invalid_request"
        with pytest.raises(LoginError) as raised:
            app.getElement("auths.loginTypes.noSuchLogin")
        assert raised.value.code == "login_method_not_found"
        with pytest.raises(LoginError) as raised:
            app.getElement("myWeChatMiniLogin")
        assert raised.value.code == "login_method_not_found"


@pytest.fixture
def type_registry():
    """The Type registry, restored after the test: a Type registered here must not outlive it."""
    saved = dict(TYPES)
    yield TYPES
    TYPES.clear()
    TYPES.update(saved)


def test_a_project_registers_its_own_type(app, harness, type_registry):
    @register_type("myProject.loginTypes.AuditedWeChatMiniType")
    class AuditedWeChatMiniType(WeChatMiniType):
        calls = []

        def getLoginCode(self, code):
            type(self).calls.append(self.name)
            return super().getLoginCode(code)

    method = harness.add_method(name="customLogin")
    with app.app_context():
        row = db.session.get(LoginMethod, method.id)
        row.type_name = "myProject.loginTypes.AuditedWeChatMiniType"
        db.session.commit()
        element = app.getElement("auths.loginTypes.customLogin")
        assert isinstance(element, AuditedWeChatMiniType)
        assert "bindCode" in element.getLoginCode(harness.code(method, "alice"))
    assert AuditedWeChatMiniType.calls == ["customLogin"]
    assert harness.login(method, "bob").status_code == 200  # the JSON API serves it too
    assert AuditedWeChatMiniType.calls == ["customLogin", "customLogin"]
    assert type_registry["myProject.loginTypes.AuditedWeChatMiniType"] is AuditedWeChatMiniType


def test_the_registry_holds_only_the_official_type_between_tests():
    assert set(TYPES) == {"auths.loginTypes.WeChatMiniType"}


def test_an_unregistered_type_is_reported_by_name(app, harness):
    method = harness.add_method(name="orphanLogin")
    with app.app_context():
        db.session.get(LoginMethod, method.id).type_name = "gone.loginTypes.Missing"
        db.session.commit()
        with pytest.raises(LoginError, match="gone.loginTypes.Missing"):
            app.getElement("auths.loginTypes.orphanLogin")


def test_the_secret_is_encrypted_at_rest(app):
    with app.app_context():
        method = LoginMethod(name="x", title="x", app_id="wx1")
        set_app_secret(method, "plain-secret-1234")
        assert "plain-secret" not in method.app_secret_ciphertext
        assert method.app_secret_hint == "1234"
