"""One boto3 session and its clients, built once per command from --profile/--region/--endpoint-url.

Real AWS and any emulated endpoint go through exactly this code; only the options differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="trapheus-cli")


@dataclass(frozen=True)
class Target:
    """Where the commands talk to: a profile and region of a real account, or an endpoint."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None


@dataclass
class Aws:
    target: Target = field(default_factory=Target)

    @cached_property
    def session(self) -> boto3.session.Session:
        return boto3.session.Session(profile_name=self.target.profile, region_name=self.target.region)

    @cached_property
    def stepfunctions(self) -> Any:
        return self._client("stepfunctions")

    @cached_property
    def cloudformation(self) -> Any:
        return self._client("cloudformation")

    def client(self, service: str) -> Any:
        """Any other service's client, at the same endpoint."""
        return self._client(service)

    def _client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.target.endpoint_url, config=_CONFIG)
