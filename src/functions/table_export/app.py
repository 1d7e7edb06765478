"""Start DynamoDB's own export of a table, and index its files once it is complete."""

from trapheus.handler import step_handler
from trapheus.tables.steps import export_step

handler = step_handler(export_step, with_context=True)
