"""``python -m loam_inference.batch``: one batch transform instance (SageMaker CreateTransformJob).

Loam stages this instance's input files and runs this module with the environment an endpoint
worker gets plus ``LOAM_TRANSFORM_CONFIG`` (the path of a JSON file: see ``Job``).  It does
what SageMaker's batch agent does next to the model container:

1. starts the model server (``python -m loam_inference``) on a free 127.0.0.1 port and waits
   for ``GET /ping``; asks ``GET /execution-parameters`` for what the job leaves unset
   (``batch_server``);
2. reads each input file (gunzipped with CompressionType Gzip), splits it into records
   (SplitType Line) and packs them into requests (BatchStrategy, MaxPayloadInMB)
   (``batch_requests``);
3. POSTs them to ``/invocations`` with up to MaxConcurrentTransforms in flight, retrying
   failed ones (InvocationsMaxRetries, InvocationsTimeoutInSeconds) (``batch_sender``);
4. writes ``<output_dir>/<input>.out`` in input order (AssembleWith), through a temporary
   name renamed when the file is complete; DataProcessing filters and joins records
   (``batch_filters``).

Exit status 0 when every file is done (or on SIGTERM, after stopping the model server); 1 on a
failure, whose one-line reason (``ClientError: ...``) is written to the job's failure file.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass

from .batch_common import Failed, Stopped, describe, log, one_line
from .batch_requests import DataProcessing, RequestReader
from .batch_sender import Sender
from .batch_server import ModelServer
from .streams import line_buffered

DEFAULT_CONCURRENCY = 1
DEFAULT_STRATEGY = "SingleRecord"
DEFAULT_PAYLOAD_MB = 6
FAILURE_REASON_LIMIT = 1024  # SageMaker's FailureReason is at most 1024 characters


# ---------------------------------------------------------------------------------------------
# The job's configuration


@dataclass(frozen=True)
class Job:
    job_name: str
    input_dir: str
    inputs: tuple
    output_dir: str
    failure_file: str | None
    content_type: str | None
    accept: str | None
    split_type: str  # "None" | "Line"
    compression: str  # "None" | "Gzip"
    batch_strategy: str | None  # "MultiRecord" | "SingleRecord" | None (execution-parameters)
    max_payload_mb: int | None  # 0: no limit; None: execution-parameters
    max_concurrent: int | None  # None or 0: execution-parameters
    assemble_with: str  # "None" | "Line"
    timeout_s: int
    max_retries: int
    input_filter: str | None
    output_filter: str | None
    join_source: str  # "None" | "Input"
    startup_timeout_s: int


class ConfigError(Exception):
    def __init__(self, message: str, failure_file: str | None = None):
        super().__init__(message)
        self.failure_file = failure_file


def _choice(raw, key, allowed, default):
    value = raw.get(key)
    if value is None:
        return default
    if value not in allowed:
        raise ValueError(f"{key}={value!r} is not one of {', '.join(map(repr, allowed))}")
    return value


def _int(raw, key, default, minimum=0):
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{key}={value!r} is not an integer >= {minimum}")
    return value


def _str(raw, key, required=False):
    value = raw.get(key)
    if value is None or (value == "" and not required):
        if required:
            raise ValueError(f"{key} is missing")
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key}={value!r} is not a non-empty string")
    return value


def load_job(path: str | None) -> Job:
    if not path:
        raise ConfigError("ClientError: LOAM_TRANSFORM_CONFIG is not set")
    try:
        with open(path, "rb") as f:
            raw = json.loads(f.read())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"ClientError: cannot read the transform config {path}: {describe(exc)}")
    if not isinstance(raw, dict):
        raise ConfigError(f"ClientError: the transform config {path} is not a JSON object")
    failure_file = raw.get("failure_file") if isinstance(raw.get("failure_file"), str) else None
    try:
        inputs = raw.get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, str) and i for i in inputs):
            raise ValueError("inputs must be a list of relative file names")
        for name in inputs:
            parts = name.replace("\\", "/").split("/")
            if os.path.isabs(name) or ".." in parts:
                raise ValueError(f"input {name!r} is not a relative path inside input_dir")
        job = Job(
            job_name=_str(raw, "job_name") or "transform",
            input_dir=_str(raw, "input_dir", True),
            inputs=tuple(inputs),
            output_dir=_str(raw, "output_dir", True),
            failure_file=failure_file,
            content_type=_str(raw, "content_type"),
            accept=_str(raw, "accept"),
            split_type=_choice(raw, "split_type", ("None", "Line"), "None"),
            compression=_choice(raw, "compression", ("None", "Gzip"), "None"),
            batch_strategy=_choice(raw, "batch_strategy", ("MultiRecord", "SingleRecord"), None),
            max_payload_mb=_int(raw, "max_payload_mb", None),
            max_concurrent=_int(raw, "max_concurrent_transforms", None) or None,
            assemble_with=_choice(raw, "assemble_with", ("None", "Line"), "None"),
            timeout_s=_int(raw, "invocations_timeout_s", 600, 1),
            max_retries=_int(raw, "invocations_max_retries", 3),
            input_filter=_str(raw, "input_filter"),
            output_filter=_str(raw, "output_filter"),
            join_source=_choice(raw, "join_source", ("None", "Input"), "None"),
            startup_timeout_s=_int(raw, "startup_timeout_s", 300, 1),
        )
    except ValueError as exc:
        raise ConfigError(f"ClientError: bad transform config {path}: {exc}", failure_file)
    return job


# ---------------------------------------------------------------------------------------------
# The output files


class FileEnd:
    """Marks the end of a file's requests in the output order."""

    def __init__(self, file):
        self.file = file
        self.done = threading.Event()
        self.done.set()


class OutputFile:
    """``<output_dir>/<rel>.out``, written under a temporary name and renamed when complete."""

    def __init__(self, output_dir: str, rel: str):
        self.rel = rel
        self.out_rel = rel + ".out"
        self.path = os.path.join(output_dir, self.out_rel)
        directory, name = os.path.split(self.path)
        os.makedirs(directory, exist_ok=True)
        self.tmp_path = os.path.join(directory, f".{name}.{os.getpid()}.partial")
        self.handle = open(self.tmp_path, "wb")
        self.records = 0
        self.requests = 0
        self.bytes = 0
        self.started = time.monotonic()

    def write(self, data: bytes) -> None:
        if data:
            self.handle.write(data)
            self.bytes += len(data)

    def finish(self) -> None:
        self.handle.close()
        os.replace(self.tmp_path, self.path)

    def discard(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass
        try:
            os.unlink(self.tmp_path)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# The driver


class Driver:
    def __init__(self, job: Job):
        self.job = job
        self.abort = threading.Event()
        self.failed = threading.Event()
        self.failure = None
        self._failure_lock = threading.Lock()
        self.running = False  # SIGTERM raises Stopped only while this is set
        self.stopping = False
        self.open_files = []
        self.totals = collections.Counter()
        self.dp = DataProcessing.of(job)  # checked before anything starts
        self.server = ModelServer(job)
        self.sender = Sender(job, self.server, self.dp, self.abort, self.fail)
        self.reader = None  # once the settings are settled

    # -- signals and failures ---------------------------------------------------------------

    def on_sigterm(self, signum, frame):
        if self.stopping:
            return
        self.stopping = True
        self.abort.set()
        if self.running:
            raise Stopped()

    def fail(self, reason: str) -> None:
        with self._failure_lock:
            if self.failure is None:
                self.failure = reason
        self.abort.set()
        self.failed.set()

    def check(self) -> None:
        if self.failed.is_set():
            raise Failed(self.failure)

    # -- settings ---------------------------------------------------------------------------

    def settle(self, params: dict) -> None:
        """The effective concurrency, batch strategy and payload limit."""
        job = self.job
        sources = []

        def from_params(key, valid):
            value = params.get(key)
            return value if valid(value) else None

        concurrency = job.max_concurrent
        if not concurrency:
            concurrency = from_params("MaxConcurrentTransforms",
                                      lambda v: isinstance(v, int) and not isinstance(v, bool)
                                      and v >= 1)
            sources.append("MaxConcurrentTransforms")
        strategy = job.batch_strategy
        if strategy is None:
            raw = from_params("BatchStrategy", lambda v: v in ("MULTI_RECORD", "SINGLE_RECORD"))
            strategy = {"MULTI_RECORD": "MultiRecord", "SINGLE_RECORD": "SingleRecord"}.get(raw)
            sources.append("BatchStrategy")
        payload = job.max_payload_mb
        if payload is None:
            payload = from_params("MaxPayloadInMB",
                                  lambda v: isinstance(v, int) and not isinstance(v, bool)
                                  and v >= 0)
            sources.append("MaxPayloadInMB")
        self.concurrency = concurrency or DEFAULT_CONCURRENCY
        self.strategy = strategy or DEFAULT_STRATEGY
        self.payload_mb = DEFAULT_PAYLOAD_MB if payload is None else payload
        origin = (f" ({', '.join(sources)} from /execution-parameters or the defaults)"
                  if sources else "")
        log(f"settings: MaxConcurrentTransforms={self.concurrency}, BatchStrategy={self.strategy}, "
            f"MaxPayloadInMB={self.payload_mb}{origin}; SplitType={job.split_type}, "
            f"CompressionType={job.compression}, ContentType={job.content_type}, "
            f"Accept={job.accept}, AssembleWith={job.assemble_with}, "
            f"InvocationsTimeoutInSeconds={job.timeout_s}, "
            f"InvocationsMaxRetries={job.max_retries}"
            + (f", InputFilter={job.input_filter}, OutputFilter={job.output_filter}, "
               f"JoinSource={job.join_source}" if self.dp is not None else ""))

    # -- the job ----------------------------------------------------------------------------

    def _finish(self, out: OutputFile) -> None:
        out.finish()
        self.open_files.remove(out)
        elapsed = time.monotonic() - out.started
        totals = self.totals
        totals["files"] += 1
        totals["records"] += out.records
        totals["requests"] += out.requests
        totals["bytes"] += out.bytes
        log(f"{out.rel}: {out.records} records in {out.requests} requests -> {out.out_rel} "
            f"({out.bytes} bytes, {elapsed:.2f}s)")

    def _write(self, item) -> None:
        """The next item in output order: waits for it, then writes it (or finishes its file)."""
        while not item.done.wait(0.2):
            self.check()
        self.check()
        if isinstance(item, FileEnd):
            self._finish(item.file)
            return
        out = item.file
        out.write(item.output)
        out.records += item.count
        out.requests += 1
        item.output = None

    def run(self) -> None:
        job = self.job
        started = time.monotonic()
        log(f"job {job.job_name}: {len(job.inputs)} input file(s) from {job.input_dir}")
        self.server.start()
        self.settle(self.server.execution_parameters())
        self.reader = RequestReader(job, self.payload_mb, self.strategy == "MultiRecord", self.dp)
        self.sender.start(self.concurrency)
        window = 2 * self.concurrency
        pending = collections.deque()
        for rel in job.inputs:
            self.check()
            try:
                out = OutputFile(job.output_dir, rel)
            except OSError as exc:
                raise Failed(f"ClientError: cannot write the output for {rel}: "
                             f"{describe(exc)}") from None
            self.open_files.append(out)
            for request in self.reader.requests(out):
                self.check()
                self.sender.put(request)
                pending.append(request)
                while len(pending) >= window or (pending and pending[0].done.is_set()):
                    self._write(pending.popleft())
            pending.append(FileEnd(out))
            while pending and pending[0].done.is_set():
                self._write(pending.popleft())
        while pending:
            self._write(pending.popleft())
        totals = self.totals
        log(f"done: {totals['files']} file(s), {totals['records']} records in "
            f"{totals['requests']} requests, {totals['bytes']} bytes written in "
            f"{time.monotonic() - started:.2f}s")

    def cleanup(self) -> None:
        self.abort.set()
        self.sender.stop()
        self.server.stop()
        for out in list(self.open_files):
            out.discard()
        self.open_files.clear()


def write_failure(path: str | None, reason: str) -> None:
    reason = one_line(reason)
    if len(reason) > FAILURE_REASON_LIMIT:
        reason = reason[: FAILURE_REASON_LIMIT - 3] + "..."
    log(f"failed: {reason}")
    if not path:
        return
    try:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(reason + "\n")
    except OSError as exc:
        log(f"cannot write the failure file {path}: {describe(exc)}")


def main() -> int:
    line_buffered()
    try:
        job = load_job(os.environ.get("LOAM_TRANSFORM_CONFIG"))
    except ConfigError as exc:
        write_failure(exc.failure_file, str(exc))
        return 1
    try:
        driver = Driver(job)
    except Failed as exc:
        write_failure(job.failure_file, str(exc))
        return 1
    signal.signal(signal.SIGTERM, driver.on_sigterm)
    code = 1
    try:
        try:
            driver.running = True
            if driver.stopping:
                raise Stopped()
            driver.run()
            driver.running = False
            code = 0
        except Failed as exc:
            driver.running = False
            write_failure(job.failure_file, str(exc))
        except Stopped:
            raise
        except Exception as exc:  # noqa: BLE001
            driver.running = False
            traceback.print_exc()
            write_failure(job.failure_file,
                          f"InternalServerError: the batch driver failed: {describe(exc)}")
    except Stopped:
        driver.running = False
        log("stopped (SIGTERM): stopping the model server")
        code = 0
    finally:
        driver.running = False
        driver.cleanup()
    return code


if __name__ == "__main__":
    sys.exit(main())
