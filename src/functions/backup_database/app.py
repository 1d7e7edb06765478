"""One database of a backup run: decide, snapshot, re-encrypt, share, copy to other Regions, prune, report."""

from trapheus.backups.run import database_step
from trapheus.handler import step_handler

handler = step_handler(database_step)
