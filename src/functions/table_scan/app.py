"""Scan one segment of a table into backup files, or checksum it to verify a restore."""

from trapheus.handler import step_handler
from trapheus.tables.steps import scan_step

handler = step_handler(scan_step, with_context=True)
