"""What the client scripts of this folder share (each runs in its own virtualenv, with this
folder first on sys.path)."""

import sys


def check(condition, message):
    """Exits with status 1 and the message on stderr unless ``condition`` holds."""
    if not condition:
        print(f"CHECK FAILED: {message}", file=sys.stderr)
        sys.exit(1)
