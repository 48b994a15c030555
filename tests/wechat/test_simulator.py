"""The simulator speaks WeChat's jscode2session contract over real HTTP."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from console import create_app
from console.config import ConfigError
from console.extensions import db
from console.models import LoginMethod
from console.services.login_methods import set_app_secret


@pytest.fixture
def sim_app(simulator):
    simulator.register_app("wxsim0000000001", "right-secret", open_platform="platform-a")
    simulator.register_app("wxsim0000000002", "other-secret", open_platform="platform-a")
    simulator.register_app("wxsim0000000003", "third-secret")
    return simulator


def exchange(simulator, code, app_id="wxsim0000000001", secret="right-secret", **extra):
    params = {"appid": app_id, "secret": secret, "js_code": code, "grant_type": "authorization_code", **extra}
    response = requests.get(f"{simulator.url}/sns/jscode2session", params=params, timeout=5)
    assert response.status_code == 200
    return json.loads(response.text)


def test_a_code_is_exchanged_once_for_openid_unionid_and_a_fresh_session_key(sim_app):
    code = sim_app.code("wxsim0000000001", "alice")
    first = exchange(sim_app, code)
    assert "errcode" not in first  # like WeChat: no errcode key on success
    assert len(first["openid"]) == 28 and first["unionid"]
    assert exchange(sim_app, code)["errcode"] == 40163

    again = exchange(sim_app, sim_app.code("wxsim0000000001", "alice"))
    assert again["openid"] == first["openid"] and again["unionid"] == first["unionid"]
    assert again["session_key"] != first["session_key"]


def test_openids_differ_per_app_and_unionids_follow_the_open_platform(sim_app):
    one = exchange(sim_app, sim_app.code("wxsim0000000001", "alice"))
    two = exchange(
        sim_app,
        sim_app.code(
            "wxsim0000000002",
            "alice",
        ),
        "wxsim0000000002",
        "other-secret",
    )
    three = exchange(sim_app, sim_app.code("wxsim0000000003", "alice"), "wxsim0000000003", "third-secret")
    assert one["openid"] != two["openid"]
    assert one["unionid"] == two["unionid"]
    assert "unionid" not in three


def test_the_answer_is_json_sent_as_text_plain(sim_app):
    code = sim_app.code("wxsim0000000001", "alice")
    response = requests.get(
        f"{sim_app.url}/sns/jscode2session",
        params={
            "appid": "wxsim0000000001",
            "secret": "right-secret",
            "js_code": code,
            "grant_type": "authorization_code",
        },
        timeout=5,
    )
    assert response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params, errcode",
    [
        ({"appid": ""}, 41002),
        ({"secret": ""}, 41004),
        ({"js_code": ""}, 41008),
        ({"grant_type": "password"}, 40002),
        ({"appid": "wxunknown"}, 40013),
        ({"secret": "wrong-secret"}, 40125),
        ({"js_code": "never-minted"}, 40029),
    ],
)
def test_wechat_errors(sim_app, params, errcode):
    code = sim_app.code("wxsim0000000001", "alice")
    query = {
        "appid": "wxsim0000000001",
        "secret": "right-secret",
        "js_code": code,
        "grant_type": "authorization_code",
        **params,
    }
    answer = json.loads(requests.get(f"{sim_app.url}/sns/jscode2session", params=query, timeout=5).text)
    assert answer["errcode"] == errcode and answer["errmsg"]


def test_a_code_is_for_its_own_app_only(sim_app):
    code = sim_app.code("wxsim0000000001", "alice")
    assert exchange(sim_app, code, "wxsim0000000002", "other-secret")["errcode"] == 40029


def test_a_code_expires_after_five_minutes(sim_app, monkeypatch):
    import time

    code = sim_app.code("wxsim0000000001", "alice")
    real_time = time.time
    monkeypatch.setattr("console.wechat.simulator.state.time.time", lambda: real_time() + 301)
    assert exchange(sim_app, code)["errcode"] == 40029


@pytest.mark.parametrize("errcode", [40029, 40163, 40226, 45011, -1])
def test_errors_on_demand(sim_app, errcode):
    assert exchange(sim_app, sim_app.code("wxsim0000000001", "alice", errcode=errcode))["errcode"] == errcode


@pytest.mark.parametrize(
    "body",
    [
        {"appId": "wxunknown", "user": "a"},
        {"appId": "wxsim0000000001"},
        {"appId": "wxsim0000000001", "user": ""},
        {"appId": "wxsim0000000001", "user": "a", "fault": "nope"},
        {"appId": "wxsim0000000001", "user": "a", "delay": 99},
        {"appId": "wxsim0000000001", "user": "a", "errcode": "x"},
    ],
)
def test_the_mint_endpoint_validates(sim_app, body):
    response = requests.post(f"{sim_app.url}/sim/codes", json=body, timeout=5)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"


def test_registering_an_app_needs_a_secret(sim_app):
    response = requests.put(f"{sim_app.url}/sim/apps/wxnew", json={}, timeout=5)
    assert response.status_code == 400
    listed = requests.get(f"{sim_app.url}/sim/apps", timeout=5).json()["apps"]
    assert "wxnew" not in {app["appId"] for app in listed}
    assert all("secret" not in json.dumps(app).lower() for app in listed)


def test_registered_apps_survive_a_restart_when_saved(tmp_path):
    from console.wechat.simulator.state import SimulatorState

    path = tmp_path / "sim.json"
    SimulatorState(str(path)).register_app("wxkept", "kept-secret", "p")
    assert SimulatorState(str(path)).check_app("wxkept", "kept-secret") is None
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_the_simulator_is_mounted_only_when_switched_on_and_its_control_api_only_in_the_demo(environ, tmp_path):
    state = {"WECHAT_SIMULATOR_STATE": str(tmp_path / "s.db")}
    off = create_app({"TESTING": True}, environ=environ).test_client()
    on = create_app({"TESTING": True}, environ={**environ, **state, "WECHAT_SIMULATOR": "1"}).test_client()
    demo = create_app({"TESTING": True}, environ={**environ, **state, "CONSOLE_DEMO": "1"}).test_client()
    exchange = {"appid": "wxnobody", "secret": "s", "js_code": "c", "grant_type": "authorization_code"}

    assert off.get("/_wechat/sim/apps").status_code == 404
    assert off.get("/_wechat/sns/jscode2session", query_string=exchange).status_code == 404
    # Outside the demo WeChat's own endpoints answer, but nobody may mint codes or register apps over HTTP.
    assert json.loads(on.get("/_wechat/sns/jscode2session", query_string=exchange).data)["errcode"] == 40013
    assert on.get("/_wechat/sim/apps").status_code == 404
    assert on.put("/_wechat/sim/apps/wxsneaky", json={"appSecret": "mine"}).status_code == 404
    assert on.post("/_wechat/sim/codes", json={"appId": "wxsneaky", "user": "a"}).status_code == 404
    assert on.post("/_wechat/sim/apps/wxsneaky/reset-token").status_code == 404
    assert on.application.extensions["wechat_simulator"].apps == {}
    assert demo.get("/_wechat/sim/apps").status_code == 200


@pytest.fixture
def stranger():
    """A socket that listens and never answers: whatever holds FLASK_RUN_PORT while the app serves elsewhere."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        yield listener


@pytest.fixture
def demo_app(environ, tmp_path, stranger):
    """The demo console (no WECHAT_API_BASE) with FLASK_RUN_PORT on the stranger, and a login method it simulates."""
    environ = {key: value for key, value in environ.items() if key != "WECHAT_API_BASE"}
    environ.update(
        CONSOLE_DEMO="1",
        FLASK_RUN_PORT=str(stranger.getsockname()[1]),
        WECHAT_SIMULATOR_STATE=str(tmp_path / "s.db"),
        WECHAT_TIMEOUT="0.5",
    )
    app = create_app({"TESTING": True}, environ=environ)
    with app.app_context():
        db.create_all()
        method = LoginMethod(name="demoLogin", title="Demo", app_id="wxdemo0000000001", allow_register=True)
        set_app_secret(method, "demo-secret-0123456789abcdef")
        db.session.add(method)
        db.session.commit()
    app.extensions["wechat_simulator"].register_app("wxdemo0000000001", "demo-secret-0123456789abcdef")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def demo_login(app, **options):
    """Mint a code through the demo's control API and log in with it; the API's answer."""
    client = app.test_client()
    body = {"appId": "wxdemo0000000001", "user": "alice", **options}
    code = client.post("/_wechat/sim/codes", json=body).json["code"]
    return client.post("/api/v1/wechat-mini/demoLogin/login", json={"code": code})


def test_the_demo_serves_the_simulator_in_process_never_on_flask_run_port(demo_app, stranger):
    """Under gunicorn on another port, FLASK_RUN_PORT is someone else's: the secret must never be sent there."""
    answer = demo_login(demo_app)
    assert answer.status_code == 200 and "bindCode" in answer.json
    with pytest.raises(BlockingIOError):
        stranger.accept()  # nobody knocked


def test_the_in_process_simulator_keeps_wechat_timeout(demo_app, stranger):
    started = time.monotonic()
    answer = demo_login(demo_app, delay=2)
    assert answer.status_code == 503 and answer.json["error"]["code"] == "wechat_unavailable"
    assert time.monotonic() - started < 1.5
    with pytest.raises(BlockingIOError):
        stranger.accept()


def test_switching_the_simulator_on_points_the_client_at_it_in_the_demo_only(environ, tmp_path):
    environ = {key: value for key, value in environ.items() if key != "WECHAT_API_BASE"}
    state = {"WECHAT_SIMULATOR_STATE": str(tmp_path / "s.db")}
    demo = {**environ, **state, "CONSOLE_DEMO": "1", "FLASK_RUN_PORT": "5123"}
    assert create_app({"TESTING": True}, environ=demo).config["WECHAT_API_BASE"] == "http://127.0.0.1:5123/_wechat"
    assert create_app({"TESTING": True}, environ=environ).config["WECHAT_API_BASE"] == "https://api.weixin.qq.com"
    with pytest.raises(ConfigError, match="^WECHAT_API_BASE is not set: WECHAT_SIMULATOR=1 outside CONSOLE_DEMO"):
        create_app({"TESTING": True}, environ={**environ, **state, "WECHAT_SIMULATOR": "1", "FLASK_RUN_PORT": "5123"})


def test_stable_token_is_stable_until_reset_and_checks_credentials(sim_app):
    def fetch(**body):
        payload = {"grant_type": "client_credential", "appid": "wxsim0000000001", "secret": "right-secret", **body}
        return requests.post(f"{sim_app.url}/cgi-bin/stable_token", json=payload, timeout=5).json()

    first, second = fetch(), fetch()
    assert first["access_token"] == second["access_token"] and 0 < first["expires_in"] <= 7200
    assert fetch(force_refresh=True)["access_token"] != first["access_token"]
    assert fetch(secret="wrong")["errcode"] == 40125
    assert fetch(appid="wxnobody")["errcode"] == 40013
    assert fetch(grant_type="password")["errcode"] == 40002


def test_checksession_and_phone_need_a_live_access_token(sim_app):
    for path, method in (("/wxa/checksession", "get"), ("/wxa/business/getuserphonenumber", "post")):
        answer = getattr(requests, method)(
            f"{sim_app.url}{path}", params={"access_token": "nope"}, json={}, timeout=5
        ).json()
        assert answer["errcode"] == 40001


def test_encrypted_data_needs_a_logged_in_user_and_valid_input(sim_app):
    never = requests.post(
        f"{sim_app.url}/sim/encrypted-data",
        json={"appId": "wxsim0000000001", "user": "nobody-yet", "data": {}},
        timeout=5,
    )
    assert never.status_code == 400 and "log in first" in never.json()["error"]["message"]
    exchange(sim_app, sim_app.code("wxsim0000000001", "carol"))
    bad = requests.post(
        f"{sim_app.url}/sim/encrypted-data", json={"appId": "wxsim0000000001", "user": "carol", "data": [1]}, timeout=5
    )
    assert bad.status_code == 400
    good = requests.post(
        f"{sim_app.url}/sim/encrypted-data",
        json={"appId": "wxsim0000000001", "user": "carol", "data": {"a": 1}},
        timeout=5,
    )
    assert set(good.json()) == {"encryptedData", "iv", "rawData", "signature"}


@pytest.mark.parametrize("body", [{"phoneNumber": "12ab"}, {"countryCode": 86}, {"errcode": "x"}, {"user": ""}])
def test_the_phone_code_endpoint_validates(sim_app, body):
    payload = {"appId": "wxsim0000000001", "user": "alice", **body}
    assert requests.post(f"{sim_app.url}/sim/phone-codes", json=payload, timeout=5).status_code == 400
