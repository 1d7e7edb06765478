"""Take, replace, copy or remove the snapshot of an instance or cluster."""

from trapheus.handler import step_handler
from trapheus.steps import snapshot

handler = step_handler(snapshot)
