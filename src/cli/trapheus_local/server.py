"""An AWS-compatible endpoint on 127.0.0.1 with the stack deployed.

``python -m trapheus_local.server --port 4566 --param RecipientEmails=ops@example.com``

moto's server runs in the same process as the in-process emulator, so both see
the same backends: a client drives it with plain boto3 and ``endpoint_url``,
and the state machines it starts call the in-process handlers, whose own AWS
calls land in those same backends.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from trapheus_local import speedups
from trapheus_local.engine import Emulator
from trapheus_local.latency import LatencyModel
from trapheus_local.template import parse_template

READY_MESSAGE = "trapheus local endpoint ready on http://{host}:{port}"
# One real second is a minute on the emulator's clock: a 10-minute rename done by hand answers in 10 s.
DEFAULT_TIME_FACTOR = 60.0


def default_template() -> Path:
    """``$TRAPHEUS_TEMPLATE``, else ``./template.yaml``, else trapheus's own (checkout, then installed copy)."""
    from trapheus_local import bundle

    for candidate in (os.environ.get("TRAPHEUS_TEMPLATE"), Path.cwd() / "template.yaml"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    try:
        return bundle.stack_template()
    except FileNotFoundError as error:
        raise FileNotFoundError(f"no template.yaml found: set TRAPHEUS_TEMPLATE or pass --template ({error})") from error


def serve(
    port: int,
    parameters: Mapping[str, Any] | None = None,
    *,
    template: str | Path | None = None,
    host: str = "127.0.0.1",
    latency: LatencyModel | None = None,
    stop: threading.Event | None = None,
    announce: Callable[[str], None] | None = None,
    strict: bool = True,
    time_factor: float = DEFAULT_TIME_FACTOR,
) -> None:
    """Serve the deployed stack on ``host:port`` (0 = any free port) until SIGINT/SIGTERM or ``stop`` is set.

    The strict RDS model is on unless ``strict`` is False; RDS operations take their modelled time, with the
    emulator's clock running ``time_factor`` times faster than real time (workflow Wait states skip ahead).
    """
    from moto.server import ThreadedMotoServer

    say = announce or _print
    stop = stop or threading.Event()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    template_path = Path(template or default_template())
    parameters = dict(parameters or {})
    declared = parse_template(template_path.read_text()).get("Parameters") or {}
    if "ManagedDatabasePattern" in declared and "ManagedDatabasePattern" not in parameters:
        # a real deploy asks for it; an emulated account holds only what its user made
        parameters["ManagedDatabasePattern"] = "*"
        say("ManagedDatabasePattern not given: '*' (every database of the emulated account)")
    emulator = Emulator(latency=latency, strict=strict)
    emulator.clock.real_time_factor = time_factor
    with emulator:
        deployment = emulator.deploy(template_path, parameters)
        _check_free(host, port)  # moto's server would hang rather than report a taken port
        server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        server.start()
        try:
            bound_host, bound_port = server.get_host_and_port()
            os.environ["MOTO_PORT"] = str(bound_port)  # where moto sends calls it makes over HTTP
            _wait_until_accepting(host, bound_port)
            with _stop_on_signals(stop) as signals:
                say(READY_MESSAGE.format(host=host, port=bound_port))
                say(f"region {emulator.region}")
                say("strict RDS model: on" if strict else "strict RDS model: OFF (--lenient): moto's leniency, for debugging only")
                for logical_id, arn in deployment.state_machines().items():
                    say(f"state machine {logical_id}: {arn}")
                signals.wait()
        finally:
            server.stop()
    say("trapheus local endpoint stopped")


def _print(line: str) -> None:
    print(line, flush=True)


def _check_free(host: str, port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise OSError(f"cannot listen on {host}:{port}: {error.strerror}") from error


def _wait_until_accepting(host: str, port: int) -> None:
    # ThreadedMotoServer binds before it returns; one successful connect proves it accepts.
    with socket.create_connection((host, port), timeout=10):
        pass


class _stop_on_signals:
    """Note SIGINT/SIGTERM (handlers can be set from the main thread only); :meth:`wait` returns on a signal or
    once ``stop`` is set.

    The handler only sets a flag: a handler that set the Event itself could deadlock, since it runs in the main
    thread, which may be holding the Event's lock inside ``wait`` at that moment.
    """

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.signalled = False
        self.previous: dict[int, Any] = {}

    def _note(self, *_: Any) -> None:
        self.signalled = True

    def wait(self) -> None:
        while not self.signalled and not self.stop.wait(0.1):
            pass

    def __enter__(self) -> _stop_on_signals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def parse_parameters(pairs: Sequence[str]) -> dict[str, str]:
    """``["Key=Value", ...]`` -> ``{"Key": "Value"}`` (values may contain ``=``)."""
    parameters = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise ValueError(f"expected Key=Value, got {pair!r}")
        parameters[key] = value
    return parameters


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trapheus-local-server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=4566, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--param", action="append", default=[], metavar="Key=Value", help="template parameter")
    parser.add_argument("--template", type=Path, default=None, help="SAM template (default: the repository's)")
    parser.add_argument(
        "--latency-polls", type=int, default=0, help="with --lenient: keep resources in their in-between status for N describe calls"
    )
    parser.add_argument("--lenient", action="store_true", help="turn the strict RDS model off (debugging only)")
    parser.add_argument(
        "--time-factor", type=float, default=DEFAULT_TIME_FACTOR,
        help="how much faster than real time RDS operations run (default 60: a minute per second)",
    )
    args = parser.parse_args(argv)
    try:
        parameters = parse_parameters(args.param)
    except ValueError as error:
        parser.error(str(error))
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    speedups.collect_garbage_less_often()
    serve(
        args.port, parameters, template=args.template, latency=LatencyModel(polls=args.latency_polls),
        strict=not args.lenient, time_factor=args.time_factor,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
