"""A training script that does nothing and succeeds (accepts and ignores any arguments)."""

import sys

print(f"noop.py: {len(sys.argv) - 1} arguments, nothing to do", flush=True)
