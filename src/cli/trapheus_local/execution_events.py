"""EventBridge delivery of Step Functions status changes, which moto does not emulate.

In AWS, Step Functions sends a "Step Functions Execution Status Change" event to the
default event bus whenever an execution's status changes, and EventBridge starts the
targets of every rule whose pattern matches. moto does neither: its executions emit no
events and its rules cannot target a state machine. :func:`deliver` plays both parts for
one execution - it builds the event as Step Functions sends it
(https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html), matches it with
moto's own pattern matcher against the rules the template deployed
(:meth:`trapheus_local.resources.StackDeployer.events_rule`), applies each target's input
transformer as EventBridge does (a string value at a bare placeholder is quoted;
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html)
and starts the target state machine.

The engine does not watch executions end, so a test that stops one calls :func:`deliver`.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from jsonpath_ng.ext import parse as jsonpath

from trapheus_local.resources import ACCOUNT_ID

DETAIL_TYPE = "Step Functions Execution Status Change"
_PLACEHOLDER = re.compile(r'("?)<([A-Za-z0-9_.-]+)>("?)')


def _millis(moment: Any) -> int | None:
    return int(moment.timestamp() * 1000) if isinstance(moment, datetime) else None


def status_change_event(sfn: Any, execution_arn: str, region: str) -> dict[str, Any]:
    described = sfn.describe_execution(executionArn=execution_arn)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.states",
        "account": ACCOUNT_ID,
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [execution_arn],
        "detail": {
            "executionArn": execution_arn,
            "stateMachineArn": described["stateMachineArn"],
            "name": described["name"],
            "status": described["status"],
            "startDate": _millis(described.get("startDate")),
            "stopDate": _millis(described.get("stopDate")),
            "input": described.get("input"),
            "output": described.get("output"),
        },
    }


def transform(template: str | None, paths: dict[str, str], event: dict[str, Any]) -> str:
    """The target input EventBridge builds from ``event`` with an input transformer."""
    if template is None:
        return json.dumps(event)
    values = {name: next((m.value for m in jsonpath(path).find(event)), None) for name, path in paths.items()}

    def fill(match: re.Match[str]) -> str:
        opening, name, closing = match.groups()
        if name not in values:
            return match.group(0)
        value = values[name]
        if opening and closing:  # inside a JSON string: the bare text
            return opening + (value if isinstance(value, str) else json.dumps(value)) + closing
        return opening + json.dumps(value) + closing

    return _PLACEHOLDER.sub(fill, template)


def deliver(emulator: Any, execution_arn: str) -> list[str]:
    """Send the execution's status change to every matching rule; returns the executions its targets started."""
    from moto.events.models import events_backends

    sfn = emulator.client("stepfunctions")
    event = status_change_event(sfn, execution_arn, emulator.region)
    started = []
    default_bus = events_backends[ACCOUNT_ID][emulator.region].event_buses["default"]
    for rule in list(default_bus.rules.values()):
        if rule.state != "ENABLED" or not rule.event_pattern.get_pattern() or not rule.event_pattern.matches_event(event):
            continue
        for target in rule.targets:
            if ":states:" not in target["Arn"] or ":stateMachine:" not in target["Arn"]:
                continue
            transformer = target.get("InputTransformer") or {}
            payload = transform(transformer.get("InputTemplate"), transformer.get("InputPathsMap") or {}, event) \
                if transformer else json.dumps(event)  # fmt: skip
            started.append(sfn.start_execution(stateMachineArn=target["Arn"], input=payload)["executionArn"])
    return started
