"""What the point-in-time and recovery workflow tests share: the stack they deploy, the alerts they read, the
user's verify functions they serve, and times relative to now."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from moto.ses.models import ses_backends
from support.rds_fixtures import STACK_PARAMETERS, make_cluster, make_instance
from support.slack import SlackListener

from trapheus import databases
from trapheus.configuration import twin_differences
from trapheus.kinds import DatabaseKind, kind_for
from trapheus_local import Emulator
from trapheus_local.engine import Deployment
from trapheus_local.resources import ACCOUNT_ID

REAL_TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
VERIFY_FUNCTION = Path(__file__).resolve().parents[1] / "workflow" / "fixtures" / "functions" / "verify"
SENDER = "trapheus@example.com"
RECIPIENT = "dba@example.com"
MAX_ATTEMPTS = 6
# Under the strict RDS model every operation takes its modelled time: a 15-minute poll follows each in a few looks.
POLL_SECONDS = 900


def ago(**delta: float) -> str:
    """An ISO-8601 time (with its zone) that far before now; a negative delta is in the future."""
    return (datetime.now(timezone.utc) - timedelta(**delta)).isoformat()


@dataclass(frozen=True)
class VerifyFunctions:
    passes: str  # ARN of a verify function that passes a copy RDS shows available where it was told
    fails: str  # ARN of one that fails every copy
    unlisted: str  # ARN of one the stack may not invoke


def serve_verify_functions(emulator: Emulator) -> VerifyFunctions:
    """The user's own verify functions, served in-process (the stack lists the first two in VerifyFunctionArns)."""
    return VerifyFunctions(
        passes=emulator.serve_function("smoke-query-passes", VERIFY_FUNCTION),
        fails=emulator.serve_function("smoke-query-fails", VERIFY_FUNCTION, environment={"VERDICT": "fail"}),
        unlisted=emulator.serve_function("someone-elses-function", VERIFY_FUNCTION),
    )


def deploy(emulator: Emulator, slack: SlackListener, slack_path: str, verify: VerifyFunctions, **parameters: Any) -> Deployment:
    deployment = emulator.deploy(
        REAL_TEMPLATE,
        {
            "LogLevel": "WARNING",
            "MaxPollAttempts": MAX_ATTEMPTS,
            "PollIntervalSeconds": POLL_SECONDS,
            "SenderEmail": SENDER,
            "RecipientEmails": RECIPIENT,
            "SlackWebhookUrls": slack.url(slack_path),
            "VerifyFunctionArns": f"{verify.passes},{verify.fails}",
            **STACK_PARAMETERS,
            **parameters,
        },
    )
    emulator.client("ses").verify_email_identity(EmailAddress=SENDER)
    return deployment


@dataclass
class Alerts:
    """The alerts sent since the test started."""

    emulator: Emulator
    slack: SlackListener
    slack_path: str
    emails_before: int

    def emails(self) -> list[Any]:
        return list(ses_backends[ACCOUNT_ID][self.emulator.region].sent_messages)[self.emails_before :]

    def slack_messages(self) -> list[Any]:
        return self.slack.bodies(self.slack_path)

    def none(self) -> bool:
        return not self.emails() and not self.slack_messages()

    def name(self, text: str) -> bool:
        """An email and a Slack message both say ``text``."""
        emails = any(text in f"{message.subject} {message.body}" for message in self.emails())
        return emails and any(text in str(body) for body in self.slack_messages())


def clean_start(emulator: Emulator, slack: SlackListener, slack_path: str) -> Iterator[Alerts]:
    """No faults, no recorded calls, no alerts yet (the body of each module's ``alerts`` fixture)."""
    emulator.latency.clear()
    emulator.rds_calls.clear()
    emulator.runtime.invocations.clear()
    slack.clear()
    yield Alerts(emulator, slack, slack_path, len(ses_backends[ACCOUNT_ID][emulator.region].sent_messages))
    emulator.latency.clear()


def database_ids(emulator: Emulator) -> set[str]:
    rds = emulator.client("rds")
    instances = {d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]}
    clusters = {d["DBClusterIdentifier"] for d in rds.describe_db_clusters()["DBClusters"]}
    return instances | clusters


def snapshot_ids(emulator: Emulator) -> set[str]:
    rds = emulator.client("rds")
    instance = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    cluster = {s["DBClusterSnapshotIdentifier"] for s in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]}
    return instance | cluster


class DatabaseUnderTest:
    """A database made for one test (an instance, or a cluster of two members) and its configuration before the run."""

    def __init__(self, emulator: Emulator, is_cluster: bool, **settings: Any) -> None:
        self.emulator, self.is_cluster = emulator, is_cluster
        self.identifier = f"{'ledger' if is_cluster else 'orders'}-{uuid.uuid4().hex[:6]}"
        with emulator.settled():
            if is_cluster:
                make_cluster(self.rds, emulator.client("ec2"), self.identifier, members=2, **settings)
            else:
                make_instance(self.rds, emulator.client("ec2"), self.identifier, **settings)
        emulator.settle()
        self.before = self.capture()

    @property
    def rds(self) -> Any:
        return self.emulator.client("rds")

    @property
    def kind(self) -> DatabaseKind:
        return kind_for(self.is_cluster)

    @property
    def entry(self) -> dict:
        return {"identifier": self.identifier, "isCluster": self.is_cluster}

    def capture(self) -> dict:
        return databases.capture(self.kind, self.identifier, self.rds)

    def request(self, restore_time: str, **extra: Any) -> dict:
        return {**self.entry, "task": "point_in_time_restore", "restoreTime": restore_time, **extra}

    def restored(self) -> bool:
        """A twin of the original holds the identifier, and nothing of this database's is parked or staged."""
        now = self.capture()
        return now["resourceId"] != self.before["resourceId"] and twin_differences(self.before, now) == [] and not self.leftovers()

    def left_alone(self) -> bool:
        """The original itself serves its identifier, unchanged, and nothing of this database's is parked or staged."""
        return self.capture() == self.before and not self.leftovers()

    def leftovers(self) -> list[str]:
        return [i for i in database_ids(self.emulator) if i.startswith(f"{self.identifier}-trapheus-")]
