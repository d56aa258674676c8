"""Helpers for the SageMaker hosting suites (``test_endpoints_*.py``): models, endpoint configs,
endpoints and InvokeEndpoint through the real boto3 clients, as SageMaker defines them
(botocore's ``sagemaker`` and ``sagemaker-runtime`` service models).

Everything runs on the shared ``training_server`` (its ``--python`` is this virtualenv, which has
scikit-learn, numpy and joblib for the endpoint workers), except the restart case, which needs a
private server. The models are real: a scikit-learn LinearRegression fitted here on fixed
synthetic data, ``joblib.dump``-ed to ``model.joblib`` and packed as ``model.tar.gz`` into
Loam's built-in S3 store with boto3's ``s3`` client (plus one packed by a real training job);
every prediction an endpoint returns is compared with the model's own ``predict`` here.

Endpoints that only serve read-only cases are shared per module (``served``, ``custom``); cases
that change or break an endpoint deploy their own, and delete it when done. Instances are
``ml.t2.medium`` (one CPU in Loam's scheduler) and few. Waits use boto3's waiters with
``Delay=1`` or bounded polling loops; nothing sleeps blindly.

The module-scoped fixtures (``data``, ``hosting``, ``served``, ``custom``) live here and are
imported by name into each test module, so each module gets its own instances (and deletes
what it deployed when it ends).
"""

from __future__ import annotations

import copy
import http.client
import io
import json
import os
import tarfile
import time
import types
import uuid
from pathlib import Path
from urllib.parse import urlparse

import joblib
import numpy as np
import pytest
from botocore.exceptions import ClientError, WaiterError
from sklearn.linear_model import LinearRegression

from sagemaker_helpers import (
    E2E_DIR,
    ROLE_ARN,
    SKLEARN_IMAGE,
    expect_client_error,
    s3_client,
    sagemaker_arn_pattern,
    sagemaker_client,
    sagemaker_runtime_client,
)

HANDLERS_DIR = E2E_DIR / "handlers"
INSTANCE_TYPE = "ml.t2.medium"
OFFSET = 1000.0  # the "shifted" model predicts exactly this much more than the base one
WAIT_ATTEMPTS = 120  # endpoint_in_service / endpoint_deleted polls, one a second
RECOVERY_S = 30.0
CSV = "text/csv"
JSON = "application/json"
NPY = "application/x-npy"
SEMICOLON_ROWS = "text/x-semicolon-rows"  # only custom_inference.py reads it
CUSTOM_MARKER = "custom-inference"
RAISING_MESSAGE = "deliberate failure in predict_fn"
BROKEN_MODEL_FN_MESSAGE = "deliberate model_fn failure"
# What the SageMaker SDK puts in a framework model's Environment for script mode.
SDK_ENV = {"SAGEMAKER_CONTAINER_LOG_LEVEL": "20", "SAGEMAKER_REGION": "us-east-1"}
# The SDK's "repack" layout: inference code inside model.tar.gz under code/.
REPACKED_CODE_DIR = "/opt/ml/model/code"


# ---------------------------------------------------------------------------
# Data and models
# ---------------------------------------------------------------------------


def synthetic_data():
    """Fixed data: y = 3 x0 - 2 x1 + 0.5 x2 + 7 x3 + 10 + small noise; 8 held-out rows."""
    rng = np.random.RandomState(7)
    x = rng.uniform(-1.0, 1.0, size=(200, 4))
    y = x @ np.array([3.0, -2.0, 0.5, 7.0]) + 10.0 + rng.normal(0.0, 0.05, size=200)
    x_test = rng.uniform(-1.0, 1.0, size=(8, 4)).round(6)
    return x, y, x_test


def shifted_copy(model, offset=OFFSET):
    """The same regression with its intercept moved: every prediction is ``offset`` higher."""
    other = copy.deepcopy(model)
    other.intercept_ = other.intercept_ + offset
    return other


def csv_body(rows) -> str:
    """Rows as SageMaker's CSV serializer sends them: no header, full-precision floats."""
    return "\n".join(",".join(repr(float(v)) for v in row) for row in np.atleast_2d(rows)) + "\n"


def npy_body(rows) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(rows, dtype=np.float64), allow_pickle=False)
    return buffer.getvalue()


def model_archive(dest: Path, model, code: dict[str, Path] | None = None) -> Path:
    """model.tar.gz with ``model.joblib`` at its root and ``code`` as {archive name: file}."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_suffix(".joblib-staging")
    joblib.dump(model, staging)
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(staging, arcname="model.joblib")
        for arcname, path in (code or {}).items():
            tar.add(path, arcname=arcname)
    staging.unlink()
    return dest


def source_archive(dest: Path, files: dict[str, Path]) -> Path:
    """sourcedir.tar.gz as the SageMaker SDK packs ``source_dir``: the files at its root."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        for arcname, path in files.items():
            tar.add(path, arcname=arcname)
    return dest


# ---------------------------------------------------------------------------
# Worker processes (found through /proc: no psutil)
# ---------------------------------------------------------------------------


def _proc_read(pid: int, what: str) -> str:
    try:
        with open(f"/proc/{pid}/{what}", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _argv(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _proc_cwd(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def _ppid(pid: int) -> int:
    stat = _proc_read(pid, "stat")
    try:
        return int(stat.rpartition(")")[2].split()[1])
    except (IndexError, ValueError):
        return 0


def _mentions(pid: int, needle: str) -> bool:
    text = " ".join((_proc_read(pid, "cmdline"), _proc_read(pid, "environ"), _proc_cwd(pid)))
    return needle in text.lower()


def _is_worker(argv: list[str]) -> bool:
    """``<python> -m loam_inference`` itself, not a launcher whose arguments name it (the
    ``loam _supervise ... -- python -m loam_inference`` supervisor, bubblewrap)."""
    if not argv or os.path.basename(argv[0]) == "bwrap" or "_supervise" in argv:
        return False
    return any(a == "-m" and b == "loam_inference" for a, b in zip(argv, argv[1:]))


def worker_pids(endpoint_name: str) -> set[int]:
    """Live ``python -m loam_inference`` processes serving ``endpoint_name``.

    A worker belongs to the endpoint when its command line, environment or working directory,
    or one of its three nearest ancestors' (the supervisor, a sandbox), names the endpoint
    (Loam runs each instance in ``<data>/endpoints/<endpoint>/...``). Children of a worker
    (should a worker fork) are not counted as instances.
    """
    needle = endpoint_name.lower()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or not _is_worker(_argv(int(entry))):
            continue
        pid = ancestor = int(entry)
        for _ in range(4):
            if ancestor <= 1:
                break
            if _mentions(ancestor, needle):
                found.add(pid)
                break
            ancestor = _ppid(ancestor)
    return {pid for pid in found if _ppid(pid) not in found}


def wait_worker_count(endpoint_name: str, expected: int, timeout: float = RECOVERY_S) -> set[int]:
    deadline = time.monotonic() + timeout
    while True:
        pids = worker_pids(endpoint_name)
        if len(pids) == expected or time.monotonic() > deadline:
            return pids
        time.sleep(0.2)


# ---------------------------------------------------------------------------
# The hosting helper
# ---------------------------------------------------------------------------


def variant(name: str, model: str, weight: float = 1.0, count: int = 1,
            instance_type: str = INSTANCE_TYPE) -> dict:
    """One ProductionVariant, as the SDK's ``production_variant()`` builds it."""
    return {"VariantName": name, "ModelName": model, "InitialInstanceCount": count,
            "InstanceType": instance_type, "InitialVariantWeight": weight}


def by_variant(desc: dict) -> dict[str, dict]:
    return {v["VariantName"]: v for v in desc.get("ProductionVariants") or []}


class Hosting:
    """Models, configs and endpoints on one server; remembers what it made, deletes it at the end."""

    def __init__(self, server, workdir: Path):
        self.server = server
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.connect()
        self.bucket = f"e2e-hosting-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.models: list[str] = []
        self.configs: list[str] = []
        self.endpoints: list[str] = []

    def connect(self) -> None:
        """(Re)creates the clients: after a server restart, pooled connections are stale."""
        self.sm = sagemaker_client(self.server.url)
        self.unvalidated = sagemaker_client(self.server.url, validate=False)
        self.runtime = sagemaker_runtime_client(self.server.url)
        self.runtime_unvalidated = sagemaker_runtime_client(self.server.url, validate=False)
        self.s3 = s3_client(self.server.url)

    # -- artifacts ------------------------------------------------------------

    def upload(self, path: Path, key: str) -> str:
        self.s3.upload_file(str(path), self.bucket, key)
        return f"s3://{self.bucket}/{key}"

    def upload_model(self, label: str, model, code: dict[str, Path] | None = None) -> str:
        """Packs and uploads a model.tar.gz; returns its s3:// URI."""
        archive = model_archive(self.workdir / label / "model.tar.gz", model, code)
        return self.upload(archive, f"models/{label}/model.tar.gz")

    def local_model(self, label: str, model, code: dict[str, Path] | None = None) -> Path:
        """Packs a model.tar.gz on the local disk only (for file:// and absolute-path URLs)."""
        return model_archive(self.workdir / f"local-{label}" / "model.tar.gz", model, code)

    # -- control plane --------------------------------------------------------

    def create_model(self, model_data: str, environment: dict | None = None, name: str | None = None,
                     as_containers: bool = False, client=None) -> str:
        name = name or f"e2e-model-{uuid.uuid4().hex[:10]}"
        container = {"Image": SKLEARN_IMAGE, "ModelDataUrl": model_data}
        if environment:
            container["Environment"] = environment
        request = {"ModelName": name, "ExecutionRoleArn": ROLE_ARN}
        if as_containers:
            request["Containers"] = [container]
        else:
            request["PrimaryContainer"] = container
        resp = (client or self.sm).create_model(**request)
        self.models.append(name)
        assert sagemaker_arn_pattern("model", name).fullmatch(resp.get("ModelArn", "")), resp
        return name

    def create_config(self, variants: list[dict], name: str | None = None) -> str:
        name = name or f"e2e-config-{uuid.uuid4().hex[:10]}"
        resp = self.sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)
        self.configs.append(name)
        assert sagemaker_arn_pattern("endpoint-config", name).fullmatch(
            resp.get("EndpointConfigArn", "")), resp
        return name

    def create_endpoint(self, config: str, name: str | None = None) -> types.SimpleNamespace:
        """CreateEndpoint, plus the Describe right after it (SageMaker answers ``Creating``)."""
        name = name or f"e2e-ep-{uuid.uuid4().hex[:10]}"
        resp = self.sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
        self.endpoints.append(name)
        first = self.sm.describe_endpoint(EndpointName=name)
        return types.SimpleNamespace(name=name, arn=resp.get("EndpointArn"), first=first, config=config)

    def describe(self, endpoint: str) -> dict:
        return self.sm.describe_endpoint(EndpointName=endpoint)

    def diagnostics(self, endpoint: str) -> str:
        try:
            desc = self.describe(endpoint)
            keep = ("EndpointName", "EndpointStatus", "FailureReason", "EndpointConfigName",
                    "ProductionVariants")
            text = json.dumps({k: desc.get(k) for k in keep}, default=str, indent=1)
        except ClientError as e:
            text = f"<describe failed: {e}>"
        return f"{text}\n--- server log tail ---\n{self.server.log_tail(4000)}"

    def _wait(self, waiter: str, endpoint: str, state: str) -> None:
        """One of boto3's endpoint waiters, polling every second; fails the test with the
        endpoint's Describe and the server's log when it gives up."""
        try:
            self.sm.get_waiter(waiter).wait(
                EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": WAIT_ATTEMPTS})
        except WaiterError as e:
            pytest.fail(f"endpoint {endpoint} not {state}: {e}\n{self.diagnostics(endpoint)}", pytrace=False)

    def wait_in_service(self, endpoint: str) -> dict:
        """boto3's ``endpoint_in_service`` waiter (failure: Failed or ValidationException)."""
        self._wait("endpoint_in_service", endpoint, "InService")
        return self.describe(endpoint)

    def deploy(self, variants: list[dict], name: str | None = None) -> types.SimpleNamespace:
        """EndpointConfig + Endpoint, waited InService."""
        config = self.create_config(variants)
        ep = self.create_endpoint(config, name)
        ep.desc = self.wait_in_service(ep.name)
        return ep

    def delete_endpoint(self, endpoint: str, wait: bool = True) -> None:
        self.sm.delete_endpoint(EndpointName=endpoint)
        if wait:
            self.wait_deleted(endpoint)

    def wait_deleted(self, endpoint: str) -> None:
        self._wait("endpoint_deleted", endpoint, "deleted")

    # -- runtime --------------------------------------------------------------

    def invoke(self, endpoint: str, body, content_type: str = CSV, accept: str | None = JSON,
               client=None, **extra) -> types.SimpleNamespace:
        kwargs = {"EndpointName": endpoint, "Body": body, "ContentType": content_type, **extra}
        if accept is not None:
            kwargs["Accept"] = accept
        resp = (client or self.runtime).invoke_endpoint(**kwargs)
        return types.SimpleNamespace(
            variant=resp.get("InvokedProductionVariant"),
            content_type=resp.get("ContentType"),
            custom_attributes=resp.get("CustomAttributes"),
            body=resp["Body"].read(),
            status=resp["ResponseMetadata"]["HTTPStatusCode"],
        )

    # -- cleanup --------------------------------------------------------------

    def cleanup(self) -> None:
        """Best effort: deletes every endpoint (waiting for its workers to go), config and model."""
        if not self.server.running:
            return
        live = []
        for name in self.endpoints:
            try:
                self.sm.delete_endpoint(EndpointName=name)
                live.append(name)
            except Exception:  # noqa: BLE001 - already deleted (or never created)
                pass
        deadline = time.monotonic() + 60
        for name in live:
            while time.monotonic() < deadline:
                try:
                    self.sm.describe_endpoint(EndpointName=name)
                except Exception:  # noqa: BLE001 - gone
                    break
                time.sleep(0.2)
        for name in self.configs:
            try:
                self.sm.delete_endpoint_config(EndpointConfigName=name)
            except Exception:  # noqa: BLE001
                pass
        for name in self.models:
            try:
                self.sm.delete_model(ModelName=name)
            except Exception:  # noqa: BLE001
                pass


def values(inv: types.SimpleNamespace) -> np.ndarray:
    """The predictions of a response, decoded by its ContentType."""
    ct = (inv.content_type or "").split(";")[0].strip()
    if ct == JSON:
        data = json.loads(inv.body)
        if isinstance(data, dict) and "predictions" in data:
            data = data["predictions"]
        return np.asarray(data, dtype=np.float64).ravel()
    if ct == CSV:
        return np.loadtxt(io.StringIO(inv.body.decode()), delimiter=",", ndmin=1).ravel()
    if ct == NPY:
        return np.load(io.BytesIO(inv.body), allow_pickle=False).ravel()
    raise AssertionError(f"unexpected ContentType {inv.content_type!r}: {inv.body[:200]!r}")


def raw_invoke(hosting, endpoint: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    """POSTs /endpoints/<name>/invocations with bytes exactly as given (headers too), past what
    boto3 would send; returns (status, body)."""
    url = urlparse(hosting.server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.putrequest("POST", f"/endpoints/{endpoint}/invocations")
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    out = resp.status, resp.read()
    conn.close()
    return out


def model_error(call, **kwargs) -> ClientError:
    """Asserts InvokeEndpoint fails with ModelError (HTTP 424) and returns the error."""
    err = expect_client_error(call, "ModelError", 424, **kwargs)
    assert "OriginalStatusCode" in err.response, f"ModelError without OriginalStatusCode: {err.response}"
    return err


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    x, y, x_test = synthetic_data()
    base = LinearRegression().fit(x, y)
    shifted = shifted_copy(base)
    return types.SimpleNamespace(
        x=x, y=y, x_test=x_test, base=base, shifted=shifted,
        expected=base.predict(x_test), expected_shifted=shifted.predict(x_test),
    )


@pytest.fixture(scope="module")
def hosting(training_server, tmp_path_factory):
    helper = Hosting(training_server, tmp_path_factory.mktemp("hosting"))
    yield helper
    helper.cleanup()


@pytest.fixture(scope="module")
def served(hosting, data):
    """Two variants with default handlers: ``primary`` (the base model, weight 3, a
    PrimaryContainer) and ``secondary`` (the shifted model, weight 1, given as Containers)."""
    token = uuid.uuid4().hex[:10]
    base_uri = hosting.upload_model("base", data.base)
    shifted_uri = hosting.upload_model("shifted", data.shifted)
    base_model = hosting.create_model(base_uri, name=f"E2E-Base-{token}")
    shifted_model = hosting.create_model(shifted_uri, name=f"e2e-shifted-{token}", as_containers=True)
    variants = [variant("primary", base_model, weight=3.0), variant("secondary", shifted_model, weight=1.0)]
    config = hosting.create_config(variants, name=f"E2E-Served-Config-{token}")
    ep = hosting.create_endpoint(config, name=f"E2E-Served-{token}")
    ep.desc = hosting.wait_in_service(ep.name)
    ep.variants = variants
    ep.base_model, ep.shifted_model = base_model, shifted_model
    ep.base_uri, ep.shifted_uri = base_uri, shifted_uri
    ep.expected = {"primary": data.expected, "secondary": data.expected_shifted}
    return ep


@pytest.fixture(scope="module")
def custom(hosting, data):
    """custom_inference.py two ways, as the SageMaker SDK deploys script-mode models:

    - ``repack``: the code inside model.tar.gz under ``code/``, SAGEMAKER_SUBMIT_DIRECTORY
      ``/opt/ml/model/code`` (the SDK's repack layout); model data on s3://;
    - ``sourcedir``: a plain model.tar.gz given as a ``file://`` URL, the code in an s3://
      ``sourcedir.tar.gz`` named by SAGEMAKER_SUBMIT_DIRECTORY.
    """
    script = HANDLERS_DIR / "custom_inference.py"
    repacked = hosting.upload_model("repacked", data.base, {"code/inference.py": script})
    repack_model = hosting.create_model(repacked, environment={
        "SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": REPACKED_CODE_DIR, **SDK_ENV})
    sourcedir = hosting.upload(
        source_archive(hosting.workdir / "custom-src" / "sourcedir.tar.gz", {"inference.py": script}),
        "code/custom/sourcedir.tar.gz")
    plain = hosting.local_model("custom-plain", data.base)
    sourcedir_model = hosting.create_model(plain.resolve().as_uri(), environment={
        "SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": sourcedir, **SDK_ENV})
    ep = hosting.deploy([variant("repack", repack_model), variant("sourcedir", sourcedir_model)])
    ep.sourcedir = sourcedir
    return ep
