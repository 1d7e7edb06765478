"""Describe one RDS resource by identifier, where "not found" is an answer, not an error."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from trapheus.errors import ThrottlingError
from trapheus.throttling import error_code, is_throttling


def describe_one(client: Any, operation: str, arguments: dict[str, Any], list_key: str, not_found: frozenset[str]) -> dict | None:
    """The single item ``operation`` returns for ``arguments``, or None when RDS says it does not exist."""
    try:
        response = getattr(client, operation)(**arguments)
    except ClientError as error:
        if error_code(error) in not_found:
            return None
        if is_throttling(error):
            raise ThrottlingError(f"{operation} {arguments}: {error}") from error
        raise
    items = response[list_key]
    return items[0] if items else None
