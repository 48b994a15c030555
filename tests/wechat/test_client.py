"""The WeChat client: every failure one of its own errors, which the gateway maps to the contract; the secret
in no exception or log line."""

from __future__ import annotations

import logging
import socket

import pytest

from console.services.gateway import as_refusal
from console.wechat.client import WeChatClient, WeChatError, WeChatRefused, WeChatUnavailable

SECRET = "client-test-secret-0123456789"


@pytest.fixture
def wechat(simulator):
    simulator.register_app("wxclient00000001", SECRET, open_platform="p")
    return WeChatClient(simulator.url, timeout=1)


def test_a_good_code_gives_the_session(wechat, simulator):
    code = simulator.code("wxclient00000001", "alice")
    session = wechat.code_to_session("wxclient00000001", SECRET, code)
    assert session.openid and session.unionid and session.session_key
    assert session.session_key not in repr(session)


@pytest.mark.parametrize(
    "options, code, errcode",
    [
        ({"errcode": 40029}, "invalid_code", 40029),
        ({"errcode": 40163}, "code_used", 40163),
        ({"errcode": 40226}, "user_blocked", 40226),
        ({"errcode": 45011}, "wechat_rate_limited", 45011),
        ({"errcode": -1}, "wechat_unavailable", -1),
        ({"errcode": 41004}, "wechat_misconfigured", 41004),
        ({"fault": "http_500"}, "wechat_unavailable", None),
        ({"fault": "not_json"}, "wechat_unavailable", None),
        ({"fault": "no_openid"}, "wechat_unavailable", None),
        ({"delay": 1.5}, "wechat_unavailable", None),
    ],
)
def test_failures_map_to_contract_errors_without_the_secret(wechat, simulator, caplog, options, code, errcode):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(WeChatError) as raised:
        wechat.code_to_session("wxclient00000001", SECRET, simulator.code("wxclient00000001", "alice", **options))
    assert isinstance(raised.value, WeChatRefused if errcode is not None else WeChatUnavailable)
    assert raised.value.__cause__ is None and raised.value.__context__ is None
    error = as_refusal(raised.value)
    assert (error.code, error.wechat_errcode) == (code, errcode)
    assert SECRET not in str(raised.value) and SECRET not in str(error) and SECRET not in repr(error.to_dict())


def test_a_wrong_secret_is_misconfigured(wechat, simulator):
    with pytest.raises(WeChatRefused) as raised:
        wechat.code_to_session("wxclient00000001", "wrong", simulator.code("wxclient00000001", "alice"))
    error = as_refusal(raised.value)
    assert error.code == "wechat_misconfigured" and error.wechat_errcode == 40125


def test_a_refused_connection_is_unavailable_and_not_chained(caplog):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WeChatUnavailable) as raised:
        WeChatClient(f"http://127.0.0.1:{port}", timeout=1).code_to_session("wx1", SECRET, "code")
    assert as_refusal(raised.value).code == "wechat_unavailable"
    assert raised.value.__context__ is None
    assert SECRET not in caplog.text


def test_urls_with_the_secret_are_masked_in_library_logs(wechat, simulator, caplog):
    caplog.set_level(logging.DEBUG)
    wechat.code_to_session("wxclient00000001", SECRET, simulator.code("wxclient00000001", "alice"))
    assert "jscode2session" in caplog.text
    assert SECRET not in caplog.text and "secret=***" in caplog.text


@pytest.mark.parametrize(
    "app_id, secret, right, errcode",
    [
        ("wxclient00000001", SECRET, True, 40029),
        ("wxclient00000001", "wrong", False, 40125),
        ("wxunknown0000001", SECRET, False, 40013),
    ],
)
def test_check_credentials_judges_app_id_and_secret_with_a_code_that_cannot_exist(
    wechat, caplog, app_id, secret, right, errcode
):
    caplog.set_level(logging.DEBUG)
    verdict = wechat.check_credentials(app_id, secret)
    assert (verdict.right, verdict.errcode) == (right, errcode)
    assert SECRET not in caplog.text


def test_check_credentials_cannot_tell_when_wechat_fails(simulator):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verdict = WeChatClient(f"http://127.0.0.1:{port}", timeout=1).check_credentials("wx1", SECRET)
    assert verdict.right is None and "could not be reached" in verdict.problem
