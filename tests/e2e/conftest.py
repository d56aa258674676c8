"""End-to-end harness for Loam.

Starts the real ``loam`` binary on a free loopback port with a temporary data
directory, waits for ``/health``, and shuts it down with SIGTERM (asserting a
clean exit code 0).  Tests talk to it over HTTP (raw ``requests``) or through the
official ``mlflow`` client.

Binary: ``$LOAM_BIN`` or ``<repo>/build/loam``.

SageMaker training jobs: ``training_server`` is a session server started with the job
flags (``--python <this interpreter> --job-cpus 8 --sandbox auto``, see
``training_server_args``), ``sagemaker`` a boto3 SageMaker client bound to it, and
``loam_server_factory(*extra_args)`` starts private servers with any extra flags.
``$LOAM_JOB_PYTHON`` overrides the interpreter passed as ``--python``.

External object store: ``s3rver`` is a session s3rver (npm, from tests/node) on a free port,
``s3rver_server`` a session Loam server whose objects live there (``--object-store s3``).
Tests that run over both stores note what s3rver cannot do with ``store_gap`` user properties;
the run ends with a summary of them.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / "build" / "loam"
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 15.0
SHUTDOWN_TIMEOUT_S = 10.0

# The mlflow client retries 5xx/429 with exponential backoff for minutes by
# default; in tests we want failures to surface immediately.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

_ALL_SERVERS: list["LoamServer"] = []


def loam_binary() -> Path:
    """Path of the loam binary under test; fails (never skips) when absent."""
    path = Path(os.environ.get("LOAM_BIN") or DEFAULT_BINARY)
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"loam binary not found or not executable at {path}. "
            "Build it first (e.g. cmake --build build) or set LOAM_BIN.",
            pytrace=False,
        )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Api:
    """Thin JSON helper for ``<url>/<prefix>/<path>`` endpoints of one server."""

    def __init__(self, server: "LoamServer", prefix: str = "/api/2.0/mlflow/"):
        self.server = server
        self.prefix = prefix

    def url(self, path: str) -> str:
        return self.server.url + self.prefix + path.lstrip("/")

    def __call__(self, method, path, json=None, params=None, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.server.http.request(
            method, self.url(path), json=json, params=params, **kwargs
        )

    def ok(self, method, path, json=None, params=None, **kwargs) -> dict:
        """Performs the call, asserts HTTP 200 and returns the decoded JSON body."""
        resp = self(method, path, json=json, params=params, **kwargs)
        assert resp.status_code == 200, (
            f"{method} {path} -> {resp.status_code}: {resp.text[:2000]}"
        )
        return resp.json()

    @staticmethod
    def expect_error(resp: requests.Response, status: int, error_code: str | None = None) -> dict:
        """Asserts a JSON error response ``{"error_code", "message"}`` and returns it."""
        req = resp.request
        sent = req.body[:300] if isinstance(req.body, (bytes, str)) else req.body
        context = f"{req.method} {req.url} body={sent!r}"
        assert resp.status_code == status, (
            f"expected HTTP {status}, got {resp.status_code} for {context}: {resp.text[:2000]}"
        )
        try:
            body = resp.json()
        except ValueError:
            raise AssertionError(f"error response is not JSON for {context}: {resp.text[:500]!r}")
        assert isinstance(body.get("message"), str), body
        if error_code is not None:
            assert body.get("error_code") == error_code, body
        return body

    # -- convenience wrappers -------------------------------------------------

    def create_experiment(self, name: str | None = None, **fields) -> str:
        name = name or f"exp-{uuid.uuid4().hex}"
        body = self.ok("POST", "experiments/create", json={"name": name, **fields})
        return body["experiment_id"]

    def get_experiment(self, experiment_id: str) -> dict:
        return self.ok("GET", "experiments/get", params={"experiment_id": experiment_id})[
            "experiment"
        ]

    def create_run(self, experiment_id: str, **fields) -> dict:
        body = self.ok("POST", "runs/create", json={"experiment_id": experiment_id, **fields})
        return body["run"]

    def get_run(self, run_id: str) -> dict:
        return self.ok("GET", "runs/get", params={"run_id": run_id})["run"]

    def search_runs(self, experiment_ids, **fields) -> dict:
        return self.ok(
            "POST", "runs/search", json={"experiment_ids": list(experiment_ids), **fields}
        )


class LoamServer:
    """One ``loam server`` process bound to a data dir and a fixed port."""

    def __init__(self, data_dir: Path, log_path: Path, port: int | None = None,
                 extra_args=()):
        self.binary = loam_binary()
        # Appended to every start (and restart) of this server, e.g. ["--job-cpus", "1"].
        self.extra_args = [str(a) for a in extra_args]
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.http = requests.Session()
        self.api = Api(self)
        self.ajax = Api(self, "/ajax-api/2.0/mlflow/")
        _ALL_SERVERS.append(self)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, max_bytes: int = 8000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return "<no log>"
        return data[-max_bytes:].decode("utf-8", "replace")

    def start(self) -> "LoamServer":
        """Starts (or restarts) the server on the same data dir and port."""
        assert not self.running, "server already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.http.close()
        self.http = requests.Session()
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== starting loam on port {self.port} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [
                    str(self.binary),
                    "server",
                    "--data-dir",
                    str(self.data_dir),
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                    *self.extra_args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        last_err = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"loam exited with code {self.proc.returncode} during startup.\n"
                    f"--- log tail ---\n{self.log_tail()}"
                )
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException as e:  # not listening yet
                last_err = e
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError(
            f"loam did not become healthy within {STARTUP_TIMEOUT_S}s ({last_err}).\n"
            f"--- log tail ---\n{self.log_tail()}"
        )

    def stop(self) -> int:
        """SIGTERM, then asserts a graceful exit with status 0 within 10 s."""
        if self.proc is None:
            return 0
        self.http.close()
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self.proc = None
                raise AssertionError(
                    f"loam did not exit within {SHUTDOWN_TIMEOUT_S}s of SIGTERM.\n"
                    f"--- log tail ---\n{self.log_tail()}"
                )
        self.proc = None
        assert proc.returncode == 0, (
            f"loam exited with code {proc.returncode} after SIGTERM (expected 0).\n"
            f"--- log tail ---\n{self.log_tail()}"
        )
        return proc.returncode

    def kill9(self) -> None:
        """Kills the server abruptly (SIGKILL), simulating a crash."""
        self.http.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        self.proc = None

    def health(self) -> bool:
        try:
            return requests.get(self.url + "/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False


def _start_server(data_dir: Path, log_path: Path, extra_args=()) -> LoamServer:
    # A port picked by free_port() can in rare cases be grabbed before loam binds
    # it; retry once on a new port in that case.
    try:
        return LoamServer(data_dir, log_path, extra_args=extra_args).start()
    except RuntimeError as first:
        if "in use" not in str(first).lower():
            raise
        return LoamServer(data_dir, log_path.with_suffix(".retry.log"), extra_args=extra_args).start()


def job_python() -> str:
    """The interpreter training jobs run with (``--python``): this test venv by default,
    so the job scripts find scikit-learn, pandas and mlflow."""
    return os.environ.get("LOAM_JOB_PYTHON") or sys.executable


def training_server_args(job_cpus: int = 8, sandbox: str = "auto", python: str | None = None) -> list[str]:
    """Flags of a server that runs training jobs (and hosts endpoints: captured data is written
    every second, so capture tests wait less)."""
    return ["--python", python or job_python(), "--job-cpus", str(job_cpus), "--sandbox", sandbox,
            "--capture-flush-seconds", "1"]


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The shared Loam server used by most tests (tests use unique names)."""
    base = tmp_path_factory.mktemp("loam-session")
    srv = _start_server(base / "data", base / "loam.log")
    yield srv
    if srv.proc is not None:
        srv.stop()


def _guard_against_crash(srv, label):
    """Restarts a shared server that died before or during a test, failing the test that saw it die."""
    if srv.proc is not None and srv.proc.poll() is not None:  # died earlier, unnoticed
        srv.proc = None
        srv.start()
    yield
    if srv.proc is not None and srv.proc.poll() is not None:
        code = srv.proc.returncode
        srv.proc = None
        tail = srv.log_tail()
        srv.start()
        pytest.fail(
            f"loam ({label}) died during this test with exit code {code}.\n"
            f"--- log tail ---\n{tail}",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _session_server_crash_guard(request):
    """Attributes a crash of the shared server to the test that caused it.

    If the session server died during a test, that test errors at teardown with
    the exit code and log tail, and the server is restarted on the same data dir
    so later tests still run.
    """
    if "server" not in request.fixturenames:
        yield
        return
    yield from _guard_against_crash(request.getfixturevalue("server"), "session server")


@pytest.fixture
def fresh_server(tmp_path):
    """A private Loam server with an empty data dir, for isolation-sensitive tests."""
    srv = _start_server(tmp_path / "data", tmp_path / "loam.log")
    yield srv
    if srv.proc is not None:
        srv.stop()


@pytest.fixture
def loam_server_factory(tmp_path):
    """``loam_server_factory(*extra_args)`` starts a private server with extra flags.

    Each server gets its own data dir under the test's tmp_path; all are stopped (SIGTERM,
    clean exit asserted) at teardown. ``srv.kill9()`` then ``srv.start()`` restarts one on
    the same data dir, port and flags.
    """
    servers: list[LoamServer] = []

    def factory(*extra_args) -> LoamServer:
        base = tmp_path / f"server-{len(servers)}"
        srv = _start_server(base / "data", base / "loam.log", extra_args)
        servers.append(srv)
        return srv

    yield factory
    failures = []
    for srv in servers:
        if srv.proc is not None:
            try:
                srv.stop()
            except AssertionError as e:
                failures.append(e)
    if failures:
        raise failures[0]


@pytest.fixture(scope="session")
def training_server(tmp_path_factory):
    """A shared server that runs training jobs (``training_server_args()``)."""
    base = tmp_path_factory.mktemp("loam-training")
    srv = _start_server(base / "data", base / "loam.log", training_server_args())
    yield srv
    if srv.proc is not None:
        srv.stop()


@pytest.fixture(autouse=True)
def _training_server_crash_guard(request):
    """Like ``_session_server_crash_guard``, for ``training_server``."""
    if "training_server" not in request.fixturenames:
        yield
        return
    yield from _guard_against_crash(request.getfixturevalue("training_server"), "training server")


@pytest.fixture(scope="session")
def sagemaker(training_server):
    """The real boto3 SageMaker client bound to ``training_server``."""
    from sagemaker_helpers import sagemaker_client

    return sagemaker_client(training_server.url)


@pytest.fixture
def api(server) -> Api:
    """``api(method, path, json=None, params=None)`` against /api/2.0/mlflow/ (+ helpers)."""
    return server.api


@pytest.fixture
def ajax(server) -> Api:
    """Same as ``api`` but rooted at /ajax-api/2.0/mlflow/."""
    return server.ajax


@pytest.fixture
def experiment_id(api) -> str:
    """A brand-new experiment on the session server."""
    return api.create_experiment(f"e2e-{uuid.uuid4().hex}")


@pytest.fixture
def run_id(api, experiment_id) -> str:
    """A brand-new active run in a brand-new experiment."""
    return api.create_run(experiment_id, start_time=1_000)["info"]["run_id"]


@pytest.fixture
def tracking_uri(server):
    """Points the mlflow client at the session server; restores state afterwards."""
    import mlflow
    import mlflow.tracking._tracking_service.utils as tracking_utils
    import mlflow.tracking.fluent as fluent

    old_uri = tracking_utils._tracking_uri
    old_env = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID")}
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    mlflow.set_tracking_uri(server.url)
    os.environ["MLFLOW_TRACKING_URI"] = server.url
    try:
        yield server.url
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        fluent._active_experiment_id = None
        mlflow.set_tracking_uri(old_uri)
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def client(tracking_uri):
    """An ``MlflowClient`` bound to the session server."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri)


# ---------------------------------------------------------------------------
# An external S3 store: s3rver behind a Loam server started with --object-store s3
# ---------------------------------------------------------------------------

S3RVER_SCRIPT = REPO_ROOT / "tests" / "node" / "node_modules" / "s3rver" / "bin" / "s3rver.js"
S3RVER_KEY = "S3RVER"  # s3rver's one access key, and its secret


class S3rver:
    """One s3rver process on a free loopback port, its objects under ``directory``."""

    def __init__(self, directory: Path, log_path: Path):
        node = shutil.which("node")
        if node is None or not S3RVER_SCRIPT.is_file():
            # A failure, never a skip (as for the loam binary): a skip would silently drop every
            # test that runs over the external store.
            pytest.fail(f"needs node and s3rver ({S3RVER_SCRIPT}); scripts/setup.sh installs them", pytrace=False)
        self.directory = directory
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [node, str(S3RVER_SCRIPT), "-d", str(directory), "-p", "0", "--address", HOST, "--silent"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log)
        said = b""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and b"\n" not in said.partition(b"listening on")[2]:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                said += chunk
        match = re.search(rb"listening on [\d.]+:(\d+)", said)
        if not match:
            self.stop()
            raise RuntimeError(f"s3rver did not start: {said!r}")
        self.port = int(match.group(1))

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def client(self):
        """boto3 straight to s3rver, past Loam."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id=S3RVER_KEY,
            aws_secret_access_key=S3RVER_KEY, config=Config(retries={"total_max_attempts": 1}))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        self.proc.stdout.close()
        self.log.close()


def external_store_args(store: S3rver) -> list[str]:
    """Flags of a Loam server whose objects live in ``store``."""
    return ["--object-store", "s3", "--s3-endpoint", store.endpoint,
            "--s3-access-key-id", S3RVER_KEY, "--s3-secret-access-key", S3RVER_KEY]


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory):
    base = tmp_path_factory.mktemp("s3rver")
    store = S3rver(base / "objects", base / "s3rver.log")
    yield store
    store.stop()


@pytest.fixture(scope="session")
def s3rver_server(tmp_path_factory, s3rver):
    """A shared Loam server over s3rver (``--object-store s3``)."""
    base = tmp_path_factory.mktemp("loam-s3rver")
    srv = _start_server(base / "data", base / "loam.log", external_store_args(s3rver))
    yield srv
    if srv.proc is not None:
        srv.stop()


def pytest_terminal_summary(terminalreporter):
    """Lists what tests over an external store left unchecked, and why (``store_gap``)."""
    gaps: dict[str, set[str]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == "store_gap":
                    gaps.setdefault(value, set()).add(report.nodeid)
    if gaps:
        terminalreporter.section("checks an external store's stand-in (s3rver) cannot pass, left out")
        for reason, tests in sorted(gaps.items()):
            terminalreporter.write_line(f"{reason} ({len(tests)} test{'s' if len(tests) > 1 else ''})")


# ---------------------------------------------------------------------------
# Failure reporting: attach the server log tail to failed tests.
# ---------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {}) or {}
    servers = [v for v in funcargs.values() if isinstance(v, LoamServer)]
    servers += [v.server for v in funcargs.values() if isinstance(v, Api)]
    if not servers:
        servers = list(_ALL_SERVERS)
    seen = set()
    for srv in servers:
        if id(srv) in seen:
            continue
        seen.add(id(srv))
        report.sections.append(
            (f"loam server log tail ({srv.log_path})", srv.log_tail())
        )
