"""Profile the console's login path in one process: `python -m bench.profile [sqlite|postgresql] [LOGINS]`.

The login endpoint is called through Flask's test client against the WeChat stand-in: first unprofiled,
to print the CPU time one login costs this process (steadier than wall time on a shared machine), then
under pyinstrument, whose call tree goes to stdout.
"""

from __future__ import annotations

import statistics
import sys
import time

from pyinstrument import Profiler

from bench import servers
from bench.databases import console_app
from bench.login import LOGIN_PATH, prepare_console

USERS = 2000
ROUNDS = 5


def main(kind: str = "sqlite", logins: int = 1000) -> None:
    """Log `logins` registered users in ROUNDS times, then once more under the profiler."""
    with servers.standin() as standin:
        app = console_app(prepare_console(kind, standin.url, users=USERS))
        client = app.test_client()
        sent = iter(range(10**9))

        def log_in(count: int) -> None:
            for n in range(count):
                code = f"u{n % USERS + 1}-{time.time()}.{next(sent)}"
                answer = client.post(LOGIN_PATH, json={"code": code})
                assert answer.status_code == 200, answer.get_data(as_text=True)

        log_in(200)  # warm up: connections, caches, compiled statements
        cpu = []
        for _ in range(ROUNDS):
            started = time.process_time()
            log_in(logins)
            cpu.append((time.process_time() - started) / logins * 1000)
        profiler = Profiler(interval=0.0005)
        with profiler:
            log_in(logins)
    print(
        f"{kind}: CPU per login {statistics.median(cpu):.2f} ms (median of {ROUNDS} rounds of {logins}: "
        + ", ".join(f"{value:.2f}" for value in cpu)
        + ")"
    )
    print(profiler.output_text(unicode=True, color=False))


if __name__ == "__main__":
    main(*sys.argv[1:2], *map(int, sys.argv[2:3]))
