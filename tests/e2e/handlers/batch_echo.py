"""A batch transform test script: answers every request with its own body, and records it.

No model file: ``model_fn`` returns None.  Driven by environment variables:

- ``BATCH_TEST_LOG``: one JSON line per request appended here, written when the request
  ends: ``{"body": <the body>, "records": <its non-empty lines>, "inflight": <requests being
  handled when it arrived, itself included>}``;
- ``BATCH_TEST_PID_FILE``: ``model_fn`` writes the worker's pid here;
- ``BATCH_TEST_SLEEP``: seconds each request sleeps; ``BATCH_TEST_RANDOM_SLEEP``: at most this
  many, at random;
- ``BATCH_TEST_STRIP=1``: answer the body without its surrounding whitespace (so without the
  record's newline);
- ``BATCH_TEST_LOAD_SLEEP``: seconds ``model_fn`` sleeps (after writing the pid file);
- ``BATCH_TEST_EXIT_ON``: a request whose body contains this text ends the worker process
  (status 3) after writing ``batch_echo: exiting on purpose`` to stderr.
"""

import json
import os
import random
import sys
import threading
import time

_lock = threading.Lock()
_inflight = 0


def model_fn(model_dir):
    pid_file = os.environ.get("BATCH_TEST_PID_FILE")
    if pid_file:
        with open(pid_file + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(pid_file + ".tmp", pid_file)
    time.sleep(float(os.environ.get("BATCH_TEST_LOAD_SLEEP") or 0))
    return None


def transform_fn(model, data, content_type, accept):
    global _inflight
    with _lock:
        _inflight += 1
        inflight = _inflight
    try:
        delay = float(os.environ.get("BATCH_TEST_SLEEP") or 0)
        spread = float(os.environ.get("BATCH_TEST_RANDOM_SLEEP") or 0)
        if spread:
            delay += random.uniform(0, spread)
        if delay:
            time.sleep(delay)
        text = data if isinstance(data, str) else data.decode("utf-8")
        trigger = os.environ.get("BATCH_TEST_EXIT_ON")
        if trigger and trigger in text:
            sys.stderr.write("batch_echo: exiting on purpose\n")
            sys.stderr.flush()
            os._exit(3)
        log = os.environ.get("BATCH_TEST_LOG")
        if log:
            entry = {"body": text, "records": sum(1 for line in text.split("\n") if line.strip()),
                     "inflight": inflight}
            with _lock, open(log, "a") as f:
                f.write(json.dumps(entry) + "\n")
        if os.environ.get("BATCH_TEST_STRIP") == "1":
            text = text.strip()
        return text, content_type
    finally:
        with _lock:
            _inflight -= 1
