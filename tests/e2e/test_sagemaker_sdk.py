"""The SageMaker Python SDK v2, end to end against a real Loam server, from its own virtualenv.

``clients/sagemaker_sdk_flow.py`` runs under ``.venv-sagemaker`` with nothing but
``AWS_ENDPOINT_URL`` and dummy credentials pointing the SDK's boto3 clients at Loam:
``Session().default_bucket()`` (STS + S3), ``upload_data``, an ``SKLearnProcessor`` over two
instances with a ``ShardedByS3Key`` input and ``logs=True``, and an ``SKLearn`` estimator's
``fit(..., logs=True)`` on the processed data. The jobs run real scikit-learn (the server's
``--python`` is this suite's interpreter); the model it trained is loaded back here.

The SDK first looks at a job 10 s after creating it, then every 30 s: with jobs that finish
within those 10 s the flow takes about 40 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import training_server_args

REPO = Path(__file__).resolve().parents[2]
SDK_PYTHON = REPO / ".venv-sagemaker" / "bin" / "python"
FLOW = Path(__file__).parent / "clients" / "sagemaker_sdk_flow.py"
ACCOUNT = "000000000000"
BUCKET = f"sagemaker-us-east-1-{ACCOUNT}"
PREFIX = "sdk-flow"

pytestmark = pytest.mark.timeout(360)


@pytest.fixture(scope="module")
def sdk_flow(tmp_path_factory):
    """Runs the flow once against a private training server; returns (summary, stdout)."""
    assert SDK_PYTHON.exists(), "run scripts/setup.sh: it creates .venv-sagemaker with the SageMaker Python SDK"
    from conftest import _start_server

    base = tmp_path_factory.mktemp("loam-sdk")
    server = _start_server(base / "data", base / "loam.log", training_server_args())
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
        env.update(AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="x",
                   AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", PYTHONUNBUFFERED="1",
                   SAGEMAKER_SUPPRESS_V2_WARNING="1")
        proc = subprocess.run([str(SDK_PYTHON), str(FLOW), "--work-dir", str(base / "flow"), "--prefix", PREFIX],
                              capture_output=True, text=True, timeout=330, env=env)
        assert proc.returncode == 0, (
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-6000:]}\n--- loam log ---\n{server.log_tail()}"
        )
        yield json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout
    finally:
        if server.proc is not None:
            server.stop()


def test_default_bucket_through_sts_and_s3(sdk_flow):
    summary, _ = sdk_flow
    assert summary["sagemaker"].startswith("2.")
    assert summary["account"] == ACCOUNT
    assert summary["default_bucket"] == BUCKET
    assert summary["bucket_listed"]
    assert summary["default_bucket_again"] == BUCKET


def test_upload_data(sdk_flow):
    summary, _ = sdk_flow
    assert summary["raw_uri"] == f"s3://{BUCKET}/{PREFIX}/raw"
    assert summary["raw_keys"] == [f"{PREFIX}/raw/{name}" for name in summary["raw_files"]]


def test_processing_job_shards_inputs_across_instances(sdk_flow):
    summary, _ = sdk_flow
    job = summary["processing"]
    assert job["status"] == "Completed"
    assert job["instance_count"] == 2
    assert job["image"].endswith("/sagemaker-scikit-learn:1.2-1-cpu-py3")
    assert job["entrypoint"] == ["python3", "/opt/ml/processing/input/code/preprocessing.py"]
    assert job["inputs"]["input-1"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert job["inputs"]["code"]["S3Uri"].endswith("/input/code/preprocessing.py")

    reports = job["reports"]
    assert sorted(reports) == ["algo-1", "algo-2"]
    # ShardedByS3Key deals the keys, sorted, round-robin: each instance saw exactly its share.
    raw = sorted(summary["raw_files"])
    assert reports["algo-1"]["files"] == raw[0::2]
    assert reports["algo-2"]["files"] == raw[1::2]
    for host, report in reports.items():
        assert report["hosts"] == ["algo-1", "algo-2"], host
        assert report["rows"] == 2 * 60 and report["train_rows"] + report["test_rows"] == report["rows"]


def test_processing_outputs_landed_in_s3(sdk_flow):
    summary, _ = sdk_flow
    job = summary["processing"]
    processed = f"s3://{BUCKET}/{PREFIX}/processed"
    assert job["outputs"] == {"train": f"{processed}/train", "test": f"{processed}/test",
                              "report": f"{processed}/report"}
    assert job["output_keys"] == sorted(f"{PREFIX}/processed/{kind}/{host}.{ext}"
                                        for kind, ext in (("train", "csv"), ("test", "csv"), ("report", "json"))
                                        for host in ("algo-1", "algo-2"))


def test_logs_followed_through_cloudwatch(sdk_flow):
    _, stdout = sdk_flow
    # The SDK prints each instance's log lines as it reads them from the CloudWatch Logs API.
    assert re.search(r"PREPROCESS algo-1: 2 files, 120 rows", stdout), stdout[-3000:]
    assert re.search(r"PREPROCESS algo-2: 2 files, 120 rows", stdout), stdout[-3000:]
    assert "TRAIN saved model" in stdout, stdout[-3000:]
    assert "epoch 11: train_loss:" in stdout


def test_training_job_in_script_mode(sdk_flow):
    summary, _ = sdk_flow
    training = summary["training"]
    assert training["status"] == "Completed"
    job = training["job_name"]
    assert re.fullmatch(r"sdk-train-\d{4}(-\d{2}){5}-\d{3}", job), job
    hps = training["hyperparameters"]
    assert hps["epochs"] == "12" and hps["learning-rate"] == "0.02"
    assert hps["sagemaker_program"] == '"train.py"'
    assert hps["sagemaker_submit_directory"] == f'"s3://{BUCKET}/{job}/source/sourcedir.tar.gz"'
    assert training["source_keys"] == [f"{job}/source/sourcedir.tar.gz"]
    processed = f"s3://{BUCKET}/{PREFIX}/processed"
    assert training["channels"] == {"train": f"{processed}/train", "test": f"{processed}/test"}
    metrics = training["final_metrics"]
    assert set(metrics) == {"train:loss", "test:loss", "test:r2"}
    assert metrics["test:r2"] > 0.9, metrics


def test_model_data_holds_the_trained_model(sdk_flow):
    import joblib
    import pandas as pd

    summary, _ = sdk_flow
    training = summary["training"]
    assert training["model_data"] == f"s3://{BUCKET}/{training['job_name']}/output/model.tar.gz"
    assert {"model.joblib", "features.json"} <= set(training["model_members"])
    out = Path(training["model_path"]).parent / "model"
    with tarfile.open(training["model_path"]) as tar:
        tar.extractall(out, filter="data")
    features = json.loads((out / "features.json").read_text())
    assert features["features"] == ["rooms", "age", "distance"]
    assert features["train_rows"] + features["test_rows"] == 4 * 60
    model = joblib.load(out / "model.joblib")
    rows = pd.DataFrame({"rooms": [3.0, 8.0], "age": [10.0, 10.0], "distance": [5.0, 5.0]})
    cheap, dear = model.predict(rows)
    assert dear - cheap == pytest.approx(50 * 5, rel=0.1)
