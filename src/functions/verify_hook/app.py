"""Invoke the user's verify function on the copy about to take over; a failure rolls the run back."""

from trapheus.handler import step_handler
from trapheus.steps import verify_hook

handler = step_handler(verify_hook)
