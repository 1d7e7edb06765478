"""The DR account's copies: find what trusted accounts shared, copy it under this account's key, prune, report."""

from trapheus.backups.dr import dr_step
from trapheus.handler import step_handler

handler = step_handler(dr_step)
