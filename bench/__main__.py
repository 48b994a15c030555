"""`python -m bench [login|scale|all] [--db sqlite|postgresql]`: run the benchmarks and print their tables."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time

from bench import login, scale
from bench.databases import KINDS


def main() -> None:
    """Run the chosen benchmarks on the chosen databases; print one report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("part", nargs="?", choices=("login", "scale", "all"), default="all")
    parser.add_argument("--db", choices=KINDS, action="append", help="a database (repeat for both; default both)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)  # the report, not the migrations' INFO lines
    started = time.perf_counter()
    print(
        f"## Benchmarks: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the start\n",
        flush=True,
    )
    for kind in args.db or KINDS:
        if args.part in ("login", "all"):
            print(login.run(kind), flush=True)
        if args.part in ("scale", "all"):
            print(scale.run(kind), flush=True)
    print(f"Done in {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} at the end.")


if __name__ == "__main__":
    main()
