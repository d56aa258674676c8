"""Sleeps, for stop, timeout, queueing and restart tests. By default traps no signal: SIGTERM
ends it.

  --seconds S         sleep S seconds, then write ``slept.json`` to SM_MODEL_DIR and exit 0;
                      0 (the default) sleeps "forever" (a 15-minute safety cap, so that a
                      broken server never leaves an immortal process behind)
  --ignore-sigterm 1  print ``SIGTERM received, ignoring`` on SIGTERM and keep sleeping (only
                      SIGKILL ends it)
  --spawn-child 1     start a child process that sleeps too (ignoring SIGTERM as well when
                      --ignore-sigterm 1) and print ``child pid=N``

Writes ``started.json`` to SM_MODEL_DIR at once (a stopped job still uploads its model),
prints ``sleep.py started on <host> pid=N`` and then a ``tick N`` line every half second.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

SAFETY_CAP_S = 900

CHILD = """
import signal, time
if {ignore}:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep({cap})
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--ignore-sigterm", type=int, default=0)
    parser.add_argument("--spawn-child", type=int, default=0)
    args = parser.parse_args()

    host = os.environ.get("SM_CURRENT_HOST", "?")
    model_dir = os.environ.get("SM_MODEL_DIR", "model")
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "started.json"), "w") as f:
        json.dump({"host": host, "pid": os.getpid()}, f)

    if args.ignore_sigterm:
        def on_sigterm(signum, frame):
            print("SIGTERM received, ignoring", flush=True)
        signal.signal(signal.SIGTERM, on_sigterm)
    print(f"sleep.py started on {host} pid={os.getpid()} seconds={args.seconds}", flush=True)
    if args.spawn_child:
        code = CHILD.format(ignore=bool(args.ignore_sigterm), cap=SAFETY_CAP_S)
        child = subprocess.Popen([sys.executable, "-c", code])
        print(f"child pid={child.pid}", flush=True)

    duration = args.seconds if args.seconds > 0 else SAFETY_CAP_S
    deadline = time.monotonic() + duration
    tick = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(0.5, left))
        tick += 1
        print(f"tick {tick}", flush=True)
    with open(os.path.join(model_dir, "slept.json"), "w") as f:
        json.dump({"seconds": args.seconds, "host": host, "ticks": tick}, f)
    print("sleep.py done", flush=True)
    if args.seconds <= 0:  # the safety cap was reached: nobody stopped us
        raise SystemExit("sleep.py: safety cap reached without being stopped")


if __name__ == "__main__":
    main()
