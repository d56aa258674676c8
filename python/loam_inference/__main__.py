"""``python -m loam_inference``: load the model, then listen; exit non-zero if loading fails.

The last stderr line of a failed start is one line, ``loam_inference: <step> failed: <Type>:
<message>``, which Loam reports as the endpoint's FailureReason.
"""

from __future__ import annotations

import os
import platform
import signal
import sys
import traceback

from .streams import line_buffered


def _log(message: str) -> None:
    print(f"loam_inference: {message}", flush=True)


def _fail(reason: str, exc: BaseException | None = None) -> int:
    sys.stdout.flush()
    if exc is not None:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    reason = " ".join(reason.split())  # one line, whatever the message held
    sys.stderr.write(f"loam_inference: {reason}\n")
    sys.stderr.flush()
    return 1


_stopping = False


def _stop(signum, frame):
    global _stopping
    _stopping = True
    raise SystemExit(0)


def main() -> int:
    line_buffered()
    signal.signal(signal.SIGTERM, _stop)

    from .config import Config, ConfigError

    try:
        config = Config.from_env()
    except ConfigError as exc:
        return _fail(f"bad configuration: {exc}")
    _log(f"starting (pid {os.getpid()}, Python {platform.python_version()}, {sys.executable})")
    _log(f"model dir {config.model_dir}, code dir {config.code_dir}, "
         f"program {config.program or '(none)'}")

    from .handlers import Service, StartupError

    service = Service(config, _log)
    try:
        service.load()
    except StartupError as exc:
        if _stopping and isinstance(exc.cause, SystemExit):
            _log("stopped during startup (SIGTERM)")
            return 0
        return _fail(str(exc), exc.cause)
    except KeyboardInterrupt:
        return 130

    from .server import make_server, serve_forever

    try:
        server = make_server(config, service)
    except OSError as exc:
        return _fail(f"cannot listen on {config.address}: {type(exc).__name__}: {exc}", exc)
    _log(f"listening on {config.address} (max payload {config.max_payload_mb} MB)")
    try:
        serve_forever(server, config)
    except (SystemExit, KeyboardInterrupt):
        pass
    _log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
