"""The copy workflow's own steps: survey, make and converge the copy, password, stages, DNS, retirement, report."""

from trapheus.copies.steps import run
from trapheus.handler import step_handler

handler = step_handler(run)
