"""How long a contributor waits: the whole test suite (`make test`) and `trapheus demo`, wall clock.

Installs first (`make dev`, not timed; a no-op when .venv/ and node_modules/ are current), then
times `make test` once and `trapheus demo` (from .venv/) several times, and prints each run.
The last line is machine-readable:

    suite_seconds=<make test> demo_seconds=<median of the demo runs>

The goal on the 2-core development machine: suite_seconds <= 180 and demo_seconds <= 6. Other
work on the machine slows both; measure on an idle one. Exits 1 when the suite or the demo fails.

Usage: ``python bench/dev_loop.py [--demo-runs 3] [--no-suite] [--no-demo]`` (from any interpreter).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAPHEUS = ROOT / ".venv" / "bin" / "trapheus"
SUITE_GOAL_SECONDS = 180
DEMO_GOAL_SECONDS = 6


def timed(command: list[str], *, quiet: bool) -> tuple[float, int]:
    """Run ``command`` in the repository; its wall-clock seconds and exit code."""
    started = time.perf_counter()
    ran = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL if quiet else None, check=False)
    return time.perf_counter() - started, ran.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo-runs", type=int, default=3, help="how many times to time the demo (the median counts)")
    parser.add_argument("--no-suite", action="store_true", help="skip timing the suite")
    parser.add_argument("--no-demo", action="store_true", help="skip timing the demo")
    args = parser.parse_args(argv)

    installed = subprocess.run(["make", "--no-print-directory", "dev"], cwd=ROOT, check=False)
    if installed.returncode != 0:
        print("make dev failed: nothing measured", file=sys.stderr)
        return 1
    failures = []
    suite_seconds = demo_seconds = float("nan")
    if not args.no_suite:
        suite_seconds, status = timed(["make", "--no-print-directory", "test"], quiet=False)
        print(f"make test: {suite_seconds:.1f}s (goal <= {SUITE_GOAL_SECONDS}s), exit {status}")
        if status != 0:
            failures.append("make test")
    if not args.no_demo:
        runs = []
        for number in range(1, args.demo_runs + 1):
            seconds, status = timed([str(TRAPHEUS), "demo"], quiet=True)
            runs.append(seconds)
            print(f"trapheus demo, run {number}: {seconds:.2f}s, exit {status}")
            if status != 0:
                failures.append(f"trapheus demo (run {number})")
        demo_seconds = statistics.median(runs)
        print(f"trapheus demo: median {demo_seconds:.2f}s of {len(runs)} (goal <= {DEMO_GOAL_SECONDS}s)")
    if failures:
        print(f"failed: {', '.join(failures)}")
    print(f"suite_seconds={suite_seconds:.1f} demo_seconds={demo_seconds:.2f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
