"""Run the trapheus stack locally: moto in-process, real handlers, real state machines, no Docker."""

from trapheus_local import speedups as _speedups

_speedups.share_service_models()  # before moto's modules build their first botocore sessions

from trapheus_local.engine import Deployment, Emulator, ExecutionResult
from trapheus_local.latency import LatencyModel

__all__ = ["Deployment", "Emulator", "ExecutionResult", "LatencyModel"]
