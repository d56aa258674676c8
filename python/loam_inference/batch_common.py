"""What the batch transform driver's modules share: its log, its limits and its failures."""

from __future__ import annotations

import sys
import threading

MIB = 1024 * 1024
# MaxPayloadInMB 0 means "no limit" (SageMaker streams); requests are still packed up to this.
UNLIMITED_MB = 100
READ_SIZE = 8 * MIB
PREFIX = "loam_inference.batch: "

_log_lock = threading.Lock()


def log(message: str) -> None:
    line = f"{PREFIX}{message}\n"
    with _log_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def snippet(data: bytes, limit: int = 200) -> str:
    return one_line(data[: limit * 4].decode("utf-8", "replace"))[:limit]


def describe(exc: BaseException) -> str:
    message = one_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class Failed(Exception):
    """Ends the job: ``str(exc)`` is the failure reason."""


class Stopped(BaseException):
    """SIGTERM: stop the work and the model server, exit 0."""
