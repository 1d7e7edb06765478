"""Write a run's report and tally a recovery between its phases (no AWS calls)."""

from trapheus.handler import step_handler
from trapheus.steps import report

handler = step_handler(report)
