"""The demo's wiring, in one place: what `make run` sets up (an admin, a corp and a login method served by
the WeChat simulator) and the console's simulator page's link to the in-process simulator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from console.database import transaction
from console.extensions import db
from console.models import ROLE_ADMIN, AdminAccount, Corp, LoginMethod
from console.security.keyring import keyring
from console.services import gateway
from console.services.audit import record
from console.services.login_methods import set_app_secret
from console.wechat.simulator.state import SimulatorState

DEMO_METHOD = "demoWeChatMini"
DEMO_ADMIN = "admin"
DEMO_CORP = "demo"
# Every simulated app shares one Open Platform account, so unionId linking can be tried across them.
DEMO_OPEN_PLATFORM = "demo-open-platform"


@dataclass
class DemoSetup:
    """What ensure_demo created; the admin password is only known the first time."""

    admin_password: str | None
    method: LoginMethod | None  # None when an admin deleted the demo login method


def ensure_demo(simulator_state_path: str) -> DemoSetup:
    """Create the demo admin and login method if the database has no admin yet; register the app with the simulator."""
    password = None
    with transaction():
        if db.session.scalar(select(AdminAccount.id).limit(1)) is None:
            password = secrets.token_urlsafe(12)
            admin = AdminAccount(username=DEMO_ADMIN, role=ROLE_ADMIN)
            admin.set_password(password)
            db.session.add(admin)
            record("admin.create", username=DEMO_ADMIN, role=ROLE_ADMIN)
            if db.session.scalar(select(LoginMethod).where(LoginMethod.name == DEMO_METHOD)) is None:
                _create_demo_method()
    method = db.session.scalar(select(LoginMethod).where(LoginMethod.name == DEMO_METHOD))
    if method is not None:
        SimulatorState(simulator_state_path, keyring()).register_app(
            method.app_id, gateway.app_secret(method), open_platform=DEMO_OPEN_PLATFORM
        )
    return DemoSetup(password, method)


def _create_demo_method() -> LoginMethod:
    corp = db.session.scalar(select(Corp).where(Corp.slug == DEMO_CORP))
    if corp is None:
        corp = Corp(slug=DEMO_CORP, name="Demo Corp")
        db.session.add(corp)
        db.session.flush()
    method = LoginMethod(
        name=DEMO_METHOD,
        title="Demo mini program (simulated WeChat)",
        app_id="wx" + secrets.token_hex(8),
        allow_register=True,
        default_corp_id=corp.id,
    )
    set_app_secret(method, secrets.token_hex(16))
    db.session.add(method)
    db.session.flush()
    record("login_method.create", method=method, appId=method.app_id)
    return method


def simulated_app_ids() -> set[str]:
    """The appIds the in-process WeChat simulator knows."""
    return set(_mounted_simulator().apps)


def register_with_simulator(method: LoginMethod) -> None:
    """Teach the in-process WeChat simulator this login method's appId and appSecret (demo and tests only)."""
    _mounted_simulator().register_app(method.app_id, gateway.app_secret(method), open_platform=DEMO_OPEN_PLATFORM)
    with transaction():
        record("login_method.simulate", method=method, appId=method.app_id)


def _mounted_simulator() -> SimulatorState:
    return current_app.extensions["wechat_simulator"]
