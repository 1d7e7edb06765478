"""Create, configure, replace and recover tables: the steps of a restore that change a table."""

from trapheus.handler import step_handler
from trapheus.tables.steps import restore_step

handler = step_handler(restore_step)
