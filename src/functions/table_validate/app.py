"""Check a table backup, restore or clean-up request and capture what it needs (read only)."""

from trapheus.handler import step_handler
from trapheus.tables.steps import validate

handler = step_handler(validate)
