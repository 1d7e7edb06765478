"""Make moto fast enough to run whole workflows, many times over, in one process.

Each change keeps results the same; it only stops work being redone:

- moto parses an ASL definition when a state machine is created and again for
  every execution (~1.5 s each for statemachine/restore.asl.json). The parse tree
  and the program built from it are immutable (an execution keeps its state in its
  own environment, validation only reads the tree), so each definition text is
  parsed once per process.
- The interpreter parses every JSONPath (``InputPath``, ``ResultPath``, ``$.x``
  parameters, Choice variables) each time a state runs, and jsonpath-ng builds a
  new LALR parser for every parse (~40 ms). Parsed paths are immutable too, so
  they are cached per path text.
- Every botocore session (moto makes several at import and resets the default one;
  handlers and the interpreter make clients often) loads and parses the service
  models and endpoints again (~0.15 s for EC2's alone). From the moment
  trapheus_local is imported (:func:`share_service_models`, before moto builds its
  first sessions), every session reads them through one loader per data path.
- The interpreter builds a new boto3 client for every Task it runs (~10 ms each).
  Clients are thread-safe and these are configured the same every time, so one
  per service, region and endpoint serves the whole block.
- moto fills every new EC2 backend with ~2,000 sample machine images (~0.15 s per
  account and region). trapheus never launches an EC2 instance, so none are
  loaded unless ``MOTO_EC2_LOAD_DEFAULT_AMIS`` or ``MOTO_AMIS_PATH`` says otherwise.
- Creating a state machine validates its definition by parsing it whole (~0.6 s for
  a large workflow), for each of the six workflows of a deployment. A definition
  text once found valid with this moto version is remembered on disk
  (``~/.cache/trapheus/valid-asl``) and not parsed again at creation; a run parses
  the definition it executes anyway, and a definition never seen is checked as
  before.
- A state that waits for a child execution (``startExecution.sync``) looks at it
  every half second of real time; a few milliseconds do, since the child runs
  in-process and its waiting is on the virtual clock.
- Every error answer (a ``DBInstanceNotFound`` that a lookup expects, say) made moto
  build the service's whole error table again (it makes a new, empty cache each
  time): the tables are kept per service, as moto's own cache meant to.
- Every request listed the response class's methods with ``inspect.getmembers``
  to see whether the action is one; the list is kept per class (and made again
  when a class gains or loses an attribute).
- For each member of each structure an answer holds (about 130 per DB instance
  described), moto worked out anew which attribute of its Python object holds the
  value, trying six kinds of alias. A sixth of a workflow test's time went there.
  The attribute names to try are kept per member shape, name, kind of object and
  parent shape: the same answer, worked out once.
- The interpreter runs every state on a thread of its own and waits for it; a
  thread that wants the interpreter lock waits up to the switch interval (5 ms)
  for a running one to let go. Inside the block the interval is 0.5 ms: a tenth
  less time for the restore tests, and nothing computed differently.
- A run makes hundreds of thousands of long-lived objects (service models, parsed
  definitions, moto's backends). Python's collector walked them over and over (a
  fifth of the demo's time), and again at interpreter exit (over a second).
  :func:`collect_garbage_less_often`, for a process whose work is one emulator run
  (`trapheus demo`, `trapheus local serve`), collects the youngest objects less
  often and leaves everything alive at exit to the operating system to free.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.loaders
import botocore.session
import jsonpath_ng
import jsonpath_ng.ext

# moto is imported inside the functions below: importing it builds botocore sessions, which must
# come after share_service_models().

AMIS_SETTINGS = ("MOTO_EC2_LOAD_DEFAULT_AMIS", "MOTO_AMIS_PATH")
SYNC_CHECK_SECONDS = 0.005


class _QuickLooks:
    """The ``time`` of the sync task module: its half-second look at a child execution becomes a short yield."""

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, SYNC_CHECK_SECONDS))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@functools.lru_cache(maxsize=4096)
def _parse(path: str) -> Any:
    return jsonpath_ng.parse(path)


@functools.lru_cache(maxsize=4096)
def _parse_extended(path: str) -> Any:
    return jsonpath_ng.ext.parse(path)


@functools.lru_cache(maxsize=8)
def _shared_loader(search_path_string: str | None = None) -> Any:
    return botocore.loaders.create_loader(search_path_string)


def share_service_models() -> None:
    """Make every botocore session of this process share one data loader (and so its parsed files) per data path.

    Process-wide and permanent: the loader only reads botocore's data files, which do not change while
    the process runs. trapheus_local's package import calls it.
    """
    botocore.session.create_loader = _shared_loader


# objects allocated (minus freed) before the youngest generation is collected: Python's default is 700
# (2,000 from Python 3.13)
YOUNG_GENERATION_THRESHOLD = 50_000


def collect_garbage_less_often() -> None:
    """Tune the cyclic garbage collector for a process that runs the emulator, then exits.

    Memory held by unreachable cycles stays bounded (the collector still runs, some 70x less often); at exit, the
    objects still alive are frozen so that the interpreter's final collections skip them.
    """
    young, middle, oldest = gc.get_threshold()
    if young >= YOUNG_GENERATION_THRESHOLD:  # tuned already (once per process is enough)
        return
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)
    atexit.register(gc.freeze)


@functools.cache
def _moto_parse() -> Callable[[str], tuple[Any, Any]]:
    """moto's own ASL parser (looked up once, before installed() first puts parsed_definition in its place)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    return AmazonStateLanguageParser.parse


@functools.lru_cache(maxsize=32)
def parsed_definition(definition: str) -> tuple[Any, Any]:
    """moto's (program, parse tree) for one ASL definition text, parsed once per process."""
    return _moto_parse()(definition)


def _validated_definitions() -> Path:
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(home) / "trapheus" / "valid-asl"


def _validate_once(definition: str) -> None:
    """CreateStateMachine's validation (moto parses the whole definition, about half a second for a large
    workflow) done once per definition text and moto version, remembered on disk: an unchanged definition is
    valid again, and the run that executes it parses it anyway. A definition never seen is checked as before."""
    from moto import __version__ as moto_version

    marker = _validated_definitions() / hashlib.sha256(f"{moto_version}\n{definition}".encode()).hexdigest()
    if marker.exists():
        return
    _moto_validate()(definition=definition)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # a read-only home only costs the parse next time


@functools.cache
def _moto_validate() -> Callable[..., None]:
    """moto's own CreateStateMachine validation (looked up once, before installed() puts _validate_once in its place)."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    return StepFunctionsParserBackend._validate_definition


_ERROR_TABLES: dict[str, Any] = {}  # serviceId -> moto's ErrorLookup for it (service models do not change)


def _shared_error_tables(factory: Any) -> None:
    """``ErrorLookupFactory.__init__`` with one cache for every factory (moto makes a new factory per error)."""
    factory._error_lut_cache = _ERROR_TABLES


def _method_names(original: Callable[[object], list[str]]) -> Callable[[object], list[str]]:
    """``method_names_from_class`` kept per class; a class that gains or loses an attribute is listed again."""
    listed: dict[tuple[Any, ...], list[str]] = {}

    def method_names_from_class(clazz: object) -> list[str]:
        mro = getattr(clazz, "__mro__", None)
        if mro is None:
            return original(clazz)
        key = (clazz, *(len(vars(base)) for base in mro))
        names = listed.get(key)
        if names is None:
            names = listed[key] = original(clazz)
        return list(names)

    return method_names_from_class


def _remembered_keys(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``AttributePicker.__call__`` with the attribute names to try kept on the member's shape.

    What the alias providers answer depends only on the member's name and shape (its serialization name, its
    parent shape, the parent's members), the object's class and a ``Meta`` the class declares, and the
    picker's providers; an object whose ``Meta`` is not its class's (its own, or one ``__getattr__`` makes) is
    worked out every time.
    """
    from moto.core.utils import MISSING, get_value

    @functools.wraps(original)
    def __call__(self: Any, context: Any) -> Any:
        obj, shape = context.obj, context.shape
        if shape is None or getattr(obj, "Meta", None) is not getattr(type(obj), "Meta", None):
            return original(self, context)
        memo = shape.__dict__.setdefault("_trapheus_possible_keys", {})
        memo_key = (type(self), tuple(self.alias_providers), context.key, type(obj), id(getattr(shape, "parent", None)))
        keys = memo.get(memo_key)
        if keys is None:
            keys = memo[memo_key] = tuple(self.get_possible_keys(context))
        for possible_key in keys:
            value = get_value(obj, possible_key, MISSING)
            if value is not MISSING:
                break
        else:
            value = None
        if self.response_transformers:
            key_path = f"{context.key_path}.{context.key}"
            for transform_path, transform in self.response_transformers.items():
                if key_path.endswith(transform_path):
                    return transform(value)
        return value

    return __call__


class _ClientsMadeOnce:
    """Stands in for ``boto3`` inside the interpreter's client factory: one client per kind of call."""

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def client(self, **arguments: Any) -> Any:
        key = (arguments.get("service_name"), arguments.get("region_name"), arguments.get("endpoint_url"))
        with self._lock:
            if key not in self._clients:
                self._clients[key] = boto3.client(**arguments)
            return self._clients[key]


SWITCH_INTERVAL_SECONDS = 0.0005  # sys.getswitchinterval() is 0.005 unless changed
_switching = {"blocks": 0, "before": 0.0}  # blocks open now; the interval before the first of them
_switching_lock = threading.Lock()


@contextlib.contextmanager
def _switching_threads_sooner() -> Iterator[None]:
    """The shorter interval while any block is open (blocks may overlap: emulators in several threads)."""
    with _switching_lock:
        if _switching["blocks"] == 0:
            _switching["before"] = sys.getswitchinterval()
            sys.setswitchinterval(min(_switching["before"], SWITCH_INTERVAL_SECONDS))
        _switching["blocks"] += 1
    try:
        yield
    finally:
        with _switching_lock:
            _switching["blocks"] -= 1
            if _switching["blocks"] == 0:
                sys.setswitchinterval(_switching["before"])


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Parse definitions and JSONPaths once, reuse the interpreter's clients, skip sample AMIs, poll nested
    executions quickly, keep moto's error tables, response methods, service models and attribute names, and
    hand the interpreter lock between threads sooner, for the block."""
    from moto.core import errors as moto_errors
    from moto.core import responses as moto_responses
    from moto.core.serialize import AttributePicker
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import boto_client, json_path
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    _moto_parse()
    _moto_validate()
    no_sample_amis = {} if any(name in os.environ for name in AMIS_SETTINGS) else {AMIS_SETTINGS[0]: "false"}
    with (
        mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(parsed_definition)),
        mock.patch.object(StepFunctionsParserBackend, "_validate_definition", staticmethod(_validate_once)),
        mock.patch.object(boto_client, "boto3", _ClientsMadeOnce()),
        mock.patch.object(json_path, "parse", _parse_extended),
        mock.patch.object(result_path, "parse", _parse),
        mock.patch.dict(os.environ, no_sample_amis),
        mock.patch.object(state_task_service_callback, "time", _QuickLooks()),
        mock.patch.object(moto_errors.ErrorLookupFactory, "__init__", _shared_error_tables),
        mock.patch.object(moto_responses, "method_names_from_class", _method_names(moto_responses.method_names_from_class)),
        mock.patch.object(AttributePicker, "__call__", _remembered_keys(AttributePicker.__call__)),
        _switching_threads_sooner(),
    ):
        yield
