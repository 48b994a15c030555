"""The processes of a benchmark: the WeChat stand-in and gunicorn servers, their CPU time and memory, and wrk."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.databases import RESULTS, ROOT

BIN = Path(sys.executable).parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nobody listens on at the moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}; see {RESULTS}/*.log")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@dataclass
class Server:
    """A running process and the port it serves."""

    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The pids of the process's children (gunicorn's workers)."""
        pid = self.process.pid
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@contextmanager
def serving(name: str, args: list[str], port: int, environ: dict[str, str] | None = None):
    """Run `args` from the project's root (output to bench/results/<name>.log) until the block ends."""
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / f"{name}.log", "w") as log:
        process = subprocess.Popen(
            args, cwd=ROOT, env={**os.environ, **(environ or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_for_port(port, process)
            yield Server(process, port)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def standin():
    """The WeChat stand-in on a free port."""
    port = free_port()
    return serving("standin", [sys.executable, "-m", "bench.standin", str(port)], port)


def gunicorn(name: str, app: str, config: str, workers: int, threads: int, environ: dict[str, str]):
    """`app` under gunicorn with the settings file `config`, `workers` x `threads`, on a free port."""
    port = free_port()
    args = [
        str(BIN / "gunicorn"),
        "-c",
        config,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        app,
    ]
    return serving(name, args, port, environ)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    """A process's resident memory (VmRSS) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for {pid}")


@dataclass
class WrkResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    flows: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def wrk(url: str, script: str, connections: int, seconds: float, *args, threads: int | None = None) -> WrkResult:
    """Run wrk with bench/wrk/<script> against `url`; the script's done() prints the JSON figures."""
    threads = threads or min(connections, 2)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_DIR / script),
        url,
        "--",
        *map(str, args),
    ]
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, "BENCH_WRK_DIR": str(WRK_DIR)}
    ).stdout
    return WrkResult(**json.loads(output.strip().splitlines()[-1]))
