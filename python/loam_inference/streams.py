"""Line-buffered stdout and stderr for the toolkit's entry points (standard library only)."""

from __future__ import annotations

import sys


def line_buffered() -> None:
    """Line-buffered logs: Loam reads them while the process runs."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
