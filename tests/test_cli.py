"""The command line: import, export and list login methods, create admins, issue tickets, the demo."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from console.errors import Refused
from console.extensions import db
from console.models import (
    AccessToken,
    AdminAccount,
    AuditEvent,
    ConsoleSession,
    LoginEvent,
    LoginMethod,
    SignInFailure,
    User,
    utcnow,
)
from console.seed.instance_dir import InstanceDirError, read_instance_upload
from console.seed.registry import TYPES
from console.services.console_accounts import locked_for_address, sign_in
from tests.helpers import instance_files


def write_instance(root, name="myWeChatMiniLogin", element=None, config=None, config_name=None):
    directory = root / name
    directory.mkdir(parents=True, exist_ok=True)
    element, config = instance_files(name, element, config, config_name)
    (directory / "e.json").write_text(element if isinstance(element, str) else json.dumps(element))
    (directory / f"{config_name or name}.json").write_text(config if isinstance(config, str) else json.dumps(config))
    return directory


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_import_reads_the_seed_format(app, cli, tmp_path):
    directory = write_instance(tmp_path)

    result = cli.invoke(args=["login-methods", "import", str(directory)])

    assert result.exit_code == 0, result.output
    assert "Created login method 'myWeChatMiniLogin'" in result.output
    with app.app_context():
        method = db.session.scalar(select(LoginMethod))
        assert (method.name, method.title, method.app_id, method.allow_register) == (
            "myWeChatMiniLogin",
            "WeChat Mini Program Login",
            "wx1234567890abcdef",
            True,
        )
        element = app.getElement("auths.loginTypes.myWeChatMiniLogin")
        assert element.authConfig == {"appId": "wx1234567890abcdef", "appSecret": "s3cr3t-value-9876"}
        event = db.session.scalar(select(AuditEvent))
        assert event.action == "login_method.import" and event.actor_type == "cli"
        assert "s3cr3t" not in json.dumps(event.details)


def counts(app):
    with app.app_context():
        return [db.session.scalar(select(db.func.count()).select_from(model)) for model in (LoginMethod, AuditEvent)]


@pytest.mark.parametrize(
    "element, config, message",
    [
        ("{not json", None, "e.json is not valid JSON"),
        ("[1, 2]", None, "e.json must hold a JSON object"),
        (
            {"type": "auths.loginTypes.Other", "title": "t", "backendBundleEntry": ".", "frontBundleEntry": "./x.json"},
            None,
            "type must be one of",
        ),
        (
            {
                "type": "auths.loginTypes.WeChatMiniType",
                "backendBundleEntry": ".",
                "frontBundleEntry": "./myWeChatMiniLogin.json",
            },
            None,
            "title is required",
        ),
        (
            {
                "type": "auths.loginTypes.WeChatMiniType",
                "title": "t",
                "allowRegister": 2,
                "backendBundleEntry": ".",
                "frontBundleEntry": "./myWeChatMiniLogin.json",
            },
            None,
            "allowRegister must be 1 or 0",
        ),
        (
            {
                "type": "auths.loginTypes.WeChatMiniType",
                "title": "t",
                "backendBundleEntry": "src",
                "frontBundleEntry": "./myWeChatMiniLogin.json",
            },
            None,
            'backendBundleEntry must be "."',
        ),
        (
            {
                "type": "auths.loginTypes.WeChatMiniType",
                "title": "t",
                "backendBundleEntry": ".",
                "frontBundleEntry": "../../etc/passwd",
            },
            None,
            "points outside",
        ),
        (
            {
                "type": "auths.loginTypes.WeChatMiniType",
                "title": "t",
                "backendBundleEntry": ".",
                "frontBundleEntry": "./missing.json",
            },
            None,
            "./missing.json is missing",
        ),
        (None, "{broken", "is not valid JSON"),
        (None, {"authConfig": {"appSecret": "x"}}, "authConfig.appId must be"),
        (None, {"authConfig": {"appId": "wx1234567890abcdef", "appSecret": ""}}, "authConfig.appSecret is required"),
        (None, {"authConfig": {"appId": "wx1234567890abcdef"}}, "authConfig.appSecret is required"),
        (
            None,
            {"authConfig": {"appId": "z" * 64, "appSecret": "x"}},
            "authConfig.appId must be a mini program's appId",
        ),
        (None, {"other": 1}, "authConfig is required"),
    ],
)
def test_a_bad_directory_exits_non_zero_with_one_line_and_changes_nothing(app, cli, tmp_path, element, config, message):
    directory = write_instance(tmp_path, element=element, config=config)
    before = counts(app)

    result = cli.invoke(args=["login-methods", "import", str(directory)])

    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert counts(app) == before


WECHAT_MINI = "auths.loginTypes.WeChatMiniType"
APP_ID_RULE = (
    "authConfig.appId must be a mini program's appId: wx and 16 characters 0-9 or a-f, e.g. wx1234567890abcdef "
    "(copy it from mp.weixin.qq.com, Development → Development settings)"
)
TYPES_RULE = "e.json: type must be one of {types}, not "  # the Types registered when the file is read


def e_json(**changes) -> dict:
    """A valid e.json with some fields changed (None: left out)."""
    fields = {
        "type": WECHAT_MINI,
        "title": "Shop",
        "allowRegister": 1,
        "backendBundleEntry": ".",
        "frontBundleEntry": "./shopLogin.json",
    }
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not None}


def auth_config(**auth) -> dict:
    return {"authConfig": {"appId": "wx1234567890abcdef", "appSecret": "s3cr3t-value-9876", **auth}}


@pytest.mark.parametrize(
    "element_file, config, message, field",
    [
        (e_json(type=None), auth_config(), TYPES_RULE + "None", None),
        (e_json(type=5), auth_config(), TYPES_RULE + "5", None),
        (e_json(title=None), auth_config(), "e.json: title is required (a text of at most 128 characters)", "title"),
        (
            e_json(title="x" * 129),
            auth_config(),
            "e.json: title is required (a text of at most 128 characters)",
            "title",
        ),
        (e_json(allowRegister=True), auth_config(), "e.json: allowRegister must be 1 or 0, not True", None),
        (e_json(allowRegister="1"), auth_config(), "e.json: allowRegister must be 1 or 0, not '1'", None),
        (e_json(backendBundleEntry=None), auth_config(), 'e.json: backendBundleEntry must be "."', None),
        (
            e_json(frontBundleEntry=""),
            auth_config(),
            "e.json: frontBundleEntry must name the business configuration file",
            None,
        ),
        (
            e_json(),
            {"authConfig": []},
            "./shopLogin.json: authConfig is required (an object with appId and appSecret)",
            None,
        ),
        (
            e_json(),
            auth_config(appId=7),
            APP_ID_RULE,
            "app_id",
        ),
        (
            e_json(),
            auth_config(appId="wx1\n"),
            APP_ID_RULE,
            "app_id",
        ),
        (e_json(), auth_config(appId="your_mini_program_app_id"), APP_ID_RULE, "app_id"),  # the seed's placeholder
        (
            e_json(),
            auth_config(appSecret="  "),
            "./shopLogin.json: authConfig.appSecret is required (the mini program's AppSecret)",
            "app_secret",
        ),
        (
            e_json(),
            auth_config(appSecret="s" * 257),
            "./shopLogin.json: authConfig.appSecret is required (the mini program's AppSecret)",
            "app_secret",
        ),
        (
            e_json(title=None, allowRegister=2),
            auth_config(),
            "e.json: title is required (a text of at most 128 characters)",
            "title",
        ),
        ("[]", auth_config(), "e.json must hold a JSON object", None),
        (e_json(), "null", "./shopLogin.json must hold a JSON object", None),
    ],
)
def test_each_rule_of_the_format_refuses_with_its_sentence_and_field(app, element_file, config, message, field):
    def as_bytes(value) -> bytes:
        return (value if isinstance(value, str) else json.dumps(value)).encode()

    with app.app_context(), pytest.raises(Refused) as refused:
        read_instance_upload("shopLogin", as_bytes(element_file), "shopLogin.json", as_bytes(config))
    assert (refused.value.message, refused.value.field) == (message.format(types=", ".join(sorted(TYPES))), field)
    assert isinstance(refused.value, InstanceDirError)


@pytest.mark.parametrize(
    "element_file, encoding, allow_register",
    [
        (e_json(allowRegister=1.0), "utf-8", True),  # JSON has one kind of number: 1.0 is 1
        (e_json(allowRegister=None), "utf-8", False),  # absent: 0
        (e_json(extra="ignored"), "utf-8", True),
        (e_json(), "utf-8-sig", True),  # a BOM, as Windows editors write it
        (e_json(), "utf-16", True),
    ],
)
def test_the_format_reads_what_json_allows(app, cli, tmp_path, element_file, encoding, allow_register):
    directory = write_instance(tmp_path, name="shopLogin")
    (directory / "e.json").write_bytes(json.dumps({**element_file, "title": "  Shop  "}).encode(encoding))

    result = cli.invoke(args=["login-methods", "import", str(directory)])

    assert result.exit_code == 0, result.output
    with app.app_context():
        method = db.session.scalar(select(LoginMethod))
        assert (method.title, method.allow_register) == ("Shop", allow_register)


def test_a_missing_directory_or_e_json_is_one_line(app, cli, tmp_path):
    assert "is not a directory" in cli.invoke(args=["login-methods", "import", str(tmp_path / "none")]).output
    (tmp_path / "emptyLogin").mkdir()
    result = cli.invoke(args=["login-methods", "import", str(tmp_path / "emptyLogin")])
    assert result.exit_code != 0 and "e.json is missing" in result.output


def test_a_directory_name_that_is_no_instance_name_is_refused(app, cli, tmp_path):
    result = cli.invoke(args=["login-methods", "import", str(write_instance(tmp_path, name="my login"))])
    assert result.exit_code != 0 and "not a valid instance name" in result.output


def test_import_refuses_to_overwrite_without_update_and_overwrites_with_it(app, cli, tmp_path):
    directory = write_instance(tmp_path)
    cli.invoke(args=["login-methods", "import", str(directory)])
    write_instance(
        tmp_path,
        element={
            "type": "auths.loginTypes.WeChatMiniType",
            "title": "Renamed",
            "allowRegister": 0,
            "backendBundleEntry": ".",
            "frontBundleEntry": "./myWeChatMiniLogin.json",
        },
        config={"authConfig": {"appId": "wx1234567890abcdef"}},
    )

    refused = cli.invoke(args=["login-methods", "import", str(directory)])
    updated = cli.invoke(args=["login-methods", "import", str(directory), "--update"])

    assert refused.exit_code != 0 and "--update" in refused.output
    assert updated.exit_code == 0 and "Updated" in updated.output
    with app.app_context():
        method = db.session.scalar(select(LoginMethod))
        assert (method.title, method.allow_register) == ("Renamed", False)
        assert app.getElement("auths.loginTypes.myWeChatMiniLogin").authConfig["appSecret"] == "s3cr3t-value-9876"


def test_an_app_id_of_another_method_is_refused(app, cli, tmp_path):
    cli.invoke(args=["login-methods", "import", str(write_instance(tmp_path, name="firstLogin"))])
    before = counts(app)
    result = cli.invoke(args=["login-methods", "import", str(write_instance(tmp_path, name="secondLogin"))])
    assert result.exit_code != 0 and "already used by login method 'firstLogin'" in result.output
    assert counts(app) == before


def test_export_leaves_the_secret_out_unless_asked_and_round_trips(app, cli, tmp_path):
    cli.invoke(args=["login-methods", "import", str(write_instance(tmp_path / "in"))])

    plain = cli.invoke(
        args=["login-methods", "export", "myWeChatMiniLogin", str(tmp_path / "out" / "myWeChatMiniLogin")]
    )
    secret = cli.invoke(
        args=[
            "login-methods",
            "export",
            "myWeChatMiniLogin",
            str(tmp_path / "full" / "myWeChatMiniLogin"),
            "--include-secret",
        ]
    )

    assert plain.exit_code == 0 and secret.exit_code == 0
    exported = tmp_path / "out" / "myWeChatMiniLogin"
    element = json.loads((exported / "e.json").read_text())
    assert element == {
        "type": "auths.loginTypes.WeChatMiniType",
        "title": "WeChat Mini Program Login",
        "allowRegister": 1,
        "backendBundleEntry": ".",
        "frontBundleEntry": "./myWeChatMiniLogin.json",
    }
    assert json.loads((exported / "myWeChatMiniLogin.json").read_text()) == {
        "authConfig": {"appId": "wx1234567890abcdef"}
    }
    full = json.loads((tmp_path / "full" / "myWeChatMiniLogin" / "myWeChatMiniLogin.json").read_text())
    assert full["authConfig"]["appSecret"] == "s3cr3t-value-9876"
    assert oct((tmp_path / "full" / "myWeChatMiniLogin" / "myWeChatMiniLogin.json").stat().st_mode & 0o777) == "0o600"
    with app.app_context():
        db.session.execute(db.delete(LoginMethod))
        db.session.commit()
    assert cli.invoke(args=["login-methods", "import", str(tmp_path / "full" / "myWeChatMiniLogin")]).exit_code == 0


def test_export_of_an_unknown_method_is_one_line(cli, tmp_path):
    result = cli.invoke(args=["login-methods", "export", "nope", str(tmp_path / "x")])
    assert result.exit_code != 0 and "No login method is called 'nope'" in result.output
    assert not (tmp_path / "x").exists()


def test_list_prints_one_line_per_method_with_its_bindings(app, cli, harness):
    harness.add_method(name="shopLogin")
    blog = harness.add_method(name="blogLogin", allow_register=False)
    harness.add_method(name="aLogin", enabled=False)
    harness.register(harness.add_method(name="zLogin"), "alice")

    lines = cli.invoke(args=["login-methods", "list"]).output.strip().splitlines()

    assert [line.split("\t")[0] for line in lines] == ["aLogin", "blogLogin", "shopLogin", "zLogin"]
    assert lines[1].split("\t")[2:] == [blog.app_id, "allowRegister=0", "enabled=1", "bindings=0"]
    assert lines[0].endswith("enabled=0\tbindings=0") and lines[3].endswith("bindings=1")
    assert "secret" not in "\n".join(lines)


def test_create_admin_reads_the_password_from_stdin(app, cli):
    result = cli.invoke(
        args=["create-admin", "ops", "--role", "support", "--password-stdin"], input="correct horse battery\n"
    )

    assert result.exit_code == 0, result.output
    with app.app_context():
        account = db.session.scalar(select(AdminAccount))
        assert (account.username, account.role) == ("ops", "support")
        assert account.check_password("correct horse battery") and "correct horse" not in account.password_hash


def test_create_admin_prompts_for_the_password_twice(app, cli):
    result = cli.invoke(args=["create-admin", "boss"], input="long enough pw\nlong enough pw\n")
    assert result.exit_code == 0 and "Created admin account 'boss'" in result.output


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["create-admin", "x", "--password-stdin"], "long enough pw\n", "username must be 3 to 64"),
        (["create-admin", "ops", "--password-stdin"], "short\n", "at least 10 characters"),
        (["create-admin", "ops", "--role", "root", "--password-stdin"], "long enough pw\n", "'root' is not one of"),
    ],
)
def test_create_admin_refuses_bad_input(app, cli, args, stdin, message):
    result = cli.invoke(args=args, input=stdin)
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(AdminAccount)) == 0


def test_create_admin_refuses_a_bad_username_before_asking_for_the_password(app, cli):
    result = cli.invoke(args=["create-admin", "x"], input="long enough pw\nlong enough pw\n")
    assert result.exit_code != 0 and "Password" not in result.output
    assert result.output.strip() == "Error: A username must be 3 to 64 letters, digits or . _ @ -"


def test_create_admin_refuses_a_taken_username(app, cli):
    cli.invoke(args=["create-admin", "ops", "--password-stdin"], input="long enough pw\n")
    result = cli.invoke(args=["create-admin", "ops", "--password-stdin"], input="another long pw\n")
    assert result.exit_code != 0 and "already exists" in result.output


def test_issue_ticket_prints_a_ticket_that_binds_once(app, cli, harness):
    shop, blog = harness.add_method(name="shopLogin"), harness.add_method(name="blogLogin")
    user_id = harness.register(shop, "alice")["user"]["userId"]

    result = cli.invoke(args=["issue-ticket", str(user_id), "blogLogin"])

    assert result.exit_code == 0
    ticket = result.output.strip()
    bound = harness.post(f"/wechat-mini/{blog.name}/bind", {"code": harness.code(blog, "alice"), "ticket": ticket})
    assert bound.status_code == 200 and bound.json["userId"] == user_id


@pytest.mark.parametrize(
    "args, message",
    [
        (["issue-ticket", "999", "shopLogin"], "No user has the id 999"),
        (["issue-ticket", "1", "nope"], "No login method is called 'nope'"),
    ],
)
def test_issue_ticket_refuses_unknown_users_and_methods(app, cli, harness, args, message):
    harness.add_method(name="shopLogin")
    result = cli.invoke(args=args)
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(User)) == 0


def test_demo_setup_creates_the_demo_once_and_prints_the_password_once(environ, tmp_path):
    from console import create_app
    from console.wechat.simulator.state import SimulatorState

    state = tmp_path / "simulator.json"
    app = create_app(
        {"TESTING": True, "WECHAT_SIMULATOR_STATE": str(state)}, environ={**environ, "WECHAT_SIMULATOR": "1"}
    )
    with app.app_context():
        db.create_all()
    cli = app.test_cli_runner()

    first = cli.invoke(args=["demo-setup"])
    second = cli.invoke(args=["demo-setup"])

    assert first.exit_code == 0 and second.exit_code == 0
    password = first.output.split("admin / ")[1].split()[0]
    assert password not in second.output and "shown on the first run" in second.output
    with app.app_context():
        admin = db.session.scalar(select(AdminAccount))
        assert admin.role == "admin" and admin.check_password(password)
        method = app.getElement("auths.loginTypes.demoWeChatMini")
        assert method.allowRegister == 1
        assert SimulatorState(str(state)).check_app(method.authConfig["appId"], method.authConfig["appSecret"]) is None
        assert db.session.scalar(select(db.func.count()).select_from(LoginMethod)) == 1


def lock_out(app, username, address="203.0.113.9"):
    """A lock on `username` for `address`, as ten failures from there leave it."""
    with app.app_context():
        now = utcnow()
        for n in range(10):
            locks = n == 9
            db.session.add(
                SignInFailure(
                    username=username,
                    address=address,
                    failed_at=now,
                    locked_until=now + timedelta(minutes=15) if locks else None,
                )
            )
        db.session.commit()


def sign_in_failures(app) -> int:
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(SignInFailure))


def test_unlock_lifts_the_locks_and_is_audited(app, cli, make_account):
    make_account("ops")
    lock_out(app, "ops")

    result = cli.invoke(args=["unlock", "ops"])

    assert result.exit_code == 0, result.output
    assert result.output == "Unlocked 'ops': 10 failed sign-in(s) forgotten.\n"
    assert sign_in_failures(app) == 0
    with app.app_context():
        assert not locked_for_address("ops", "203.0.113.9")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.unlock"))
        assert event.actor_type == "cli" and event.details == {"username": "ops", "failures": 10}


def test_reset_password_sets_it_ends_the_sessions_lifts_the_locks_and_is_audited(app, cli, make_account):
    make_account("ops")
    with app.app_context():
        sign_in("ops", "correct horse battery", "192.0.2.1")
    lock_out(app, "ops")

    result = cli.invoke(args=["reset-password", "ops", "--password-stdin"], input="a brand new password\n")

    assert result.exit_code == 0, result.output
    assert "Set a new password for 'ops'" in result.output
    assert sign_in_failures(app) == 0
    with app.app_context():
        account = db.session.scalar(select(AdminAccount))
        assert account.check_password("a brand new password") and not account.check_password("correct horse battery")
        assert db.session.scalar(select(ConsoleSession.revoked_at)) is not None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.password_reset"))
        assert event.actor_type == "cli" and event.details == {"username": "ops"}


def test_reset_password_prompts_for_the_password_twice(app, cli, make_account):
    make_account("ops")
    result = cli.invoke(args=["reset-password", "ops"], input="a brand new password\na brand new password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(AdminAccount)).check_password("a brand new password")


@pytest.mark.parametrize("command", [["unlock", "nobody"], ["reset-password", "nobody"]])
def test_recovery_of_an_unknown_account_is_one_line_before_any_prompt(app, cli, make_account, command):
    make_account("ops")
    lock_out(app, "ops")

    result = cli.invoke(args=command, input="a brand new password\na brand new password\n")

    assert result.exit_code == 1
    assert result.output == "Error: No console account is called 'nobody'.\n"
    assert sign_in_failures(app) == 10
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == 0


def test_reset_password_refuses_a_short_password_and_changes_nothing(app, cli, make_account):
    make_account("ops")
    lock_out(app, "ops")

    result = cli.invoke(args=["reset-password", "ops", "--password-stdin"], input="short\n")

    assert result.exit_code == 1 and "at least 10 characters" in result.output
    assert sign_in_failures(app) == 10
    with app.app_context():
        assert db.session.scalar(select(AdminAccount)).check_password("correct horse battery")


def test_purge_prints_what_it_deleted_per_kind_and_keeps_the_rest(app, cli, harness):
    method = harness.add_method()
    harness.token(method, "alice")  # a live token; its used codes are dead
    harness.token(method, "bob")
    with app.app_context():
        tokens = db.session.scalars(select(AccessToken).order_by(AccessToken.id)).all()
        tokens[0].revoked_at = utcnow()
        live_token = tokens[1].id
        db.session.add(SignInFailure(username="ops", address="192.0.2.1", failed_at=utcnow() - timedelta(hours=2)))
        db.session.add(LoginEvent(call="login", outcome="code_used", created_at=utcnow() - timedelta(days=31)))
        db.session.commit()

    result = cli.invoke(args=["purge", "--batch-size", "1"])
    again = cli.invoke(args=["purge"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "one-time codes: 4 deleted",  # each user's bindCode and loginCode, both used
        "access tokens: 1 deleted",
        "console sessions: 0 deleted",
        "sign-in failures: 1 deleted",
        "login events: 1 deleted",  # the 31-day-old one; the six calls above are kept
    ]
    assert again.exit_code == 0 and set(line.split(": ")[1] for line in again.output.splitlines()) == {"0 deleted"}
    with app.app_context():
        assert db.session.scalars(select(AccessToken.id)).all() == [live_token]


@pytest.mark.parametrize("size", ["0", "10001", "many"])
def test_purge_refuses_a_bad_batch_size(cli, size):
    result = cli.invoke(args=["purge", "--batch-size", size])
    assert result.exit_code == 2 and "--batch-size" in result.output
