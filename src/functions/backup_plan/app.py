"""Plan a backup run (check the policy, select the databases) and summarise it (report, recovery points)."""

from trapheus.backups.run import run_step
from trapheus.handler import step_handler

handler = step_handler(run_step)
