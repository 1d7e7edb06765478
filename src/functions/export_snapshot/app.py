"""Start the export of the refreshed snapshot to the stack's S3 bucket."""

from trapheus.handler import step_handler
from trapheus.steps import export_snapshot

handler = step_handler(export_snapshot)
