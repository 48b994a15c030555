"""One structured log line per API call: request id, login method, outcome, error codes, duration; no secrets."""

from __future__ import annotations

import json
import logging


def request_lines(caplog) -> list[dict]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "console.requests"]


def test_every_api_call_logs_one_structured_line(harness, caplog):
    caplog.set_level(logging.INFO)
    method = harness.add_method()
    wx_code = harness.code(method, "alice")
    caplog.clear()

    bind_code = harness.post(f"/wechat-mini/{method.name}/login", {"code": wx_code}).json["bindCode"]
    registered = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": bind_code}).json
    token = harness.post("/auth/token", {"loginCode": registered["loginCode"]}).json["accessToken"]
    harness.get("/me", token)
    failed = harness.login(method, "alice", errcode=45011)

    lines = request_lines(caplog)
    assert [line["path"] for line in lines][:4] == [
        f"/api/v1/wechat-mini/{method.name}/login",
        f"/api/v1/wechat-mini/{method.name}/register",
        "/api/v1/auth/token",
        "/api/v1/me",
    ]
    first, last = lines[0], lines[-1]
    assert first["loginMethod"] == method.name and first["outcome"] == "ok" and first["status"] == 200
    assert first["durationMs"] >= 0 and len(first["requestId"]) == 32
    assert (last["outcome"], last["errorCode"], last["wechatErrcode"], last["status"]) == (
        "error",
        "wechat_rate_limited",
        45011,
        429,
    )
    assert failed.headers["X-Request-ID"] == last["requestId"]
    logged = caplog.text
    for value in (wx_code, bind_code, registered["loginCode"], token):
        assert value not in logged


def test_a_well_formed_request_id_is_kept_and_a_bad_one_replaced(client, caplog):
    caplog.set_level(logging.INFO)
    kept = client.get("/api/v1/me", headers={"X-Request-ID": "edge-1234.abc"})
    replaced = client.get("/api/v1/me", headers={"X-Request-ID": "bad id with spaces and a very long tail"})
    assert kept.headers["X-Request-ID"] == "edge-1234.abc"
    assert (
        replaced.headers["X-Request-ID"] != "bad id with spaces and a very long tail"
        and len(replaced.headers["X-Request-ID"]) == 32
    )
    assert [line["requestId"] for line in request_lines(caplog)] == [
        kept.headers["X-Request-ID"],
        replaced.headers["X-Request-ID"],
    ]


def test_health_checks_are_not_logged(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/healthz")
    client.get("/readyz")
    assert request_lines(caplog) == []
