"""Lazily built boto3 clients.

Clients are created on first use (never at import time) so that tests can start
moto before any client exists, and functions can pass their own client instead.
The endpoint honours ``AWS_ENDPOINT_URL`` (botocore's own setting), which is how
the local emulator is reached.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode already backs off on throttling; the workflow adds its own
# retries on top for throttling that outlasts these.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, user_agent_extra="trapheus")


@functools.lru_cache(maxsize=None)
def client(service: str) -> Any:
    """Return a cached client for ``service`` in the current region."""
    return boto3.session.Session().client(service, config=_CONFIG)


@functools.lru_cache(maxsize=None)
def client_in(service: str, region: str) -> Any:
    """A cached client for ``service`` in another region (copies of backups to a second region)."""
    return boto3.session.Session().client(service, region_name=region, config=_CONFIG)


def reset() -> None:
    """Forget cached clients (tests call this when a new mock starts)."""
    client.cache_clear()
    client_in.cache_clear()
