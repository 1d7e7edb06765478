"""The stack's SNS alert topic as a subscriber sees it: an SQS queue subscribed with raw delivery."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from trapheus_local import Emulator
from trapheus_local.engine import Deployment


def alert_topic_reader(emulator: Emulator, stack: Deployment) -> Callable[[], list[dict[str, Any]]]:
    """A function returning the alerts published since it was last called (each a JSON document)."""
    sqs, sns = emulator.client("sqs"), emulator.client("sns")
    queue = sqs.create_queue(QueueName=f"alert-subscriber-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = stack.physical_id("AlertTopic")

    def subscribed() -> bool:
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        return any(s["Endpoint"] == queue_arn for s in subscriptions)

    def read() -> list[dict[str, Any]]:
        if not subscribed():  # (again, after a test removed the topic)
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"]) for message in messages]

    read()
    return read
