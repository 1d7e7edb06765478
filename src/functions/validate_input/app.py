"""Validate the request, check the database and snapshot, capture the configuration (read only)."""

from trapheus.handler import step_handler
from trapheus.steps import validate_input

handler = step_handler(validate_input)
