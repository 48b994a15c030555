"""The WeChat Mini Program login console: a JSON API for mini programs and a console for people."""

from __future__ import annotations

import os

from flask import Flask

from console import database  # noqa: F401  (SQLite's pragmas and write transactions)
from console.config import load_config
from console.extensions import bootstrap, csrf, db, limiter, login_manager, migrate

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


class ConsoleApp(Flask):
    """Flask with the seed's element lookup: `app.getElement("auths.loginTypes.<name>")`."""

    def getElement(self, fullName: str):
        """The login method's Type instance (inside an application context)."""
        from console.seed.registry import get_element

        return get_element(fullName)


def create_app(config: dict | None = None, environ=None) -> ConsoleApp:
    """Build the app from the environment (or `environ`), then apply `config` overrides."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = ConsoleApp(
        __name__,
        instance_path=os.path.join(root, "instance"),
        template_folder=os.path.join(root, "templates"),
        static_folder=os.path.join(root, "static"),
    )
    if environ is None:
        environ = _command_line_environ(app.instance_path)
    app.config.update(load_config(app.instance_path, environ))
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider has it: answers keep the contract's order
    if config:
        app.config.update(config)
    register_logging(app)
    register_dependency_policy(app)
    register_edge(app)
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_cli(app)
    return app


def _command_line_environ(instance_path: str):
    """os.environ; for a `flask --app wsgi ...` command in the demo's checkout with nothing set, the demo's."""
    import click

    from console.config import demo_checkout_environ

    if click.get_current_context(silent=True) is None:  # not the flask command: gunicorn, a script, the tests
        return os.environ
    demo = demo_checkout_environ(instance_path, os.environ)
    if demo is None:
        return os.environ
    click.echo("(the demo's configuration, as under make run: instance/ holds its keys and database)", err=True)
    return demo


def register_logging(app: ConsoleApp) -> None:
    """Mask secrets in library log lines; log one structured line per request."""
    from console.logs import init_app_logging, init_request_log, install_redaction

    install_redaction()
    init_app_logging(app.config["LOG_LEVEL"])
    init_request_log(app)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_COUNT"]  # trust exactly this many proxies' X-Forwarded-* headers
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to add middleware
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )


def register_dependency_policy(app: ConsoleApp) -> None:
    """What the app does when the database or Redis is down, in the settings of the libraries that meet them
    (docs/dependencies.md): errors without bound values, bounded waits, rate limits that survive Redis."""
    from sqlalchemy.engine import make_url

    from console.cache import REDIS_OPTIONS

    engine = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # Errors and their log lines show the SQL but never its bound values (names, phone numbers).
    engine.setdefault("hide_parameters", True)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        # A server that does not answer (a host gone, a dropped packet) fails the request in seconds, with a 503,
        # instead of holding a worker until gunicorn kills it.
        engine["connect_args"] = {"connect_timeout": 5, **(engine.get("connect_args") or {})}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine

    # Rate limits are a guard, not a service: while their storage is down they are counted in this process's memory
    # (Flask-Limiter's fallback, back to the storage once it answers), so sign-in and the API keep working. Errors
    # are swallowed too, for the calls already talking to the storage at the moment it dies.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).split(":", 1)[0] in ("redis", "rediss", "redis+unix"):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", dict(REDIS_OPTIONS))


def register_edge(app: ConsoleApp) -> None:
    """Bound the `int` URL converter (before any rule exists) and refuse unusable input (console/edge.py)."""
    from console.edge import init_edge

    init_edge(app)


def register_extensions(app: ConsoleApp) -> None:
    """Bind the extensions, the key ring, the shared cache and the WeChat client to the app."""
    from console import models  # noqa: F401  (registers the tables)
    from console.cache import REDIS_OPTIONS, init_cache
    from console.i18n import init_i18n
    from console.security.keyring import KeyRing
    from console.seed import wechat_mini  # noqa: F401  (registers the official Type)
    from console.wechat.client import init_wechat_client

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    bootstrap.init_app(app)
    init_i18n(app)
    app.extensions["keyring"] = KeyRing(app.config["ENCRYPTION_KEYS"])
    init_cache(app)
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).split(":", 1)[0] in ("redis", "rediss"):
        import redis

        # /readyz names the rate limits' storage; Flask-Limiter's own is one object for every app of a process
        app.extensions["ratelimit_redis"] = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"], **REDIS_OPTIONS)
    init_wechat_client(app)


def register_blueprints(app: ConsoleApp) -> None:
    """Mount the JSON API, the console, and the WeChat simulator when it is switched on."""
    from console.admin import bp as admin_bp
    from console.api import bp as api_bp
    from console.auth import bp as auth_bp
    from console.web import bp as web_bp

    csrf.exempt(api_bp)  # bearer tokens, not cookies: no CSRF to defend against
    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    if app.config["WECHAT_SIMULATOR"]:
        from console.wechat.simulator import BLUEPRINTS, init_simulator
        from console.wechat.simulator.in_process import serve_in_process

        for simulator_bp in BLUEPRINTS:
            csrf.exempt(simulator_bp)
            limiter.exempt(simulator_bp)
        init_simulator(app, control=app.config["CONSOLE_DEMO"])  # minting codes over HTTP: the demo only
        if app.config["WECHAT_SIMULATOR_IN_PROCESS"]:
            serve_in_process(app)


def register_errors(app: ConsoleApp) -> None:
    """JSON errors under /api/, pages elsewhere."""
    from console.errors import register_error_handlers

    register_error_handlers(app)


def register_cli(app: ConsoleApp) -> None:
    """The `flask --app wsgi ...` commands."""
    from console.cli import register_commands

    register_commands(app)
