"""Load one segment of a backup into the target table, handing throttled writes back to the workflow."""

from trapheus.handler import step_handler
from trapheus.tables.steps import load_step

handler = step_handler(load_step, with_context=True)
