"""A client wrapper that fails chosen operations, for error-path tests."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class FailingClient:
    """Delegates to a real (moto) client, but ``operation`` raises ``code`` instead."""

    def __init__(self, client: Any, operation: str, code: str = "Throttling", message: str = "Rate exceeded"):
        self._client = client
        self._operation = operation
        self._code = code
        self._message = message
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        if name != self._operation:
            return getattr(self._client, name)

        def fail(**kwargs: Any) -> Any:
            self.calls += 1
            raise ClientError({"Error": {"Code": self._code, "Message": self._message}}, name)

        return fail
