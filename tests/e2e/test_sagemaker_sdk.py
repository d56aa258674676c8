"""The SageMaker Python SDK v2, end to end against a real Loam server, from its own virtualenv.

``clients/sagemaker_sdk_flow.py`` runs under ``.venv-sagemaker`` with nothing but
``AWS_ENDPOINT_URL`` and dummy credentials pointing the SDK's boto3 clients at Loam:
``Session().default_bucket()`` (STS + S3), ``upload_data``, an ``SKLearnProcessor`` over two
instances with a ``ShardedByS3Key`` input and ``logs=True``, an ``SKLearn`` estimator's
``fit(..., logs=True)`` on the processed data, then the trained model at work:
``estimator.transformer(...).transform(..., logs=True)`` over a headerless CSV of new rows and
``estimator.deploy()`` + ``predictor.predict`` (CSV in), the training script doubling as the
inference script. The jobs run real scikit-learn (the server's ``--python`` is this suite's
interpreter); the model it trained is loaded back here and its own predictions on the same rows
are what the transform job's ``.out`` object and the endpoint must answer.

The SDK first looks at a job 10 s after creating it, then every 30 s, and at a new endpoint 30 s
after creating it: with jobs that finish within those 10 s the flow takes about 75 s.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest

from sagemaker_helpers import run_sdk_flow_on_private_server

FLOW = Path(__file__).parent / "clients" / "sagemaker_sdk_flow.py"
ACCOUNT = "000000000000"
BUCKET = f"sagemaker-us-east-1-{ACCOUNT}"
PREFIX = "sdk-flow"

pytestmark = pytest.mark.timeout(360)


@pytest.fixture(scope="module")
def sdk_flow(tmp_path_factory):
    """Runs the flow once against a private training server; returns (summary, stdout)."""
    return run_sdk_flow_on_private_server(tmp_path_factory, "loam-sdk", FLOW, 330, "--prefix", PREFIX)


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


@pytest.fixture(scope="module")
def trained_model(sdk_flow, tmp_path_factory):
    """The model the training job saved, unpacked from the model.tar.gz the flow downloaded."""
    summary, _ = sdk_flow
    out = tmp_path_factory.mktemp("sdk-model")
    with tarfile.open(summary["training"]["model_path"]) as tar:
        tar.extractall(out, filter="data")
    return out


def local_predictions(trained_model, rows) -> list[float]:
    """What the trained pipeline itself predicts for feature rows (rooms, age, distance)."""
    import joblib
    import pandas as pd

    model = joblib.load(trained_model / "model.joblib")
    return [float(v) for v in model.predict(pd.DataFrame(rows, columns=["rooms", "age", "distance"]))]


def test_model_data_holds_the_trained_model(sdk_flow, trained_model):
    import joblib
    import pandas as pd

    summary, _ = sdk_flow
    training = summary["training"]
    assert training["model_data"] == f"s3://{BUCKET}/{training['job_name']}/output/model.tar.gz"
    assert {"model.joblib", "features.json"} <= set(training["model_members"])
    features = json.loads((trained_model / "features.json").read_text())
    assert features["features"] == ["rooms", "age", "distance"]
    assert features["train_rows"] + features["test_rows"] == 4 * 60
    model = joblib.load(trained_model / "model.joblib")
    rows = pd.DataFrame({"rooms": [3.0, 8.0], "age": [10.0, 10.0], "distance": [5.0, 5.0]})
    cheap, dear = model.predict(rows)
    assert dear - cheap == pytest.approx(50 * 5, rel=0.1)


def test_transformer_from_the_estimator(sdk_flow):
    summary, _ = sdk_flow
    transform, training = summary["transform"], summary["training"]
    assert transform["status"] == "Completed"
    assert re.fullmatch(r"sdk-train-\d{4}(-\d{2}){5}-\d{3}", transform["job_name"]), transform["job_name"]
    assert transform["job_name"] != training["job_name"]
    # The model the SDK created for it: the training job's source, train.py as the inference script.
    env = transform["model_environment"]
    assert env["SAGEMAKER_PROGRAM"] == "train.py"
    assert env["SAGEMAKER_SUBMIT_DIRECTORY"] == f"s3://{BUCKET}/{training['job_name']}/source/sourcedir.tar.gz"
    assert transform["batch_strategy"] == "MultiRecord"
    assert transform["input"] == {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{PREFIX}/transform-in"}},
        "ContentType": "text/csv", "SplitType": "Line"}
    assert transform["output"] == {"S3OutputPath": f"s3://{BUCKET}/{PREFIX}/transform-out", "Accept": "text/csv",
                                   "AssembleWith": "Line"}
    assert transform["resources"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1}
    # One .out object per input object, under the output path with the input's relative key.
    assert transform["output_keys"] == [f"{PREFIX}/transform-out/houses-new.csv.out"]


def test_transform_output_is_the_models_predictions(sdk_flow, trained_model):
    summary, _ = sdk_flow
    transform = summary["transform"]
    rows = transform["rows"]
    assert len(rows) == 30
    (text,) = transform["outputs"].values()
    # AssembleWith Line: one answer per input line, each ending in a newline.
    assert text.endswith("\n") and len(text.splitlines()) == len(rows)
    assert transform["predictions"] == pytest.approx(local_predictions(trained_model, rows), rel=1e-9)


def test_transform_logs_followed_through_cloudwatch(sdk_flow):
    summary, stdout = sdk_flow
    transform = summary["transform"]
    job = transform["job_name"]
    streams = transform["log_streams"]
    assert len(streams) == 1 and re.fullmatch(rf"{re.escape(job)}/algo-1-\d+", streams[0]), streams
    # The batch driver's per-file line, as transform(logs=True) printed it from the CloudWatch
    # Logs API: all 30 records in one MultiRecord request.
    per_file = re.compile(r"loam_inference\.batch: houses-new\.csv: 30 records in 1 requests "
                          r"-> houses-new\.csv\.out \(\d+ bytes")
    assert per_file.search(stdout), stdout[-3000:]
    printed = transform["printed"]
    assert any(per_file.search(line) for line in printed), printed
    # The model server (same stream) imported train.py and loaded the model with its model_fn.
    assert any("handlers model_fn" in line for line in printed), printed
    assert any("(user model_fn)" in line for line in printed), printed


def test_deploy_and_predict(sdk_flow, trained_model):
    summary, _ = sdk_flow
    endpoint, training = summary["endpoint"], summary["training"]
    assert endpoint["status"] == "InService"
    assert re.fullmatch(r"sdk-train-\d{4}(-\d{2}){5}-\d{3}", endpoint["endpoint_name"]), endpoint
    assert endpoint["config_name"] == endpoint["model_name"] == endpoint["endpoint_name"]
    assert endpoint["instance_count"] == 1
    env = endpoint["model_environment"]
    assert env["SAGEMAKER_PROGRAM"] == "train.py"
    assert env["SAGEMAKER_SUBMIT_DIRECTORY"] == f"s3://{BUCKET}/{training['job_name']}/source/sourcedir.tar.gz"
    # CSV rows in (CSVSerializer), NPY back (the SKLearnPredictor's NumpyDeserializer).
    assert (endpoint["serializer"], endpoint["deserializer"]) == ("CSVSerializer", "NumpyDeserializer")
    rows = endpoint["rows"]
    assert len(rows) == 8
    assert endpoint["predictions"] == pytest.approx(local_predictions(trained_model, rows), rel=1e-9)
    # The same model answers the same rows the same way in batch and in real time.
    assert endpoint["predictions"] == pytest.approx(summary["transform"]["predictions"][:len(rows)], rel=1e-12)


def test_delete_endpoint_and_model(sdk_flow):
    summary, _ = sdk_flow
    # predictor.delete_model() and delete_endpoint(): every Describe* then says it is gone.
    assert summary["endpoint"]["after_delete"] == {"endpoint": "ValidationException",
                                                   "endpoint_config": "ValidationException",
                                                   "model": "ValidationException"}
