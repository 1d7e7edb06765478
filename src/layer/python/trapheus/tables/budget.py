"""How much work one Lambda invocation takes on before it hands its cursor back to the workflow.

A scan or load works until its time is nearly used (the function's remaining time minus a
reserve for writing what it has), then returns where it stopped; the workflow invokes it
again from there. An optional item limit (``TableItemsPerInvocation``) caps the work too:
smaller steps show progress sooner and redo less after a failure.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

RESERVE_SECONDS = 45.0  # writing the last part file and the ledger, with room to spare
DEFAULT_SECONDS = 840.0  # no Lambda context (tests calling a step directly): a 15-minute function


@dataclass
class Budget:
    deadline: float  # time.monotonic() value after which no new page or batch starts
    max_items: int | None = None
    items: int = 0

    @classmethod
    def for_invocation(cls, context: Any = None, max_items: int | None = None) -> Budget:
        remaining = DEFAULT_SECONDS
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            remaining = context.get_remaining_time_in_millis() / 1000.0 - RESERVE_SECONDS
        if max_items is None:
            configured = os.environ.get("TABLE_ITEMS_PER_INVOCATION", "").strip()
            max_items = int(configured) if configured.isdigit() and int(configured) > 0 else None
        return cls(time.monotonic() + max(remaining, 1.0), max_items)

    def spend(self, items: int) -> None:
        self.items += items

    @property
    def left(self) -> int | None:
        """Items this invocation may still take on (None: only time limits it)."""
        return None if self.max_items is None else max(self.max_items - self.items, 0)

    @property
    def exhausted(self) -> bool:
        return time.monotonic() >= self.deadline or (self.max_items is not None and self.items >= self.max_items)
