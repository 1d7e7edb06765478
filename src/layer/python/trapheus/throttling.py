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
        "PriorRequestNotComplete",  # Route 53: the zone's previous change request is still being processed
    }
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_throttling(error: ClientError) -> bool:
    return error_code(error) in THROTTLING_CODES


class CallOutcome:
    """Set by :func:`aws_errors`: ``already`` is True when the call answered that its work was done before."""

    already = False


@contextlib.contextmanager
def aws_errors(error_class: type[TrapheusError], what: str, *, already_done: frozenset[str] = frozenset()) -> Iterator[CallOutcome]:
    """Re-raise a ClientError as ``error_class`` (or ThrottlingError), naming ``what`` failed.

    Error codes in ``already_done`` (a create answering "already exists") mean an earlier attempt did the
    work: RDS is eventually consistent, so a describe just before the call may not have seen it yet.
    """
    outcome = CallOutcome()
    try:
        yield outcome
    except ClientError as error:
        if error_code(error) in already_done:
            outcome.already = True
            return
        message = f"{what}: {error_code(error)}: {error.response.get('Error', {}).get('Message', error)}"
        if is_throttling(error):
            raise ThrottlingError(message) from error
        raise error_class(message) from error
