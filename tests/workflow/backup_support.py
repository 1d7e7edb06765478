"""What the backup and DR workflow tests share: databases, keys, runs that wait for their child executions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from trapheus_cli.reports import report_of
from trapheus_local import Emulator
from trapheus_local.engine import Deployment, ExecutionResult
from trapheus_local.resources import ACCOUNT_ID

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
DR_TEMPLATE = REPO / "dr" / "template.yaml"
DR_ACCOUNT = "222233334444"
WEST = "us-west-2"
PASSWORD = "not-a-secret-1"
PARENT, CHILD = "BackupStateMachine", "BackupDatabaseStateMachine"


def key_policy(owner: str, *, lets_in: str | None = None) -> str:
    statements = [{"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner}:root"},
                   "Action": "kms:*", "Resource": "*"}]
    if lets_in:
        statements.append({"Sid": "DrCopies", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{lets_in}:root"},
                           "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def customer_key(emulator: Emulator, *, account_id: str = ACCOUNT_ID, region: str | None = None, lets_in: str | None = None) -> str:
    kms = emulator.client("kms", account_id=account_id, region=region)
    return str(kms.create_key(Policy=key_policy(account_id, lets_in=lets_in))["KeyMetadata"]["Arn"])


def instance(emulator: Emulator, identifier: str, **settings: Any) -> str:
    """A small settled PostgreSQL instance (it existed before the run)."""
    with emulator.settled():
        emulator.client("rds").create_db_instance(
            DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine="postgres", EngineVersion="16.3",
            MasterUsername="trapheus", MasterUserPassword=PASSWORD, AllocatedStorage=20, **settings,
        )
    return identifier


def cluster(emulator: Emulator, identifier: str, *, members: int = 1, **settings: Any) -> str:
    """A settled Aurora PostgreSQL cluster with its members (``<identifier>-<n>``, tagged like it)."""
    rds = emulator.client("rds")
    with emulator.settled():
        rds.create_db_cluster(DBClusterIdentifier=identifier, Engine="aurora-postgresql", MasterUsername="trapheus",
                              MasterUserPassword=PASSWORD, **settings)
        for number in range(1, members + 1):
            rds.create_db_instance(DBInstanceIdentifier=f"{identifier}-{number}", DBClusterIdentifier=identifier,
                                   Engine="aurora-postgresql", DBInstanceClass="db.r6g.large", Tags=settings.get("Tags", []))
    return identifier


def policy(name: str, pattern: str | None = None, **fields: Any) -> dict[str, Any]:
    select = fields.pop("select", None) or {"pattern": pattern}
    return {"policy": name, "select": select, "everyMinutes": 60, "keep": {"count": 24, "days": 1}, **fields}


@dataclass
class BackupRun:
    """A backup run and the child execution of each of its databases."""

    result: ExecutionResult
    children: list[ExecutionResult] = field(default_factory=list)
    report: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        return self.result.status

    def item(self, identifier: str) -> dict[str, Any]:
        assert self.report is not None, f"the run has no report ({self.result.error}: {self.result.cause})"
        found = [item for item in self.report["items"] if item.get("identifier") == identifier]
        assert found, f"no item for {identifier} in {[i.get('identifier') for i in self.report['items']]}"
        return found[0]

    def child(self, identifier: str) -> ExecutionResult:
        for child in self.children:
            started = json.loads(child.events[0]["executionStartedEventDetails"]["input"])
            if started["database"]["identifier"] == identifier:
                return child
        raise AssertionError(f"no child execution for {identifier}")


def run_backup(stack: Deployment, execution_input: Any, *, machine: str = PARENT) -> BackupRun:
    """Run the workflow; wait for (and so record) each child execution it started; read its report."""
    result = stack.run(machine, execution_input, real_timeout=180)
    sfn = stack.client("stepfunctions")
    children = []
    if machine == PARENT and CHILD in stack.resources:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn(CHILD)):
            for execution in page["executions"]:
                started = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
                if started.get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID") == result.arn:
                    children.append(stack.wait(execution["executionArn"]))
    _, report = report_of(sfn, result.arn)
    return BackupRun(result, children, report)


def snapshots_of(emulator: Emulator, identifier: str, *, is_cluster: bool = False, account_id: str = ACCOUNT_ID,
                 region: str | None = None) -> list[dict[str, Any]]:
    rds = emulator.client("rds", account_id=account_id, region=region)
    if is_cluster:
        return rds.describe_db_cluster_snapshots(DBClusterIdentifier=identifier, SnapshotType="manual")["DBClusterSnapshots"]
    return rds.describe_db_snapshots(DBInstanceIdentifier=identifier, SnapshotType="manual")["DBSnapshots"]


def tags_of(description: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in description.get("TagList") or []}


def old_policy_snapshot(emulator: Emulator, identifier: str, name: str, policy_name: str, age: timedelta,
                        *, is_cluster: bool = False) -> str:
    """A snapshot an earlier run of ``policy_name`` took ``age`` ago (settled, tagged as the workflow tags)."""
    rds = emulator.client("rds")
    taken = (datetime.now(timezone.utc) - age).replace(second=0, microsecond=0)
    tags = [{"Key": "trapheus:policy", "Value": policy_name}, {"Key": "trapheus:source", "Value": identifier},
            {"Key": "trapheus:created", "Value": taken.isoformat()}]
    with emulator.settled():
        if is_cluster:
            rds.create_db_cluster_snapshot(DBClusterIdentifier=identifier, DBClusterSnapshotIdentifier=name, Tags=tags)
        else:
            rds.create_db_snapshot(DBInstanceIdentifier=identifier, DBSnapshotIdentifier=name, Tags=tags)
    return name


def lock_item(emulator: Emulator, stack: Deployment, key: str) -> dict[str, Any] | None:
    table = stack.physical_id("LockTable")
    return emulator.client("dynamodb").get_item(TableName=table, Key={"lockId": {"S": key}}).get("Item")
