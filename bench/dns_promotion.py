"""Client downtime of a refresh promoted by DNS (the copy workflow's ``promote`` stage), as a model.

The copy workflow does not rename anything: it restores the new copy beside the one in service under its own
identifier, and promotes it by an UPSERT of the lifecycle's CNAME (and its ownership TXT record) in Route 53.
ChangeResourceRecordSets answers ``PENDING``; the workflow polls GetChange with its Wait loop until the change is
``INSYNC`` (every Route 53 authoritative server answers the new target), and only then counts the promotion done.
A resolver that cached the old answer keeps handing it out for up to the record's TTL, so clients switch over
during the TTL that follows; the old copy stays up, and keeps answering them, until the retire stage deletes it.

Nothing is unreachable in that window, but a client may be talking to either copy, and one that writes into the
old copy writes into a database about to be retired. The model counts that switching window as downtime, the
figure a client sees while it switches, and bounds it as:

    downtime = TTL + one poll interval

the poll interval being the time the workflow takes to see the change ``INSYNC`` (its first GetChange, one Wait
after the UPSERT), and the TTL the time until every cached answer has expired after that. Route 53 says changes
"generally propagate to all Route 53 name servers within 60 seconds"
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-editing.html): a change slower
than one poll adds one more poll per interval it takes, so the model is the common case, not a worst case.

It assumes the retire stage deletes the old copy no earlier than a TTL after ``INSYNC`` (the spec's
``retireAfterMinutes``); a shorter delay would turn the cached answers into connection failures for the rest of
the TTL. It ignores resolvers and clients that hold answers beyond the TTL (some JVMs cache forever unless told
otherwise).

The figure does not grow with the database: the restore, configuration and verification all happen on the new
copy while the old one serves. A swap pays two RDS renames instead (each about 10 minutes before the new
name answers, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html); an in-place
restore pays the rename and the whole restore.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_TTL_SECONDS = 60.0  # the copy workflow's default record TTL (its input's dns.ttl)
COPY_WORKFLOW = Path(__file__).resolve().parents[1] / "statemachine" / "copy.asl.json"


def workflow_dns_poll_seconds(definition: Path = COPY_WORKFLOW) -> float:
    """The Wait between two GetChange calls, as the copy workflow has it (its own short poll, not PollIntervalSeconds)."""
    return float(json.loads(definition.read_text())["States"]["Wait for the DNS change"]["Seconds"])


DEFAULT_POLL_SECONDS = workflow_dns_poll_seconds()


@dataclass(frozen=True)
class DnsPromotion:
    """One promotion by a CNAME change: the record's TTL and the workflow's poll interval, in seconds."""

    ttl_seconds: float = DEFAULT_TTL_SECONDS
    poll_seconds: float = DEFAULT_POLL_SECONDS

    def __post_init__(self) -> None:
        if self.ttl_seconds < 0 or self.poll_seconds <= 0:
            raise ValueError("a TTL is at least 0 seconds and a poll interval more than 0")

    @property
    def downtime_seconds(self) -> float:
        """The switching window a client sees: the TTL plus one poll of the wait for ``INSYNC``."""
        return self.ttl_seconds + self.poll_seconds

    def with_ttl(self, seconds: float) -> DnsPromotion:
        return replace(self, ttl_seconds=seconds)

    def ratio_to(self, downtime_seconds: float) -> float:
        """This promotion's downtime as a fraction of another strategy's."""
        return self.downtime_seconds / downtime_seconds
