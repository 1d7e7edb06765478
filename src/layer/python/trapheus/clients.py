"""Lazily built boto3 clients.

Clients are created on first use (never at import time) so that tests can start
moto before any client exists, and functions can pass their own client instead.
The endpoint honours ``AWS_ENDPOINT_URL`` (botocore's own setting), which is how
the local emulator is reached.

A client is made for one region (the function's own unless told) and for the credentials in the
environment when it was made: a Lambda function has one set for its lifetime, but the local engine
serves functions of several accounts from one process, each under its own role's credentials.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode already backs off on throttling; the workflow adds its own
# retries on top for throttling that outlasts these.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, user_agent_extra="trapheus")


def client(service: str, region: str | None = None) -> Any:
    """Return a cached client for ``service`` in ``region`` (default: the current region)."""
    return _cached(service, region, os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_REGION"))


@functools.lru_cache(maxsize=None)
def _cached(service: str, region: str | None, access_key: str | None, home_region: str | None) -> Any:
    return boto3.session.Session().client(service, region_name=region, config=_CONFIG)


def assumed(role_arn: str, session_name: str, region: str | None = None) -> boto3.session.Session:
    """A session in the account of ``role_arn`` (a role another stack offers this one), in ``region``."""
    credentials = client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def client_in(service: str, region: str) -> Any:
    """A cached client for ``service`` in another region (copies of backups to a second region)."""
    return client(service, region)


def reset() -> None:
    """Forget cached clients (tests call this when a new mock starts)."""
    _cached.cache_clear()
