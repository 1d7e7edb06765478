"""Make moto's Step Functions interpreter fast enough to run whole workflows in tests.

- The interpreter parses every JSONPath (``InputPath``, ``ResultPath``, ``$.x``
parameters, Choice variables) each time a state runs, and jsonpath-ng builds a
new LALR parser for every parse (~40 ms). Parsed paths are immutable, so they
  are cached per path text; results are unchanged.
- Every boto3 session (moto resets the default one; handlers and the interpreter
  make clients often) loads and parses the service model JSON again (~80 ms per
  service). Sessions share one data loader per data path instead.
- A task that waits for a nested execution (``states:startExecution.sync``) looks at
  it every half second of real time; here every few milliseconds (the nested run
  keeps the simulated clock, so nothing it reports changes).
"""

from __future__ import annotations

import contextlib
import functools
import time as _time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import botocore.loaders
import botocore.session
import jsonpath_ng
import jsonpath_ng.ext
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
from moto.stepfunctions.parser.asl.utils import json_path


@functools.lru_cache(maxsize=4096)
def _parse(path: str) -> Any:
    return jsonpath_ng.parse(path)


@functools.lru_cache(maxsize=4096)
def _parse_extended(path: str) -> Any:
    return jsonpath_ng.ext.parse(path)


@functools.lru_cache(maxsize=8)
def _shared_loader(search_path_string: str | None = None) -> Any:
    return botocore.loaders.create_loader(search_path_string)


class _QuickPolls:
    """Stands in for ``time`` in the interpreter's nested-execution poll: a short real pause instead of half a second."""

    @staticmethod
    def sleep(seconds: float) -> None:
        _time.sleep(min(seconds, NESTED_POLL_SECONDS))

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)


NESTED_POLL_SECONDS = 0.005


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Cache JSONPath parsing and service models, and poll nested executions quickly, for the duration of the block."""
    with (
        mock.patch.object(json_path, "parse", _parse_extended),
        mock.patch.object(result_path, "parse", _parse),
        mock.patch.object(botocore.session, "create_loader", _shared_loader),
        mock.patch.object(state_task_service_callback, "time", _QuickPolls()),
    ):
        yield
