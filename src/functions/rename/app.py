"""Rename the original database (and cluster members) aside, or back during a rollback."""

from trapheus.handler import step_handler
from trapheus.steps import rename

handler = step_handler(rename)
