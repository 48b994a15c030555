"""Login events: every login, register, token, bind, unbind, phone and decrypt call leaves exactly one, with its
outcome, WeChat's errcode and whoever is known; a failed call writes nothing else; no secret, code or token in them."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import sqlalchemy.exc
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select

from console import create_app
from console.extensions import db
from console.models import USER_DISABLED, LoginEvent, LoginMethod, User, utcnow
from console.services import login_events, retention
from console.services.bindings import issue_bind_ticket
from console.services.login_methods import find_login_method
from console.services.retention import purge

PROFILE = {"nickName": "Alice Wang"}
EVENT_COLUMNS = [column.name for column in LoginEvent.__table__.columns]


def events(app) -> list[LoginEvent]:
    """Every login event, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(LoginEvent).order_by(LoginEvent.id)))


def last_event(app) -> LoginEvent:
    return events(app)[-1]


def only_its_event(changed: dict[str, int]) -> None:
    """The block wrote one login event and changed nothing else."""
    assert changed["login_events"] == 1
    assert {table: rows for table, rows in changed.items() if rows and table != "login_events"} == {}


def summary(event: LoginEvent) -> tuple:
    return event.call, event.outcome, event.wechat_errcode, event.openid, event.user_id


def openid_of(harness, method, user: str) -> str:
    return harness.simulator.state.identity(method.app_id, user)[0]


def issue_ticket(app, method, user_id: int) -> str:
    with app.app_context():
        return issue_bind_ticket(find_login_method(method.name), user_id)


def set_user_status(app, user_id: int, status: str) -> None:
    with app.app_context():
        db.session.get(User, user_id).status = status
        db.session.commit()


# -- log in -------------------------------------------------------------------------------------------------------


def test_a_login_of_a_known_user_is_one_insert_of_its_event_and_no_audit_event(app, harness, changes):
    method = harness.add_method()
    user_id = harness.register(method, "alice")["user"]["userId"]

    with changes() as changed:
        answer = harness.login(method, "alice")

    assert answer.status_code == 200
    assert changed["login_events"] == 1 and changed["audit_events"] == 0  # the event is the login's one record
    event = last_event(app)
    assert summary(event) == ("login", "ok", None, openid_of(harness, method, "alice"), user_id)
    assert event.login_method == method.name and event.address == "127.0.0.1"
    assert event.request_id == answer.headers["X-Request-ID"]


def test_a_new_wechat_user_given_a_bind_code_is_a_success_without_a_user(app, harness):
    method = harness.add_method()
    answer = harness.login(method, "newcomer")
    assert "bindCode" in answer.json
    assert summary(last_event(app)) == ("login", "ok", None, openid_of(harness, method, "newcomer"), None)


@pytest.mark.parametrize(
    "errcode, outcome",
    [
        (40029, "invalid_code"),
        (40163, "code_used"),
        (40226, "user_blocked"),
        (45011, "wechat_rate_limited"),
        (40125, "wechat_misconfigured"),
        (-1, "wechat_unavailable"),
    ],
)
def test_a_login_wechat_refuses_writes_only_its_event_with_the_errcode(app, harness, changes, errcode, outcome):
    method = harness.add_method()

    with changes() as changed:
        answer = harness.login(method, "alice", errcode=errcode)

    assert answer.json["error"]["code"] == outcome
    only_its_event(changed)
    event = last_event(app)
    assert summary(event) == ("login", outcome, errcode, None, None)  # WeChat names nobody when it refuses
    assert event.login_method == method.name and event.request_id == answer.headers["X-Request-ID"]


def test_a_login_refused_here_writes_only_its_event_naming_whoever_is_known(app, harness, simulator, changes):
    closed = harness.add_method(name="closedLogin", allow_register=False)
    off = harness.add_method(name="offLogin", enabled=False)
    method = harness.add_method()
    user_id = harness.register(method, "dora")["user"]["userId"]
    set_user_status(app, user_id, USER_DISABLED)
    used = harness.code(method, "carol")
    harness.post(f"/wechat-mini/{method.name}/login", {"code": used})

    cases = [
        (lambda: harness.login(closed, "stranger"), ("registration_closed", openid_of(harness, closed, "stranger"))),
        (lambda: harness.login(method, "dora"), ("account_disabled", openid_of(harness, method, "dora"))),
        (lambda: harness.post(f"/wechat-mini/{method.name}/login", {"code": used}), ("code_used", None)),
        (lambda: harness.login(off, "alice"), ("login_method_disabled", None)),
        (lambda: harness.login(method, "alice", fault="not_json"), ("wechat_unavailable", None)),
        (lambda: harness.post(f"/wechat-mini/{method.name}/login", {"code": 7}), ("invalid_request", None)),
        (lambda: harness.post("/wechat-mini/noSuchLogin/login", {"code": "abc"}), ("login_method_not_found", None)),
    ]
    for call, (outcome, openid) in cases:
        with changes() as changed:
            answer = call()
        assert answer.json["error"]["code"] == outcome
        only_its_event(changed)
        event = last_event(app)
        assert (event.call, event.outcome, event.wechat_errcode, event.openid) == ("login", outcome, None, openid)
        assert event.user_id == (user_id if outcome == "account_disabled" else None)
    assert last_event(app).login_method == "noSuchLogin"  # the name the mini program called


# -- register, token ------------------------------------------------------------------------------------------------


def test_register_events(app, harness, changes):
    method = harness.add_method()
    first = harness.login(method, "alice").json["bindCode"]
    second = harness.login(method, "alice").json["bindCode"]
    openid = openid_of(harness, method, "alice")

    registered = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": first})
    user_id = registered.json["user"]["userId"]
    assert summary(last_event(app)) == ("register", "ok", None, openid, user_id)

    with changes() as changed:
        again = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": second})
    assert again.json["error"]["code"] == "already_registered"
    only_its_event(changed)
    assert summary(last_event(app)) == ("register", "already_registered", None, openid, None)

    with changes() as changed:
        unknown = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": "B" * 43})
    assert unknown.json["error"]["code"] == "invalid_bind_code"
    only_its_event(changed)
    assert summary(last_event(app)) == ("register", "invalid_bind_code", None, None, None)

    pending = harness.login(method, "bob").json["bindCode"]
    with app.app_context():
        db.session.get(LoginMethod, method.id).allow_register = False  # an admin closed registration meanwhile
        db.session.commit()
    with changes() as changed:
        closed = harness.post(f"/wechat-mini/{method.name}/register", {"bindCode": pending})
    assert closed.json["error"]["code"] == "registration_closed"
    only_its_event(changed)
    assert summary(last_event(app)) == ("register", "registration_closed", None, None, None)


def test_token_events(app, harness, changes):
    method = harness.add_method()
    user_id = harness.register(method, "alice")["user"]["userId"]

    login_code = harness.login(method, "alice").json["loginCode"]
    assert harness.post("/auth/token", {"loginCode": login_code}).status_code == 200
    event = last_event(app)
    assert summary(event) == ("token", "ok", None, None, user_id) and event.login_method == method.name

    with changes() as changed:
        reused = harness.post("/auth/token", {"loginCode": login_code})
    assert reused.json["error"]["code"] == "invalid_login_code"
    only_its_event(changed)
    assert summary(last_event(app)) == ("token", "invalid_login_code", None, None, None)

    with changes() as changed:
        outsider = harness.post(
            "/auth/token", {"loginCode": harness.login(method, "alice").json["loginCode"], "corpId": "x"}
        )
    assert outsider.json["error"]["code"] == "not_a_member"
    assert changed["login_events"] == 2  # the login, then the refused token exchange
    assert summary(last_event(app)) == ("token", "not_a_member", None, None, user_id)

    login_code = harness.login(method, "alice").json["loginCode"]
    set_user_status(app, user_id, USER_DISABLED)
    with changes() as changed:
        disabled = harness.post("/auth/token", {"loginCode": login_code})
    assert disabled.json["error"]["code"] == "account_disabled"
    only_its_event(changed)
    assert summary(last_event(app)) == ("token", "account_disabled", None, None, user_id)


# -- bind, unbind -----------------------------------------------------------------------------------------------


def test_bind_events(app, harness, changes):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    token = harness.token(shop, "alice")
    user_id = harness.get("/me", token).json["user"]["userId"]
    bob = harness.register(shop, "bob")["user"]["userId"]
    ticket = issue_ticket(app, blog, bob)

    with changes() as changed:
        blocked = harness.post(
            f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "bob", errcode=40226), "ticket": ticket}
        )
    assert blocked.json["error"]["code"] == "user_blocked"
    only_its_event(changed)
    assert summary(last_event(app)) == ("bind", "user_blocked", 40226, None, bob)  # the ticket named the user

    used = harness.code(blog, "bob")
    harness.post(f"/wechat-mini/{blog.name}/login", {"code": used})
    with changes() as changed:
        reused = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": used, "ticket": ticket})
    assert reused.json["error"]["code"] == "code_used"
    only_its_event(changed)
    assert summary(last_event(app)) == ("bind", "code_used", None, None, bob)

    assert (
        harness.post(
            f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "bob"), "ticket": ticket}
        ).status_code
        == 200
    )
    assert summary(last_event(app)) == ("bind", "ok", None, openid_of(harness, blog, "bob"), bob)

    with changes() as changed:
        taken = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "bob")}, token=token)
    assert taken.json["error"]["code"] == "wechat_already_bound"
    only_its_event(changed)
    assert summary(last_event(app)) == ("bind", "wechat_already_bound", None, openid_of(harness, blog, "bob"), user_id)

    with changes() as changed:
        stale = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice"), "ticket": ticket})
    assert stale.json["error"]["code"] == "invalid_ticket"
    only_its_event(changed)
    assert summary(last_event(app)) == ("bind", "invalid_ticket", None, None, None)

    with changes() as changed:
        anonymous = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice")})
    assert anonymous.json["error"]["code"] == "unauthorized"
    only_its_event(changed)
    assert summary(last_event(app)) == ("bind", "unauthorized", None, None, None)

    assert (
        harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice")}, token=token).status_code
        == 200
    )
    assert summary(last_event(app)) == ("bind", "ok", None, openid_of(harness, blog, "alice"), user_id)


def test_unbind_events(app, harness, changes):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    token = harness.token(shop, "alice")
    user_id = harness.get("/me", token).json["user"]["userId"]

    with changes() as changed:
        last = harness.post(f"/wechat-mini/{shop.name}/unbind", {}, token=token)
    assert last.json["error"]["code"] == "last_login_method"
    only_its_event(changed)
    assert summary(last_event(app)) == ("unbind", "last_login_method", None, openid_of(harness, shop, "alice"), user_id)

    with changes() as changed:
        unbound = harness.post(f"/wechat-mini/{blog.name}/unbind", {}, token=token)
    assert unbound.json["error"]["code"] == "not_bound"
    only_its_event(changed)
    assert summary(last_event(app)) == ("unbind", "not_bound", None, None, user_id)

    harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice")}, token=token)
    assert harness.post(f"/wechat-mini/{blog.name}/unbind", {}, token=token).status_code == 200
    event = last_event(app)
    assert summary(event) == ("unbind", "ok", None, openid_of(harness, blog, "alice"), user_id)
    assert event.login_method == blog.name


# -- phone, decrypt -------------------------------------------------------------------------------------------------


def test_phone_events(app, harness, changes):
    method = harness.add_method()
    token = harness.token(method, "alice")
    user_id = harness.get("/me", token).json["user"]["userId"]
    openid = openid_of(harness, method, "alice")

    code = harness.simulator.phone_code(method.app_id, "alice")
    assert harness.post(f"/wechat-mini/{method.name}/phone", {"code": code}, token=token).status_code == 200
    assert summary(last_event(app)) == ("phone", "ok", None, openid, user_id)

    refusals = [
        (code, "code_used", None),
        (harness.simulator.phone_code(method.app_id, "alice", errcode=45011), "wechat_rate_limited", 45011),
        ("f" * 64, "invalid_code", 40029),
    ]
    for phone_code, outcome, errcode in refusals:
        with changes() as changed:
            answer = harness.post(f"/wechat-mini/{method.name}/phone", {"code": phone_code}, token=token)
        assert answer.json["error"]["code"] == outcome
        only_its_event(changed)
        assert summary(last_event(app)) == ("phone", outcome, errcode, openid, user_id)


def test_decrypt_events(app, harness, changes):
    method = harness.add_method()
    token = harness.token(method, "alice")
    user_id = harness.get("/me", token).json["user"]["userId"]
    openid = openid_of(harness, method, "alice")

    def decrypt(sealed, **fields):
        body = {"encryptedData": sealed["encryptedData"], "iv": sealed["iv"], **fields}
        return harness.post(f"/wechat-mini/{method.name}/decrypt", body, token=token)

    assert decrypt(harness.simulator.sealed(method.app_id, "alice", PROFILE)).status_code == 200
    assert summary(last_event(app)) == ("decrypt", "ok", None, openid, user_id)

    sealed = harness.simulator.sealed(method.app_id, "alice", PROFILE)
    foreign = harness.simulator.sealed(method.app_id, "alice", PROFILE, watermark={"appid": "wxother", "timestamp": 1})
    for call, outcome in [
        (lambda: decrypt(sealed, rawData=sealed["rawData"] + " ", signature=sealed["signature"]), "invalid_signature"),
        (lambda: decrypt(foreign), "watermark_mismatch"),
        # one block our stored key cannot open: the phone's key moved on
        (lambda: decrypt({"encryptedData": "A" * 22 + "==", "iv": sealed["iv"]}), "session_key_stale"),
    ]:
        with changes() as changed:
            answer = call()
        assert answer.json["error"]["code"] == outcome
        only_its_event(changed)
        assert summary(last_event(app)) == ("decrypt", outcome, None, openid, user_id)


def test_me_and_logout_leave_no_login_event(app, harness, changes):
    method = harness.add_method()
    token = harness.token(method, "alice")
    with changes() as changed:
        harness.get("/me", token)
        harness.post("/auth/logout", {}, token=token)
    assert changed["login_events"] == 0


# -- what an event holds ----------------------------------------------------------------------------------------


def test_no_code_token_ticket_or_secret_is_stored_in_an_event(app, harness, simulator):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    values = {shop.secret, blog.secret}
    code = harness.code(shop, "alice")
    bind_code = harness.post(f"/wechat-mini/{shop.name}/login", {"code": code}).json["bindCode"]
    registered = harness.post(f"/wechat-mini/{shop.name}/register", {"bindCode": bind_code}).json
    token = harness.post("/auth/token", {"loginCode": registered["loginCode"]}).json["accessToken"]
    ticket = issue_ticket(app, blog, registered["user"]["userId"])
    bind_code_value = harness.code(blog, "alice")
    harness.post(f"/wechat-mini/{blog.name}/bind", {"code": bind_code_value, "ticket": ticket})
    harness.post(f"/wechat-mini/{blog.name}/bind", {"code": bind_code_value, "ticket": ticket})  # refused: used
    phone_code = simulator.phone_code(shop.app_id, "alice")
    harness.post(f"/wechat-mini/{shop.name}/phone", {"code": phone_code}, token=token)
    harness.post(f"/wechat-mini/{shop.name}/login", {"code": code})  # refused: used
    harness.post("/auth/token", {"loginCode": registered["loginCode"]})  # refused: used
    values |= {code, bind_code, registered["loginCode"], token, ticket, bind_code_value, phone_code}
    values |= simulator.state.secrets()  # appSecrets, session keys, WeChat's access tokens

    stored = events(app)
    assert len(stored) == 8
    cells = [str(getattr(event, column)) for event in stored for column in EVENT_COLUMNS]
    assert not [value for value in values if any(value in cell for cell in cells)]
    assert EVENT_COLUMNS == [
        "id",
        "created_at",
        "call",
        "login_method",
        "outcome",
        "wechat_errcode",
        "openid",
        "user_id",
        "address",
        "request_id",
    ]


def test_a_success_row_rolled_back_with_its_transaction_leaves_one_failure_event(app, harness, changes, monkeypatch):
    """The success row is written in the service's transaction: should that transaction fail at its commit, the row
    goes with it and the call still leaves exactly one event, of its failure, and changes nothing else."""
    method = harness.add_method()
    user_id = harness.register(method, "alice")["user"]["userId"]
    original = login_events.record_success

    def disk_full(session):
        raise RuntimeError("the disk is full")

    def then_fail_the_commit(**known):
        original(**known)
        sqlalchemy_event.listen(db.session(), "before_commit", disk_full, once=True)

    monkeypatch.setattr(login_events, "record_success", then_fail_the_commit)
    with changes() as changed:
        answer = harness.login(method, "alice")

    assert answer.status_code == 500 and answer.json["error"]["code"] == "internal_error"
    only_its_event(changed)
    assert summary(last_event(app)) == ("login", "internal_error", None, openid_of(harness, method, "alice"), user_id)


def test_a_login_retried_after_a_rolled_back_attempt_leaves_one_success_event(app, harness, changes, monkeypatch):
    """A parallel first login can make the first try's transaction fail after its success row was written (a unique
    binding): log_in tries again, and the row of the try that committed is the call's one event."""
    method = harness.add_method()
    user_id = harness.register(method, "alice")["user"]["userId"]
    original = login_events.record_success
    tries: list[int] = []

    def then_collide_once(**known):
        original(**known)
        tries.append(1)
        if len(tries) == 1:
            raise sqlalchemy.exc.IntegrityError("INSERT INTO wechat_bindings", {}, Exception("a parallel login"))

    monkeypatch.setattr(login_events, "record_success", then_collide_once)
    with changes() as changed:
        answer = harness.login(method, "alice")

    assert answer.status_code == 200 and len(tries) == 2
    assert changed["login_events"] == 1
    assert summary(last_event(app)) == ("login", "ok", None, openid_of(harness, method, "alice"), user_id)


def test_a_failure_event_that_cannot_be_written_leaves_the_answer_as_it_was(app, harness, monkeypatch, caplog):
    method = harness.add_method(allow_register=False)
    execute = db.session.execute

    def refuse_the_event(statement, *args, **kwargs):
        if statement is login_events.INSERT_EVENT:
            raise sqlalchemy.exc.IntegrityError("INSERT INTO login_events", {}, Exception("a constraint"))
        return execute(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", refuse_the_event)
    with caplog.at_level(logging.WARNING, "console.services.login_events"):
        answer = harness.login(method, "stranger")

    assert answer.status_code == 403 and answer.json["error"]["code"] == "registration_closed"
    assert [record.getMessage()[:26] for record in caplog.records if record.levelno == logging.WARNING] == [
        "login event of request " + answer.headers["X-Request-ID"][:3]
    ]
    assert events(app) == []


# -- retention --------------------------------------------------------------------------------------------------


def test_purge_keeps_login_events_for_login_events_days_and_deletes_older_ones_in_batches(environ, monkeypatch):
    app = create_app({"TESTING": True}, environ={**environ, "LOGIN_EVENTS_DAYS": "7"})
    now = utcnow()
    with app.app_context():
        db.create_all()
        ages = [timedelta(days=8)] * 5 + [timedelta(days=6, hours=23)] * 2 + [timedelta(days=30)]
        db.session.add_all(LoginEvent(call="login", outcome="ok", created_at=now - age) for age in ages)
        db.session.commit()
        deletes: list[int] = []
        original = retention.rows_changed
        monkeypatch.setattr(retention, "rows_changed", lambda s: deletes.append(original(s)) or deletes[-1])

        deleted = purge(batch_size=2)

        assert deleted["login events"] == 6
        assert deletes == [2, 2, 2]  # three batches of the login events, nothing of the other (empty) kinds
        kept = db.session.scalars(select(LoginEvent.created_at)).all()
        assert len(kept) == 2 and all(now - moment < timedelta(days=7) for moment in kept)
        db.session.remove()
        db.engine.dispose()


def test_only_calls_of_the_api_are_recorded(app, harness):
    """The seed's Python API and the console call the same services, with no attempt open: nothing is written."""
    method = harness.add_method()
    code = harness.code(method, "alice")
    with app.app_context():
        app.getElement(f"auths.loginTypes.{method.name}").getLoginCode(code)
    assert events(app) == []
