"""``python -m loam_inference.batch``: one batch transform instance (SageMaker CreateTransformJob).

Loam stages this instance's input files and runs this module with the environment an endpoint
worker gets plus ``LOAM_TRANSFORM_CONFIG`` (the path of a JSON file: see ``Job``).  It does
what SageMaker's batch agent does next to the model container:

1. starts the model server (``python -m loam_inference``) on a free 127.0.0.1 port and waits
   for ``GET /ping``; asks ``GET /execution-parameters`` for what the job leaves unset;
2. reads each input file (gunzipped with CompressionType Gzip), splits it into records
   (SplitType Line) and packs them into requests (BatchStrategy, MaxPayloadInMB);
3. POSTs them to ``/invocations`` with up to MaxConcurrentTransforms in flight, retrying
   failed ones (InvocationsMaxRetries, InvocationsTimeoutInSeconds);
4. writes ``<output_dir>/<input>.out`` in input order (AssembleWith), through a temporary
   name renamed when the file is complete; DataProcessing filters and joins records
   (``batch_filters``).

Exit status 0 when every file is done (or on SIGTERM, after stopping the model server); 1 on a
failure, whose one-line reason (``ClientError: ...``) is written to the job's failure file.
"""

from __future__ import annotations

import collections
import gzip
import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import zlib
from dataclasses import dataclass

from . import batch_filters as bf

MIB = 1024 * 1024
# MaxPayloadInMB 0 means "no limit" (SageMaker streams); requests are still packed up to this.
UNLIMITED_MB = 100
DEFAULT_CONCURRENCY = 1
DEFAULT_STRATEGY = "SingleRecord"
DEFAULT_PAYLOAD_MB = 6
READ_SIZE = 8 * MIB
FAILURE_REASON_LIMIT = 1024  # SageMaker's FailureReason is at most 1024 characters
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
# Reading records


def _drop_empty(block: bytes) -> bytes:
    """Whole ``\\n``-terminated records starting at a record boundary, without empty ones."""
    if block.startswith((b"\n", b"\r\n")) or b"\n\n" in block or b"\n\r\n" in block:
        kept = [line for line in block.split(b"\n") if line and line != b"\r"]
        return b"\n".join(kept) + b"\n" if kept else b""
    return block


class Blocks:
    """A file's records in blocks of whole, non-empty, ``\\n``-terminated records.

    A last record without a newline gets one in the last block, and ``added_newline`` is set
    before that block is handed out.
    """

    def __init__(self, read, size: int):
        self.read = read
        self.size = size
        self.added_newline = False

    def __iter__(self):
        pending = []  # pieces of an unfinished line
        while True:
            data = self.read(self.size)
            if not data:
                break
            cut = data.rfind(b"\n")
            if cut < 0:
                pending.append(data)
                continue
            head = data if cut + 1 == len(data) else data[: cut + 1]
            if pending:
                pending.append(head)
                head = b"".join(pending)
                pending = []
            if cut + 1 < len(data):
                pending.append(data[cut + 1:])
            block = _drop_empty(head)
            if block:
                yield block
        tail = b"".join(pending)
        if tail and tail != b"\r":
            self.added_newline = True
            yield tail + b"\n"


@dataclass
class Request:
    """One POST /invocations: a record range of one file, and (when done) what to write."""

    file: "OutputFile"
    number: int  # 1-based within its file
    body: bytes | None
    first: int  # first record (1-based)
    count: int  # records in it (1 for SplitType None)
    originals: bytes | None  # the input records (newline-separated), for JoinSource Input
    whole_file: bool = False
    output: bytes | None = None
    done: threading.Event | None = None

    def __post_init__(self):
        self.done = threading.Event()

    @property
    def what(self) -> str:
        if self.whole_file:
            return "the whole file"
        if self.count == 1:
            return f"record {self.first}"
        return f"records {self.first}-{self.first + self.count - 1}"


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
# The model server and its HTTP client


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _death_signal():
    """A preexec_fn that has the child SIGKILLed if the driver dies without cleaning up.

    Linux's PR_SET_PDEATHSIG, looked up here (in the parent) so that the child, between fork
    and exec, only makes the call; None where it is not available.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return None
    prctl.restype = ctypes.c_int
    args = (ctypes.c_int(1), ctypes.c_ulong(signal.SIGKILL))  # PR_SET_PDEATHSIG

    def preexec():
        prctl(*args)

    return preexec


class Client:
    """One persistent HTTP/1.1 connection to the model server (reopened after errors)."""

    def __init__(self, port: int, timeout: float):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            data = resp.read()
        except BaseException:
            self.close()
            raise
        if resp.will_close:
            self.close()
        return resp.status, data, resp.getheader("Content-Type")

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None


# ---------------------------------------------------------------------------------------------
# The driver


class Driver:
    def __init__(self, job: Job):
        self.job = job
        self.child = None
        self.port = None
        self.last_stderr = ""
        self._stderr_thread = None
        self.abort = threading.Event()
        self.failed = threading.Event()
        self.failure = None
        self._failure_lock = threading.Lock()
        self.running = False  # SIGTERM raises Stopped only while this is set
        self.stopping = False
        self.open_files = []
        self.queue = queue.Queue()
        self.threads = []
        self.totals = collections.Counter()

        # DataProcessing, checked before anything starts.
        self.input_filter = self.output_filter = None
        self.join = job.join_source == "Input"
        self.dp = bool(job.input_filter or job.output_filter or self.join)
        self.input_kind = self.input_charset = None
        if self.dp:
            self._check_data_processing()
        self.split_output = bool(self.output_filter or self.join)
        self.headers = {"Content-Type": job.content_type or "application/octet-stream"}
        if job.accept:
            self.headers["Accept"] = job.accept

    def _check_data_processing(self):
        job = self.job
        used = ", ".join(name for name, on in (
            ("InputFilter", job.input_filter), ("OutputFilter", job.output_filter),
            ("JoinSource Input", self.join)) if on)
        if job.split_type != "Line":
            raise Failed(f"ClientError: DataProcessing ({used}) needs SplitType Line; "
                         f"SplitType is {job.split_type}")
        media, charset = bf.media_type(job.content_type)
        if media not in bf.INPUT_TYPES:
            raise Failed(f"ClientError: DataProcessing ({used}) supports ContentType "
                         f"{bf.SUPPORTED}; ContentType is {job.content_type or 'not set'}")
        self.input_kind = bf.INPUT_TYPES[media]
        self.input_charset = charset or "utf-8"
        try:
            "".encode(self.input_charset)
        except LookupError:
            raise Failed(f"ClientError: unknown charset {charset!r} in ContentType "
                         f"{job.content_type}") from None
        try:
            if job.input_filter:
                self.input_filter = bf.JsonPath(job.input_filter)
            if job.output_filter:
                self.output_filter = bf.JsonPath(job.output_filter)
        except bf.FilterSyntaxError as exc:
            failed_input = self.input_filter is None and job.input_filter
            which = "InputFilter" if failed_input else "OutputFilter"
            raise Failed(f"ClientError: {which}: {exc}") from None
        if self.input_filter is not None and self.input_filter.identity:
            self.input_filter = None
        if self.output_filter is not None and self.output_filter.identity:
            self.output_filter = None

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

    # -- the model server -------------------------------------------------------------------

    def _read_stderr(self, stream):
        out = getattr(sys.stderr, "buffer", None)
        for line in iter(stream.readline, b""):
            text = line.decode("utf-8", "replace").strip()
            if text:
                self.last_stderr = text
            try:
                if out is not None:
                    out.write(line)
                    out.flush()
                else:
                    sys.stderr.write(line.decode("utf-8", "replace"))
            except (OSError, ValueError):
                pass
        stream.close()

    def _child_env(self, port: int) -> dict:
        job = self.job
        env = dict(os.environ)
        for name in ("LOAM_TRANSFORM_CONFIG", "LOAM_WORKER_SOCKET"):
            env.pop(name, None)
        env["SAGEMAKER_BIND_TO_PORT"] = str(port)
        env["SAGEMAKER_BATCH"] = "true"
        if job.max_payload_mb is not None:
            env["SAGEMAKER_MAX_PAYLOAD_IN_MB"] = str(job.max_payload_mb or UNLIMITED_MB)
        if job.batch_strategy:
            env["SAGEMAKER_BATCH_STRATEGY"] = (
                "MULTI_RECORD" if job.batch_strategy == "MultiRecord" else "SINGLE_RECORD")
        if job.max_concurrent:
            env["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"] = str(job.max_concurrent)
        return env

    def _child_exit(self, when: str) -> str:
        code = self.child.returncode
        if code < 0:
            return f"was killed by signal {-code} {when}"
        return f"exited {when} with status {code}"

    def start_server(self) -> None:
        job = self.job
        preexec = _death_signal()
        for attempt in range(3):
            self.port = free_port()
            self.last_stderr = ""
            self.child = subprocess.Popen(
                [sys.executable, "-m", "loam_inference"],
                env=self._child_env(self.port), stdin=subprocess.DEVNULL, stdout=None,
                stderr=subprocess.PIPE, preexec_fn=preexec,
            )
            self._stderr_thread = threading.Thread(
                target=self._read_stderr, args=(self.child.stderr,), name="model-server-stderr",
                daemon=True)
            self._stderr_thread.start()
            log(f"model server pid {self.child.pid} on 127.0.0.1:{self.port}")
            deadline = time.monotonic() + job.startup_timeout_s
            client = Client(self.port, 5)
            while True:
                if self.child.poll() is not None:
                    self._stderr_thread.join(5)
                    last = self.last_stderr
                    if "Address already in use" in last and attempt < 2:
                        log(f"port {self.port} was taken meanwhile; starting again on another")
                        break
                    exited = self._child_exit("during startup")
                    raise Failed(f"ClientError: the model server {exited}: "
                                 f"{last or '(nothing on stderr)'}")
                try:
                    status, _, _ = client.request("GET", "/ping")
                    if status == 200:
                        client.close()
                        return
                except (OSError, http.client.HTTPException):
                    pass
                if time.monotonic() > deadline:
                    last = f"; its last stderr line: {self.last_stderr}" if self.last_stderr else ""
                    raise Failed(f"ClientError: the model server did not answer GET /ping with 200 "
                                 f"within {job.startup_timeout_s}s{last}")
                time.sleep(0.05)
            self.child.wait()

    def stop_server(self) -> None:
        child = self.child
        if child is None:
            return
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._stderr_thread is not None:
            self._stderr_thread.join(2)

    def execution_parameters(self) -> dict:
        try:
            client = Client(self.port, 30)
            status, data, _ = client.request("GET", "/execution-parameters")
            client.close()
        except (OSError, http.client.HTTPException) as exc:
            log(f"GET /execution-parameters failed ({describe(exc)}): using the defaults")
            return {}
        if status != 200:
            log(f"GET /execution-parameters answered {status}: using the defaults")
            return {}
        try:
            params = json.loads(data)
        except ValueError:
            params = None
        if not isinstance(params, dict):
            log(f"GET /execution-parameters is not a JSON object ({snippet(data, 100)}): "
                "using the defaults")
            return {}
        return params

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
        self.enforce_limit = self.payload_mb > 0
        self.limit = (self.payload_mb or UNLIMITED_MB) * MIB
        self.multi = self.strategy == "MultiRecord"
        origin = (f" ({', '.join(sources)} from /execution-parameters or the defaults)"
                  if sources else "")
        log(f"settings: MaxConcurrentTransforms={self.concurrency}, BatchStrategy={self.strategy}, "
            f"MaxPayloadInMB={self.payload_mb}{origin}; SplitType={job.split_type}, "
            f"CompressionType={job.compression}, ContentType={job.content_type}, "
            f"Accept={job.accept}, AssembleWith={job.assemble_with}, "
            f"InvocationsTimeoutInSeconds={job.timeout_s}, "
            f"InvocationsMaxRetries={job.max_retries}"
            + (f", InputFilter={job.input_filter}, OutputFilter={job.output_filter}, "
               f"JoinSource={job.join_source}" if self.dp else ""))

    # -- requests ---------------------------------------------------------------------------

    def _opener(self, rel: str):
        path = os.path.join(self.job.input_dir, rel)
        try:
            raw = open(path, "rb")
        except OSError as exc:
            raise Failed(f"ClientError: cannot open the input {rel}: "
                         f"{exc.strerror or describe(exc)}") from None
        gzipped = self.job.compression == "Gzip"
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw

        def read(size):
            try:
                return stream.read(size)
            except (OSError, EOFError, zlib.error) as exc:
                if gzipped:
                    raise Failed(f"ClientError: {rel} cannot be decompressed (CompressionType "
                                 f"Gzip): {describe(exc)}") from None
                raise Failed(f"ClientError: cannot read the input {rel}: {describe(exc)}") from None

        def close():
            try:
                stream.close()
            finally:
                raw.close()

        return raw, read, close

    def _too_large(self, rel: str, size: int) -> Failed:
        return Failed(f"ClientError: a record of {size} bytes in {rel} is larger than "
                      f"MaxPayloadInMB ({self.payload_mb} MB)")

    def requests(self, out: OutputFile):
        """The file's requests, in order, as ``Request`` objects (bodies not yet sent)."""
        rel = out.rel
        raw, read, close = self._opener(rel)
        try:
            if self.job.split_type == "None":
                yield from self._whole_file(out, raw, read)
                return
            blocks = Blocks(read, max(READ_SIZE, self.limit))
            if self.dp:
                source = self._filtered(out, blocks)
            elif self.multi:
                source = self._packed(out, blocks)
            else:
                source = self._single(out, blocks)
            number = 0
            for body, first, count, originals in source:
                number += 1
                yield Request(out, number, body, first, count, originals)
        finally:
            close()

    def _whole_file(self, out, raw, read):
        rel = out.rel
        limit = self.limit if self.enforce_limit else None
        if self.job.compression == "None":
            size = os.fstat(raw.fileno()).st_size
            if limit is not None and size > limit:
                raise self._file_too_large(rel, size)
        parts, size = [], 0
        while True:
            data = read(READ_SIZE)
            if not data:
                break
            size += len(data)
            if limit is None or size <= limit:
                parts.append(data)
            else:
                parts = []  # keep counting, to say how big it is
        if limit is not None and size > limit:
            raise self._file_too_large(rel, size)
        if size:
            yield Request(out, 1, b"".join(parts), 1, 1, None, whole_file=True)

    def _file_too_large(self, rel, size):
        return Failed(f"ClientError: the file {rel} ({size} bytes) is larger than MaxPayloadInMB "
                      f"({self.payload_mb} MB); set SplitType to Line to split it")

    def _packed(self, out, blocks):
        """MultiRecord: as many whole records per request as fit in the payload limit."""
        limit, enforce, rel = self.limit, self.enforce_limit, out.rel
        carry = b""
        record = 1
        for block in blocks:
            buf = carry + block if carry else block
            n = len(buf)
            pos = 0
            while n - pos > limit:
                newline = buf.rfind(b"\n", pos, pos + limit)
                if newline >= 0:
                    end = newline + 1
                    body = buf[pos:end]
                    count = body.count(b"\n")
                else:  # the next record alone is bigger than the limit
                    end = buf.find(b"\n", pos) + 1
                    body = buf[pos:end]
                    count = 1
                    if blocks.added_newline and end == n:
                        body = body[:-1]
                    if enforce and len(body) > limit:
                        raise self._too_large(rel, len(body))
                yield body, record, count, None
                record += count
                pos = end
            carry = buf[pos:] if pos else buf
        if carry:
            count = carry.count(b"\n")
            if blocks.added_newline and count == 1:
                carry = carry[:-1]
            yield carry, record, count, None

    def _single(self, out, blocks):
        """SingleRecord: one record (with its newline) per request."""
        limit, enforce, rel = self.limit, self.enforce_limit, out.rel
        record = 1
        for block in blocks:
            n = len(block)
            pos = 0
            find = block.find
            while pos < n:
                end = find(b"\n", pos) + 1
                body = block[pos:end]
                if end == n and blocks.added_newline:
                    body = body[:-1]
                if enforce and len(body) > limit:
                    raise self._too_large(rel, len(body))
                yield body, record, 1, None
                record += 1
                pos = end

    def _filtered(self, out, blocks):
        """DataProcessing: records parsed, filtered (InputFilter) and packed; originals kept."""
        limit, enforce, rel, multi = self.limit, self.enforce_limit, out.rel, self.multi
        kind, charset = self.input_kind, self.input_charset
        in_filter, keep = self.input_filter, self.join
        writer = bf.CsvWriter()
        parts, originals, size, first, number = [], [], 0, 1, 0
        for block in blocks:
            lines = block.split(b"\n")
            lines.pop()
            for line in lines:
                number += 1
                if in_filter is not None:
                    try:
                        record = self._parse(line)
                    except bf.RecordError as exc:
                        raise Failed(f"ClientError: {rel}: record {number}: {exc}") from None
                    try:
                        value = in_filter(record)
                    except bf.RecordError as exc:
                        raise Failed(f"ClientError: {rel}: record {number}: InputFilter "
                                     f"{exc}") from None
                    payload = bf.serialise(value, kind, writer).encode(charset) + b"\n"
                else:
                    payload = line + b"\n"
                if enforce and len(payload) > limit:
                    raise self._too_large(rel, len(payload))
                if not multi:
                    yield payload, number, 1, line if keep else None
                    continue
                if parts and size + len(payload) > limit:
                    yield (b"".join(parts), first, len(parts),
                           b"\n".join(originals) if keep else None)
                    parts, originals, size, first = [], [], 0, number
                parts.append(payload)
                if keep:
                    originals.append(line)
                size += len(payload)
        if parts:
            yield b"".join(parts), first, len(parts), b"\n".join(originals) if keep else None

    def _parse(self, line: bytes):
        """An input record (bytes, without its newline) → CSV fields or a JSON value."""
        try:
            text = line.decode(self.input_charset)
        except UnicodeDecodeError as exc:
            raise bf.RecordError(f"the record is not valid {self.input_charset}: {exc}") from None
        if self.input_kind == bf.CSV_RECORDS:
            return bf.parse_csv_line(text)
        return bf.parse_json_text(text)

    # -- sending ----------------------------------------------------------------------------

    def _worker(self):
        client = Client(self.port, self.job.timeout_s)
        writer = bf.CsvWriter()
        while True:
            item = self.queue.get()
            if item is None or self.abort.is_set():
                if item is not None:
                    item.done.set()
                break
            try:
                data, content_type = self._send(client, item)
                if data is not None:
                    item.output = self._output(item, data, content_type, writer)
            except Failed as exc:
                self.fail(str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug here must not hang the job
                traceback.print_exc()
                self.fail(f"InternalServerError: the batch driver failed on {item.file.rel} "
                          f"{item.what}: {describe(exc)}")
            finally:
                item.body = item.originals = None
                item.done.set()
        client.close()

    def _send(self, client, item):
        """→ ``(body, content type)`` of a 2xx answer, after retries; Failed otherwise."""
        job, rel = self.job, item.file.rel
        attempts = 1 + job.max_retries
        for attempt in range(1, attempts + 1):
            if self.abort.is_set():
                return None, None
            try:
                status, data, content_type = client.request(
                    "POST", "/invocations", item.body, self.headers)
            except TimeoutError:
                reason = f"timed out after {job.timeout_s}s"
                final = f"the model timed out after {job.timeout_s}s for {item.what}"
            except (OSError, http.client.HTTPException) as exc:
                if self.abort.is_set():
                    return None, None
                try:
                    self.child.wait(0.5)  # a dropped connection often means a dying server
                except subprocess.TimeoutExpired:
                    pass
                if self.child.poll() is not None:
                    self._stderr_thread.join(2)
                    when = f"while transforming {rel} ({item.what})"
                    raise Failed(f"ClientError: the model server {self._child_exit(when)}: "
                                 f"{self.last_stderr or '(nothing on stderr)'}")
                reason = f"connection error: {describe(exc)}"
                final = f"the model dropped the connection for {item.what}: {describe(exc)}"
            else:
                if 200 <= status < 300:
                    return data, content_type
                reason = f"model answered {status}: {snippet(data)}"
                final = f"the model answered {status} for {item.what}: {snippet(data)}"
            if self.abort.is_set():
                return None, None
            log(f"{rel} request {item.number} ({item.what}): attempt {attempt} failed: {reason}")
            if attempt < attempts:
                self.abort.wait(min(0.1 * attempt, 1.0))
        raise Failed(f"ClientError: {rel}: {final}")

    def _output(self, item, data, content_type, writer) -> bytes:
        if not self.split_output:
            if self.job.assemble_with == "Line" and not data.endswith(b"\n"):
                return data + b"\n"
            return data
        rel = item.file.rel
        media, charset = bf.media_type(content_type or self.job.accept or self.job.content_type)
        out_kind = bf.OUTPUT_TYPES.get(media)
        if out_kind is None:
            raise Failed(f"ClientError: {rel}: JoinSource/OutputFilter need a response that "
                         f"splits into records ({bf.SUPPORTED}); the model answered "
                         f"{content_type or 'without a Content-Type'}")
        try:
            text = data.decode(charset or "utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise Failed(f"ClientError: {rel}: the response for {item.what} cannot be decoded: "
                         f"{describe(exc)}") from None
        try:
            outputs, parse_output = bf.split_response(text, out_kind, media, item.count)
        except bf.RecordError as exc:
            raise Failed(f"ClientError: {rel}: {exc} ({item.what}); with JoinSource or "
                         "OutputFilter the response must hold one record per input record"
                         ) from None
        in_kind, out_filter, join = self.input_kind, self.output_filter, self.join
        originals = item.originals.split(b"\n") if join else [None] * item.count
        lines = []
        number = item.first
        for original, record in zip(originals, outputs):
            kind = out_kind
            try:
                record = parse_output(record)
                if join:
                    record = bf.join(self._parse(original), in_kind, record, out_kind)
                    kind = in_kind
            except bf.RecordError as exc:
                raise Failed(f"ClientError: {rel}: record {number}: {exc}") from None
            if out_filter is not None:
                try:
                    record = out_filter(record)
                except bf.RecordError as exc:
                    raise Failed(f"ClientError: {rel}: record {number}: OutputFilter "
                                 f"{exc}") from None
            lines.append(bf.serialise(record, kind, writer))
            number += 1
        del outputs, originals, text
        lines.append("")
        return "\n".join(lines).encode("utf-8")

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
        self.start_server()
        self.settle(self.execution_parameters())
        for _ in range(self.concurrency):
            thread = threading.Thread(target=self._worker, name="invocations", daemon=True)
            thread.start()
            self.threads.append(thread)
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
            for request in self.requests(out):
                self.check()
                self.queue.put(request)
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
        for _ in self.threads:
            self.queue.put(None)
        self.stop_server()
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
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
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
