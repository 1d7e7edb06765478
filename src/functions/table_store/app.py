"""Write a backup's manifest, copy it to another bucket, apply retention, or discard an incomplete backup."""

from trapheus.handler import step_handler
from trapheus.tables.steps import store_step

handler = step_handler(store_step, with_context=True)
