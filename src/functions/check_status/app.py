"""One describe call judged by waiter acceptors: done, waiting or failed."""

from trapheus.handler import step_handler
from trapheus.steps import check_status

handler = step_handler(check_status)
