"""One describe call judged by waiter acceptors: is the table, backup or export there yet?"""

from trapheus.handler import step_handler
from trapheus.tables.steps import check

handler = step_handler(check)
