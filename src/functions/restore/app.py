"""Restore the snapshot as the original's twin, apply the remaining configuration, verify the twin."""

from trapheus.handler import step_handler
from trapheus.steps import restore_step

handler = step_handler(restore_step)
