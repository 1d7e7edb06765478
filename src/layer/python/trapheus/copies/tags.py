"""The tags that make a database a copy of a lifecycle, and its stage.

Route 53 records cannot be tagged: the DNS name a lifecycle owns is marked by a TXT record at ``_trapheus.<name>``,
just below its CNAME (:mod:`trapheus.copies.dns`), whose value is :func:`ownership_marker`.
"""

from __future__ import annotations

from enum import Enum

PREFIX = "trapheus:"
LIFECYCLE = "trapheus:lifecycle"
SOURCE = "trapheus:source"
STAGE = "trapheus:stage"
CREATED = "trapheus:created"
SECRET = "trapheus:secret"  # the ARN of the secret holding a rotated master password (the secret, never the password)
DNS = "trapheus:dns"  # on a promoted copy: the <zone>/<name> keys that point at it, comma separated


class Stage(str, Enum):
    NEW = "new"  # made (restored or cloned) and configured
    MODIFIED = "modified"  # the modify stage ran on it
    PROMOTED = "promoted"  # the lifecycle's DNS name points at it
    RETIRED = "retired"  # replaced by a newer promoted copy; deleted by the retire stage


def ownership_marker(lifecycle: str) -> str:
    """The TXT value (quoted, as Route 53 takes TXT values) that marks a DNS name as the lifecycle's."""
    return f'"trapheus:lifecycle={lifecycle}"'
