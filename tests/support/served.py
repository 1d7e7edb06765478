"""`trapheus local serve` as a user starts it: a subprocess on 127.0.0.1 whose output is read line by line."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import boto3

READY = re.compile(r"^trapheus local endpoint ready on (http://127\.0\.0\.1:\d+)$")
STOPPED = re.compile(r"^trapheus local endpoint stopped$")
STARTUP_LIMIT_SECONDS = 120  # guards against a hang only


class Server:
    """A running server process; ``wait_for`` reads its output until a line matches."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str]) -> re.Match[str]:
        seen = []
        while True:
            line = self.lines.get(timeout=STARTUP_LIMIT_SECONDS)
            if line is None:
                raise AssertionError("the server exited before printing the expected line:\n" + "\n".join(seen))
            seen.append(line)
            if match := pattern.match(line):
                return match


@contextmanager
def served(command: Sequence[str], *, env: dict[str, str], cwd: Path | None = None) -> Iterator[tuple[Server, str]]:
    """Start the server, wait until it is ready, yield it with its endpoint; kill it if it is still running."""
    process = subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd
    )
    running = Server(process)
    try:
        yield running, running.wait_for(READY).group(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def client(service: str, endpoint: str):
    """A plain boto3 client of the served endpoint."""
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
