"""Login throughput and latency, console against the bare baseline; the full sign-up flow; workers' memory.

Both contenders run under gunicorn with the console's production settings and the same workers x threads,
on their own fresh database seeded with the same users, against one WeChat stand-in, driven by wrk.
"""

from __future__ import annotations

import os
import time

import redis
from tabulate import tabulate

from bench import data, servers
from bench.baseline.schema import seed as seed_baseline
from bench.databases import REDIS_URL, console_app, console_environ, fresh_database
from bench.standin import openid_for

CONNECTIONS = (1, 8, 50)
FLOW_CONNECTIONS = 8
USERS = int(os.environ.get("BENCH_USERS", "10000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP_SECONDS = 3
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
LOGIN_PATH = f"/api/v1/wechat-mini/{data.METHOD_NAME}/login"


def prepare_console(kind: str, wechat_url: str, users: int = USERS) -> dict[str, str]:
    """A fresh console database with the benchmark's login method and `users` bound users; its environment."""
    environ = console_environ(fresh_database(kind, "bench_login_console"), wechat_url)
    app = console_app(environ)
    with app.app_context():
        data.create_login_method()
        data.fill(users, progress=False)
    redis.Redis.from_url(REDIS_URL).flushdb()  # no wx.login() code of an earlier run counts as used
    return {**environ, "RATELIMIT_ENABLED": "false"}


def prepare_baseline(kind: str, wechat_url: str) -> dict[str, str]:
    """A fresh baseline database bound to the same USERS openids; its environment."""
    url = fresh_database(kind, "bench_login_baseline")
    seed_baseline(url, [openid_for(f"u{i}") for i in range(1, USERS + 1)])
    return {"DATABASE_URL": url, "WECHAT_API_BASE": wechat_url, "WECHAT_TIMEOUT": "5"}


def measure(standin, url: str, connections: int, *args, script: str = "login.lua", **options):
    """One wrk run, with the stand-in's share of a CPU core meanwhile and the machine's load after it."""
    before = servers.cpu_seconds(standin.process.pid)
    result = servers.wrk(url, script, connections, SECONDS, *args, **options)
    return result, (servers.cpu_seconds(standin.process.pid) - before) / result.seconds, os.getloadavg()[0]


def run(kind: str) -> str:
    """Run the login benchmarks on one kind of database; return the printed report."""
    tag = f"{int(time.time())}"
    with servers.standin() as standin:
        console_env = prepare_console(kind, standin.url)
        baseline_env = prepare_baseline(kind, standin.url)
        with (
            servers.gunicorn(
                f"console-{kind}", "wsgi:app", "gunicorn.conf.py", WORKERS, THREADS, console_env
            ) as console,
            servers.gunicorn(
                f"baseline-{kind}",
                "bench.baseline.app:app",
                "bench/baseline/gunicorn.conf.py",
                WORKERS,
                THREADS,
                baseline_env,
            ) as baseline,
        ):
            contenders = {
                "console": (console, console.url + LOGIN_PATH),
                "baseline": (baseline, baseline.url + "/login"),
            }
            for _, url in contenders.values():
                servers.wrk(url, "login.lua", 8, WARMUP_SECONDS, USERS, f"w{tag}")
            rows = []
            for connections in CONNECTIONS:
                got = {
                    name: measure(standin, url, connections, USERS, f"{tag}c{connections}")
                    for name, (_, url) in contenders.items()
                }
                rows.append(_login_row(connections, got["console"], got["baseline"]))
            memory = [
                [name, *(f"{servers.rss_mib(pid):.0f}" for pid in server.workers())]
                for name, (server, _) in contenders.items()
            ]
            flow = measure(
                standin,
                console.url,
                FLOW_CONNECTIONS,
                data.METHOD_NAME,
                tag,
                script="flow.lua",
                threads=FLOW_CONNECTIONS,
            )
    return _report(kind, rows, memory, *flow)


def _login_row(connections: int, console, baseline) -> list:
    (ours, our_cpu, our_load), (bare, bare_cpu, bare_load) = console, baseline
    return [
        connections,
        f"{ours.per_second:.0f}",
        f"{ours.p50_ms:.1f}",
        f"{ours.p99_ms:.1f}",
        ours.non2xx + ours.socket_errors,
        f"{bare.per_second:.0f}",
        f"{bare.p50_ms:.1f}",
        f"{bare.p99_ms:.1f}",
        bare.non2xx + bare.socket_errors,
        f"{ours.per_second / bare.per_second:.2f}",
        f"{ours.p99_ms - bare.p99_ms:+.1f}",
        f"{our_cpu:.0%} / {bare_cpu:.0%}",
        f"{our_load:.1f} / {bare_load:.1f}",
    ]


def _report(kind: str, rows: list, memory: list, flow, flow_cpu: float, flow_load: float) -> str:
    settings = f"{WORKERS} workers x {THREADS} threads, {USERS:,} registered users, {SECONDS:g} s per run"
    login = tabulate(
        rows,
        headers=[
            "connections",
            "console logins/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "baseline logins/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "console/baseline",
            "p99 console-baseline ms",
            "stand-in CPU",
            "load after",
        ],
        tablefmt="github",
    )
    workers = tabulate(
        memory,
        headers=["after the login runs", *(f"worker {n} RSS MiB" for n in range(1, WORKERS + 1))],
        tablefmt="github",
    )
    full = tabulate(
        [
            [
                FLOW_CONNECTIONS,
                f"{flow.flows / flow.seconds:.0f}",
                f"{flow.per_second:.0f}",
                f"{flow.p50_ms:.1f}",
                f"{flow.p99_ms:.1f}",
                flow.non2xx + flow.socket_errors,
                f"{flow_cpu:.0%}",
                f"{flow_load:.1f}",
            ]
        ],
        headers=[
            "connections",
            "new users/s",
            "requests/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "stand-in CPU",
            "load after",
        ],
        tablefmt="github",
    )
    return (
        f"### Login on {kind} ({settings})\n\n{login}\n\n### Workers' memory on {kind}\n\n{workers}\n\n"
        f"### Full flow on {kind}: login -> register -> token -> me per new user ({SECONDS:g} s)\n\n{full}\n"
    )
