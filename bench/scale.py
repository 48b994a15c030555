"""The console at scale: a million users, then the user list and search timed as SQL and, once the
console's pages exist (bench/pages.toml), over HTTP."""

from __future__ import annotations

import functools
import os
import re
import secrets
import statistics
import time
import tomllib
from pathlib import Path

import requests
from tabulate import tabulate

from bench import data, search, servers
from bench.databases import console_app, console_environ, fresh_database
from bench.login import THREADS, WORKERS
from console.extensions import db
from console.models import ROLE_ADMIN, AdminAccount

USERS = int(os.environ.get("BENCH_SCALE_USERS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
SECONDS_PER_QUERY = 5  # fewer repeats (at least 5) for a query slower than that in all
PAGES = tomllib.loads((Path(__file__).with_name("pages.toml")).read_text())
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def probes() -> dict[str, str]:
    """Values to search for: a generated user with a phone and a unionid, a common and a rare name."""
    index = USERS // 2
    while not ((found := data.sample(index)).phone and found.unionid):
        index += 1
    return {
        "name": found.name.split()[0],
        "rare": found.name.split()[1],
        "phone": found.phone,
        "phone_prefix": found.phone[:7],
        "openid": found.openid,
        "openid_prefix": found.openid[:12],
        "unionid": found.unionid,
        "user_id": str(found.user_id),
    }


def timed(call) -> tuple[float, float, object]:
    """Median and p95 in ms of repeated calls (REPEAT, or fewer for slow ones), and the last result."""
    call()  # warm up the caches and the statement cache
    times = []
    while len(times) < REPEAT and (len(times) < 5 or sum(times) < SECONDS_PER_QUERY * 1000):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[-1], result


def queries(values: dict[str, str], **options) -> list[tuple[str, object]]:
    """(name, call) of what each console page runs."""
    page = functools.partial(search.search_users, **options)
    return [
        ("users list (newest first)", lambda: page()),
        ("users list sorted by name", lambda: page(sort="name", descending=False)),
        ("users list, page 400", lambda: page(page=400)),
        (f"search by name, common ({values['name']})", lambda: page(values["name"])),
        (f"search by name, rare ({values['rare']})", lambda: page(values["rare"])),
        (
            f"search by two terms ({values['name']} {values['rare']})",
            lambda: page(f"{values['name']} {values['rare']}"),
        ),
        ("search by name, no match (zzqx)", lambda: page("zzqx")),
        ("search by phone", lambda: page(values["phone"])),
        ("search by phone prefix (7 digits)", lambda: page(values["phone_prefix"])),
        ("search by openId", lambda: page(values["openid"])),
        ("search by openId prefix (12)", lambda: page(values["openid_prefix"])),
        ("search by unionId", lambda: page(values["unionid"])),
        ("search by user id", lambda: page(values["user_id"])),
        ("a user's page", lambda: search.user_page(int(values["user_id"]))),
    ]


def _found(result) -> str:
    if isinstance(result, dict):
        return "1"
    return f"more than {result.total:,}" if result.capped else f"{result.total:,}"


def time_pages(environ: dict[str, str], values: dict[str, str]) -> str:
    """Time the console's pages over HTTP under gunicorn, or say why they were skipped."""
    password = secrets.token_urlsafe(16)
    with servers.gunicorn("console-scale", "wsgi:app", "gunicorn.conf.py", WORKERS, THREADS, environ) as console:
        browser = requests.Session()
        first = console.url + PAGES["page"][0]["path"]
        if browser.get(first, allow_redirects=False).status_code == 404:
            return f"Skipped: GET {PAGES['page'][0]['path']} answers 404."
        form = browser.get(console.url + PAGES["sign_in"])
        token = CSRF.search(form.text)
        if form.status_code != 200 or token is None:
            return f"Skipped: no sign-in form at {PAGES['sign_in']} (HTTP {form.status_code})."
        _create_admin(environ, "bench-admin", password)
        # The session cookie is Secure outside the demo and this client speaks plain HTTP on loopback, where
        # a cookie jar holds Secure cookies back: carry it by hand.
        signed_in = browser.post(
            console.url + PAGES["sign_in"],
            allow_redirects=False,
            data={"username": "bench-admin", "password": password, "csrf_token": token.group(1)},
            headers={"Cookie": f"session={form.cookies['session']}"},
        )
        browser.headers["Cookie"] = f"session={signed_in.cookies['session']}"
        rows = []
        for page in PAGES["page"]:
            url = console.url + page["path"].format(**values)
            status = browser.get(url, allow_redirects=False).status_code
            if status != 200:
                rows.append([page["name"], f"skipped: HTTP {status}", ""])
                continue
            median, p95, _ = timed(lambda url=url: browser.get(url).raise_for_status())
            rows.append([page["name"], f"{median:.1f}", f"{p95:.1f}"])
    return tabulate(rows, headers=["page (HTTP, signed in)", "median ms", "p95 ms"], tablefmt="github")


def _create_admin(environ: dict[str, str], username: str, password: str) -> None:
    with console_app(environ).app_context():
        account = AdminAccount(username=username, role=ROLE_ADMIN)
        account.set_password(password)
        db.session.add(account)
        db.session.commit()


def run(kind: str) -> str:
    """Fill a fresh database with USERS users, then time the console's user pages; return the report."""
    environ = console_environ(fresh_database(kind, "bench_scale"), "http://127.0.0.1:9")  # WeChat is not called
    app = console_app(environ)
    with app.app_context():
        data.create_login_method()
        started = time.perf_counter()
        data.fill(USERS)
        filled = time.perf_counter() - started
        values = probes()
        sql = _time_queries(queries(values))
    return (
        f"### Console at scale on {kind}: {USERS:,} users and bindings, generated in {filled:.0f} s\n\n{sql}\n\n"
        f"{time_pages(environ, values)}\n"
    )


def _time_queries(named_calls, title: str = "query (SQL of console/services/users.py)") -> str:
    rows = []
    for name, call in named_calls:
        median, p95, result = timed(call)
        rows.append([name, f"{median:.1f}", f"{p95:.1f}", _found(result)])
        db.session.rollback()
    return tabulate(rows, headers=[title, "median ms", "p95 ms", "users found"], tablefmt="github")
