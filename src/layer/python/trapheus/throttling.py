"""Translate AWS client errors into trapheus error classes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from botocore.exceptions import ClientError

from trapheus.errors import ThrottlingError, TrapheusError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_throttling(error: ClientError) -> bool:
    return error_code(error) in THROTTLING_CODES


@contextlib.contextmanager
def aws_errors(error_class: type[TrapheusError], what: str) -> Iterator[None]:
    """Re-raise a ClientError as ``error_class`` (or ThrottlingError), naming ``what`` failed."""
    try:
        yield
    except ClientError as error:
        message = f"{what}: {error_code(error)}: {error.response.get('Error', {}).get('Message', error)}"
        if is_throttling(error):
            raise ThrottlingError(message) from error
        raise error_class(message) from error
