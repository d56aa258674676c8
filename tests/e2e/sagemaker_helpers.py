"""Helpers for the SageMaker training-job suites: the real boto3 client against Loam.

Requests are built the way the SageMaker Python SDK builds them for a script-mode
``SKLearn`` estimator (JSON-encoded hyperparameters plus ``sagemaker_program`` and
``sagemaker_submit_directory``), with ``file://`` URIs where SageMaker takes S3 URIs.

``TrainingJobs`` bundles a server, a boto3 client and an output folder: it creates jobs,
follows them (polling with generous time limits, never asserting on durations), reads their
logs and unpacks their artifacts. Its assertion messages carry the job's Describe summary and
log tail.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Callable, Iterable

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

E2E_DIR = Path(__file__).resolve().parent
JOBS_DIR = E2E_DIR / "jobs"
CODE_BUNDLE_DIR = JOBS_DIR / "code_bundle"

REGION = "us-east-1"
# The image the SDK's SKLearn estimator picks for framework_version="1.2-1"; Loam maps every
# image URI to its default runtime (the --python interpreter).
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000"

TERMINAL_STATUSES = ("Completed", "Failed", "Stopped")
# Non-terminal secondary statuses, in the order a job passes through them.
SECONDARY_ORDER = ("Starting", "Downloading", "Training", "Uploading")
TERMINAL_SECONDARY = ("Completed", "Failed", "Stopped", "MaxRuntimeExceeded")
# What the SDK appends to a base job name: -YYYY-MM-DD-HH-MM-SS-mmm.
SDK_TIMESTAMP_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}$")

DEFAULT_TIMEOUT_S = 90.0
POLL_S = 0.1


# ---------------------------------------------------------------------------
# Clients, names, URIs
# ---------------------------------------------------------------------------


def _client(service: str, url: str, **config):
    """A real boto3 client of ``service`` pointed at Loam with dummy credentials. Retries are
    off: a 5xx must surface, not be retried away."""
    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60, **config),
    )


def sagemaker_client(url: str, validate: bool = True):
    """The real boto3 SageMaker client pointed at Loam.

    ``validate=False`` turns off botocore's client-side parameter validation, so that
    requests the client would refuse (a missing required member, a number below its
    minimum) reach the server and exercise *its* validation.
    """
    return _client("sagemaker", url, parameter_validation=validate, connect_timeout=5)


def sagemaker_runtime_client(url: str, validate: bool = True):
    """The real boto3 ``sagemaker-runtime`` client (InvokeEndpoint) pointed at Loam, which serves
    ``POST /endpoints/<name>/invocations`` on the same port."""
    return _client("sagemaker-runtime", url, parameter_validation=validate, connect_timeout=5)


def s3_client(url: str):
    """The real boto3 S3 client against Loam's built-in object store (path-style)."""
    return _client("s3", url, s3={"addressing_style": "path"})


def unique_name(prefix: str) -> str:
    """``<prefix>-<10 hex>``: a valid, collision-free training job name (lower case)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def sdk_job_name(base: str) -> str:
    """``base`` plus the SDK's timestamp suffix, as ``Estimator.fit()`` names jobs."""
    now = dt.datetime.now(dt.timezone.utc)
    return f"{base}-{now:%Y-%m-%d-%H-%M-%S}-{now.microsecond // 1000:03d}"


def default_experiment_name(job_name: str) -> str:
    """The MLflow experiment of a job without ExperimentConfig: the name minus the SDK suffix."""
    return SDK_TIMESTAMP_SUFFIX.sub("", job_name)


def training_job_arn_pattern(name: str) -> re.Pattern:
    return re.compile(rf"arn:aws:sagemaker:{REGION}:\d{{12}}:training-job/{re.escape(name)}")


def sagemaker_arn_pattern(resource: str, name: str) -> re.Pattern:
    """``arn:aws:sagemaker:<region>:<account>:<resource>/<name>``; SageMaker lower-cases the
    names of models, endpoint configs and endpoints in their ARNs."""
    return re.compile(rf"arn:aws:sagemaker:{REGION}:\d{{12}}:{re.escape(resource)}/{re.escape(name.lower())}")


def file_uri(path) -> str:
    return Path(path).resolve().as_uri()


def uri_to_path(uri: str) -> Path:
    assert uri.startswith("file://"), f"expected a file:// URI, got {uri!r}"
    return Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path))


SDK_PYTHON = E2E_DIR.parent.parent / ".venv-sagemaker" / "bin" / "python"


def run_sdk_flow_on_private_server(tmp_path_factory, label: str, flow: Path, timeout: float,
                                   *args: str) -> tuple[dict, str]:
    """run_sdk_flow against a training server of its own, started for the flow and stopped after."""
    from conftest import _start_server, training_server_args

    base = tmp_path_factory.mktemp(label)
    server = _start_server(base / "data", base / "loam.log", training_server_args())
    try:
        return run_sdk_flow(flow, server, base / "flow", timeout, *args)
    finally:
        if server.proc is not None:
            server.stop()


def run_sdk_flow(flow: Path, server, work_dir: Path, timeout: float, *args: str) -> tuple[dict, str]:
    """Runs a client flow (clients/*_flow.py) under .venv-sagemaker, the SDKs reaching ``server``
    through nothing but AWS_ENDPOINT_URL and dummy credentials; returns its last line, a JSON
    summary, and all it printed. A failed flow fails the test with its output and the server's log."""
    assert SDK_PYTHON.exists(), "run scripts/setup.sh: it creates .venv-sagemaker with the SageMaker SDKs"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env.update(AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="x",
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", PYTHONUNBUFFERED="1",
               SAGEMAKER_SUPPRESS_V2_WARNING="1")
    proc = subprocess.run([str(SDK_PYTHON), str(flow), "--work-dir", str(work_dir), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, (
        f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-6000:]}\n--- loam log ---\n{server.log_tail()}"
    )
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout


# ---------------------------------------------------------------------------
# Request building (as the SageMaker Python SDK does)
# ---------------------------------------------------------------------------


def sdk_hyperparameters(
    program: str,
    submit_dir,
    job_name: str | None = None,
    user: dict | None = None,
    raw: dict | None = None,
) -> dict:
    """HyperParameters as the SDK sends them for script mode.

    ``user`` values are JSON-encoded (10 -> "10", "abc" -> "\\"abc\\""); ``raw`` values are
    sent as given (already strings). ``submit_dir`` is sent as given (a path or a URI).
    """
    hps = {key: json.dumps(value) for key, value in (user or {}).items()}
    hps.update(raw or {})
    hps["sagemaker_program"] = json.dumps(program)
    hps["sagemaker_submit_directory"] = json.dumps(str(submit_dir))
    hps["sagemaker_container_log_level"] = "20"
    hps["sagemaker_region"] = json.dumps(REGION)
    if job_name:
        hps["sagemaker_job_name"] = json.dumps(job_name)
    return hps


def channel(name: str, source, uri_style: str = "file", input_mode: str | None = None) -> dict:
    """An S3Prefix channel reading a local folder (``file://`` URI or plain absolute path)."""
    if uri_style == "file":
        uri = file_uri(source)
    elif uri_style == "path":
        uri = str(Path(source).resolve())
    else:
        raise ValueError(uri_style)
    spec = {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "ContentType": "text/csv",
        "CompressionType": "None",
    }
    if input_mode:
        spec["InputMode"] = input_mode
    return spec


def training_job_request(
    name: str,
    program: str,
    output_dir,
    *,
    submit_dir=JOBS_DIR,
    hyperparameters: dict | None = None,
    raw_hyperparameters: dict | None = None,
    channels: Iterable[dict] = (),
    instance_type: str = "local",
    instance_count: int = 1,
    max_runtime: int = 600,
    metric_definitions: list | None = None,
    tags: list | None = None,
    experiment_name: str | None = None,
    environment: dict | None = None,
    input_mode: str = "File",
    image: str = SKLEARN_IMAGE,
) -> dict:
    """Keyword arguments for ``create_training_job`` shaped like the SDK's request."""
    algorithm = {"TrainingImage": image, "TrainingInputMode": input_mode}
    if metric_definitions:
        algorithm["MetricDefinitions"] = metric_definitions
        algorithm["EnableSageMakerMetricsTimeSeries"] = True
    request = {
        "TrainingJobName": name,
        "AlgorithmSpecification": algorithm,
        "RoleArn": ROLE_ARN,
        "OutputDataConfig": {"S3OutputPath": file_uri(output_dir)},
        "ResourceConfig": {
            "InstanceType": instance_type,
            "InstanceCount": instance_count,
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        "HyperParameters": sdk_hyperparameters(
            program, submit_dir, name, hyperparameters, raw_hyperparameters
        ),
        "EnableNetworkIsolation": False,
        "EnableInterContainerTrafficEncryption": False,
        "EnableManagedSpotTraining": False,
    }
    channels = list(channels)
    if channels:
        request["InputDataConfig"] = channels
    if tags:
        request["Tags"] = tags
    if experiment_name:
        request["ExperimentConfig"] = {"ExperimentName": experiment_name}
    if environment:
        request["Environment"] = environment
    return request


# ---------------------------------------------------------------------------
# Data and files
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _job_module(stem: str):
    spec = importlib.util.spec_from_file_location(f"loam_e2e_jobs_{stem}", JOBS_DIR / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_diabetes_csv(out_dir, split: str = "train", shards: int = 1, nested: bool = False) -> list[Path]:
    """CSV files of the diabetes data set (see jobs/make_data.py)."""
    return _job_module("make_data").write_diabetes_csv(out_dir, split=split, shards=shards, nested=nested)


def file_hashes(folder) -> dict[str, str]:
    """{relative path: sha256} of every file below ``folder``."""
    folder = Path(folder)
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def read_tarball(path) -> dict[str, bytes]:
    """{member name without a leading ./: content} of the regular files of a .tar.gz."""
    path = Path(path)
    assert path.is_file(), f"{path} does not exist"
    out = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name
            while name.startswith("./"):
                name = name[2:]
            assert not name.startswith("/") and ".." not in Path(name).parts, (
                f"unsafe member {member.name!r} in {path}"
            )
            if member.isfile():
                out[name] = tar.extractfile(member).read()
    return out


def make_tarball(source_dir, dest) -> Path:
    """A .tar.gz of ``source_dir``'s contents at its root, as the SDK packs sourcedir.tar.gz."""
    source_dir, dest = Path(source_dir), Path(dest)
    with tarfile.open(dest, "w:gz") as tar:
        for path in sorted(source_dir.rglob("*")):
            if "__pycache__" in path.parts:
                continue
            tar.add(path, arcname=str(path.relative_to(source_dir)), recursive=False)
    return dest


def copy_tree(source_dir, dest) -> Path:
    shutil.copytree(source_dir, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return Path(dest)


# ---------------------------------------------------------------------------
# Environment probes
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and can create a sandbox on this machine."""
    binary = shutil.which("bwrap")
    if not binary:
        return False
    try:
        done = subprocess.run(
            [binary, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@functools.lru_cache(maxsize=None)
def python_prefix(python: str) -> str:
    """``sys.prefix`` of an interpreter (identifies a virtualenv)."""
    return subprocess.check_output([python, "-c", "import sys; print(sys.prefix)"], text=True).strip()


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def expect_client_error(call: Callable, code: str, status: int = 400, **kwargs) -> ClientError:
    """Calls ``call(**kwargs)``, asserts a ClientError with that code and HTTP status."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value
    assert err.response["Error"]["Code"] == code, (
        f"expected {code}, got {err.response['Error']!r} for {sorted(kwargs)}"
    )
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status, err.response
    assert isinstance(err.response["Error"].get("Message"), str) and err.response["Error"]["Message"], (
        f"error without a message: {err.response!r}"
    )
    return err


# ---------------------------------------------------------------------------
# Describe helpers
# ---------------------------------------------------------------------------


def transition_statuses(desc: dict) -> list[str]:
    return [t["Status"] for t in desc.get("SecondaryStatusTransitions") or []]


def transition(desc: dict, status: str) -> dict | None:
    for t in desc.get("SecondaryStatusTransitions") or []:
        if t["Status"] == status:
            return t
    return None


def summary(desc: dict) -> str:
    keep = (
        "TrainingJobName",
        "TrainingJobStatus",
        "SecondaryStatus",
        "FailureReason",
        "ModelArtifacts",
        "FinalMetricDataList",
        "SecondaryStatusTransitions",
    )
    return json.dumps({k: desc.get(k) for k in keep if k in desc}, default=str, indent=1)


def assert_transitions_well_formed(desc: dict) -> None:
    """SecondaryStatusTransitions of a finished job tell a consistent story.

    Starts with Starting, ends with the job's SecondaryStatus, no status twice, the
    Starting/Downloading/Training/Uploading ones in that order, every entry has a StartTime,
    every entry but the last an EndTime no earlier than its StartTime, start times never
    decrease.
    """
    ts = desc.get("SecondaryStatusTransitions") or []
    statuses = [t["Status"] for t in ts]
    context = summary(desc)
    assert statuses, f"no SecondaryStatusTransitions: {context}"
    assert statuses[0] == "Starting", context
    assert statuses[-1] == desc["SecondaryStatus"], context
    assert len(set(statuses)) == len(statuses), f"a status repeats: {context}"
    ordered = [s for s in statuses if s in SECONDARY_ORDER]
    assert ordered == sorted(ordered, key=SECONDARY_ORDER.index), context
    for t in ts:
        assert isinstance(t.get("StartTime"), dt.datetime), context
    for t in ts[:-1]:
        assert isinstance(t.get("EndTime"), dt.datetime), f"{t['Status']} has no EndTime: {context}"
        assert t["EndTime"] >= t["StartTime"], context
    for before, after in zip(ts, ts[1:]):
        assert after["StartTime"] >= before["StartTime"], context


def final_metrics(desc: dict) -> dict[str, float]:
    return {m["MetricName"]: m["Value"] for m in desc.get("FinalMetricDataList") or []}


# ---------------------------------------------------------------------------
# MLflow side (REST through the harness's Api helper)
# ---------------------------------------------------------------------------


def experiment_by_name(api, name: str) -> dict | None:
    resp = api("GET", "experiments/get-by-name", params={"experiment_name": name})
    if resp.status_code == 404:
        return None
    assert resp.status_code == 200, resp.text
    return resp.json()["experiment"]


def runs_of_job(api, experiment_id: str, job_name: str) -> list[dict]:
    body = api.search_runs(
        [experiment_id],
        filter=f"tags.`sagemaker.training_job_name` = '{job_name}'",
        run_view_type="ALL",
        max_results=100,
    )
    return body.get("runs", [])


def find_job_run(api, job_name: str, experiment_name: str | None = None) -> dict:
    """The job's one MLflow run, in the expected experiment (asserts both exist)."""
    experiment_name = experiment_name or default_experiment_name(job_name)
    experiment = experiment_by_name(api, experiment_name)
    assert experiment is not None, (
        f"no MLflow experiment named {experiment_name!r} for training job {job_name!r}"
    )
    runs = runs_of_job(api, experiment["experiment_id"], job_name)
    assert len(runs) == 1, (
        f"expected exactly one run tagged sagemaker.training_job_name={job_name} in "
        f"experiment {experiment_name!r}, found {len(runs)}: {runs!r}"
    )
    return runs[0]


def metric_history(api, run_id: str, key: str) -> list[dict]:
    body = api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": key})
    return body.get("metrics", [])


# ---------------------------------------------------------------------------
# Following jobs
# ---------------------------------------------------------------------------


def poll_until(read: Callable[[], dict], predicate: Callable[[dict], bool], failure: Callable[[], str],
               timeout: float, interval: float = POLL_S) -> dict:
    """Calls ``read()`` until ``predicate`` holds for its result, which it returns; after
    ``timeout`` seconds fails the test with ``failure()``."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(failure(), pytrace=False)
        time.sleep(interval)


class TrainingJobs:
    """Creates and follows training jobs on one server, writing output under ``output_dir``."""

    def __init__(self, server, client, output_dir):
        self.server = server
        self.client = client
        self.output_dir = Path(output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.created: list[str] = []

    # -- creating -------------------------------------------------------------

    def request(self, program: str, name: str | None = None, **kwargs) -> dict:
        name = name or unique_name(Path(program).stem.replace("_", "-")[:20])
        kwargs.setdefault("output_dir", self.output_dir)
        output_dir = kwargs.pop("output_dir")
        return training_job_request(name, program, output_dir, **kwargs)

    def create_from(self, request: dict) -> str:
        name = request["TrainingJobName"]
        resp = self.client.create_training_job(**request)
        self.created.append(name)
        assert training_job_arn_pattern(name).fullmatch(resp.get("TrainingJobArn", "")), resp
        return name

    def create(self, program: str, name: str | None = None, **kwargs) -> str:
        """Creates a job running ``program`` from jobs/ (or ``submit_dir``); returns its name."""
        return self.create_from(self.request(program, name, **kwargs))

    # -- reading --------------------------------------------------------------

    def describe(self, name: str) -> dict:
        return self.client.describe_training_job(TrainingJobName=name)

    def logs_response(self, name: str, host: str = "algo-1") -> requests.Response:
        return requests.get(
            f"{self.server.url}/loam/v1/training-jobs/{name}/logs",
            params={"host": host},
            timeout=30,
        )

    def logs(self, name: str, host: str = "algo-1") -> str:
        resp = self.logs_response(name, host)
        assert resp.status_code == 200, (
            f"GET logs of {name} host={host} -> {resp.status_code}: {resp.text[:1000]}"
        )
        return resp.text

    def diagnostics(self, name: str) -> str:
        parts = []
        try:
            parts.append(summary(self.describe(name)))
        except Exception as e:  # noqa: BLE001 - diagnostics only
            parts.append(f"<describe failed: {e}>")
        try:
            resp = self.logs_response(name)
            parts.append(f"--- job log (HTTP {resp.status_code}) ---\n{resp.text[-3000:]}")
        except Exception as e:  # noqa: BLE001
            parts.append(f"<logs failed: {e}>")
        return "\n".join(parts)

    # -- waiting --------------------------------------------------------------

    def wait_for(self, name: str, predicate: Callable[[dict], bool], what: str,
                 timeout: float = DEFAULT_TIMEOUT_S) -> dict:
        """Polls Describe until ``predicate(desc)``; fails with diagnostics after ``timeout``."""
        return poll_until(
            lambda: self.describe(name), predicate,
            lambda: f"training job {name} not {what} within {timeout:.0f}s\n{self.diagnostics(name)}", timeout)

    def wait_terminal(self, name: str, timeout: float = DEFAULT_TIMEOUT_S) -> dict:
        return self.wait_for(
            name, lambda d: d["TrainingJobStatus"] in TERMINAL_STATUSES, "finished", timeout
        )

    def wait_completed(self, name: str, timeout: float = DEFAULT_TIMEOUT_S) -> dict:
        desc = self.wait_terminal(name, timeout)
        assert desc["TrainingJobStatus"] == "Completed", (
            f"training job {name} ended {desc['TrainingJobStatus']}\n{self.diagnostics(name)}"
        )
        return desc

    def wait_log(self, name: str, marker: str, host: str = "algo-1",
                 timeout: float = DEFAULT_TIMEOUT_S) -> str:
        """Waits until the job's log contains ``marker`` (its process is really running)."""
        deadline = time.monotonic() + timeout
        while True:
            resp = self.logs_response(name, host)
            if resp.status_code == 200 and marker in resp.text:
                return resp.text
            desc = self.describe(name)
            if desc["TrainingJobStatus"] in TERMINAL_STATUSES:
                resp = self.logs_response(name, host)
                if resp.status_code == 200 and marker in resp.text:
                    return resp.text
                pytest.fail(
                    f"training job {name} ended before logging {marker!r}\n{self.diagnostics(name)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"training job {name} did not log {marker!r} within {timeout:.0f}s\n"
                    f"{self.diagnostics(name)}",
                    pytrace=False,
                )
            time.sleep(POLL_S)

    def wait_with_waiter(self, name: str, max_attempts: int = 120) -> None:
        """boto3's own waiter (success: Completed or Stopped; failure: Failed)."""
        waiter = self.client.get_waiter("training_job_completed_or_stopped")
        waiter.wait(TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": max_attempts})

    # -- artifacts ------------------------------------------------------------

    def model_tarball(self, desc: dict) -> Path:
        name = desc["TrainingJobName"]
        uri = (desc.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        expected = self.output_dir.resolve() / name / "output" / "model.tar.gz"
        assert uri == expected.as_uri(), f"S3ModelArtifacts {uri!r}, expected {expected.as_uri()!r}"
        return uri_to_path(uri)

    def model_files(self, desc: dict) -> dict[str, bytes]:
        return read_tarball(self.model_tarball(desc))

    def output_files(self, desc: dict) -> dict[str, bytes]:
        path = self.output_dir.resolve() / desc["TrainingJobName"] / "output" / "output.tar.gz"
        return read_tarball(path)

    # -- cleanup --------------------------------------------------------------

    def stop_unfinished(self) -> None:
        """Best effort: stops jobs this helper created that are still running."""
        for name in self.created:
            try:
                if self.describe(name)["TrainingJobStatus"] == "InProgress":
                    self.client.stop_training_job(TrainingJobName=name)
            except Exception:  # noqa: BLE001 - cleanup must not mask the test's outcome
                pass
