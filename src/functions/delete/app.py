"""Retire the renamed original (final snapshot, backups kept) or discard a partial restore."""

from trapheus.handler import step_handler
from trapheus.steps import delete

handler = step_handler(delete)
