"""The SageMaker Python SDK v2 against Loam, run under .venv-sagemaker by test_sagemaker_sdk.py.

    AWS_ENDPOINT_URL=http://127.0.0.1:7070 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
    AWS_DEFAULT_REGION=us-east-1 python sagemaker_sdk_flow.py --work-dir /tmp/flow

Every boto3 client the SDK makes (s3, sagemaker, logs, sts) reaches Loam through
AWS_ENDPOINT_URL; the one exception is STS, which the SDK v2 always addresses at AWS's regional
STS endpoint, so that endpoint is pointed at Loam here (see README's "SageMaker Python SDK").
The flow: default_bucket() (STS + S3), upload_data, an SKLearnProcessor job over two instances
with a ShardedByS3Key input (its reports back with download_data), an SKLearn estimator fit on
the processed data, both jobs followed with logs=True; then the trained model at work: a batch
transform (estimator.transformer(...).transform(..., logs=True)) of new rows, and an endpoint
(estimator.deploy(), predictor.predict, predictor.delete_endpoint()). It prints the logs the SDK
shows and, on its last line, one JSON summary.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
JOBS = HERE / "sdk_jobs"
ROLE = "arn:aws:iam::000000000000:role/Loam"
RAW_FILES = 4
ROWS_PER_FILE = 60
FEATURES = ("rooms", "age", "distance")
NEW_ROWS = 30  # rows of features (no target, no header) for the batch transform
ENDPOINT_ROWS = 8  # of which the first ENDPOINT_ROWS go to the endpoint too


def write_raw_data(raw_dir: Path) -> list[str]:
    """A small regression data set (house prices from three features), in RAW_FILES CSV files."""
    rng = random.Random(11)
    raw_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(RAW_FILES):
        name = f"houses-{i}.csv"
        with open(raw_dir / name, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow([*FEATURES, "target"])
            for _ in range(ROWS_PER_FILE):
                rooms, age, distance = rng.uniform(2, 9), rng.uniform(0, 80), rng.uniform(1, 30)
                price = 50 * rooms - 0.8 * age - 3 * distance + 100 + rng.gauss(0, 5)
                out.writerow([f"{rooms:.4f}", f"{age:.4f}", f"{distance:.4f}", f"{price:.4f}"])
        names.append(name)
    return names


def write_new_rows(new_dir: Path) -> list[list[float]]:
    """Houses the model has not seen: a headerless CSV of features, as batch transform takes it."""
    rng = random.Random(23)
    new_dir.mkdir(parents=True, exist_ok=True)
    rows = [[round(rng.uniform(2, 9), 4), round(rng.uniform(0, 80), 4), round(rng.uniform(1, 30), 4)]
            for _ in range(NEW_ROWS)]
    with open(new_dir / "houses-new.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return rows


class Tee(io.TextIOBase):
    """Writes through to the real stdout and keeps a copy (what the SDK printed)."""

    def __init__(self, out):
        self.out = out
        self.copy = io.StringIO()

    def write(self, text):
        self.copy.write(text)
        return self.out.write(text)

    def flush(self):
        self.out.flush()


def opt_out_of_telemetry(work_dir: Path) -> None:
    """SDK defaults file: no telemetry calls to AWS (Loam runs where AWS may be unreachable)."""
    config = work_dir / "sagemaker-config.yaml"
    config.write_text("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] = str(config)


def s3_keys(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return sorted(keys)


def endpoint_model_name(sm, config_name: str) -> str:
    return sm.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"][0]["ModelName"]


def describe_until_gone(describe, status_key: str | None = None, timeout: float = 30.0) -> str:
    """Calls a Describe* until it fails; returns the error code (or the last status on timeout)."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + timeout
    while True:
        try:
            desc = describe()
        except ClientError as exc:
            return exc.response["Error"]["Code"]
        if time.monotonic() > deadline:
            return desc.get(status_key, "still there") if status_key else "still there"
        time.sleep(0.5)


def start_flow(default_prefix: str):
    """A flow's arguments (--work-dir, --prefix), its work directory made and the SDK pointed at
    Loam: telemetry off, and STS, which the SDK names itself (https://sts.<region>.amazonaws.com,
    overriding AWS_ENDPOINT_URL), sent to Loam's one port too."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--work-dir", required=True, type=Path)
    parser.add_argument("--prefix", default=default_prefix)
    args = parser.parse_args()
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    args.work_dir.mkdir(parents=True, exist_ok=True)
    opt_out_of_telemetry(args.work_dir)
    import sagemaker.session

    sagemaker.session.sts_regional_endpoint = lambda region: endpoint
    return args


def main() -> int:
    args = start_flow("sdk-flow")
    work = args.work_dir

    import boto3
    import sagemaker
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.sklearn.estimator import SKLearn
    from sagemaker.sklearn.processing import SKLearnProcessor

    summary: dict = {"sagemaker": sagemaker.__version__, "boto3": boto3.__version__, "timings": {}}
    started = time.monotonic()

    def lap(name: str) -> None:
        summary["timings"][name] = round(time.monotonic() - started, 1)

    # default_bucket(): STS GetCallerIdentity for the account, then S3 HeadBucket / CreateBucket.
    session = sagemaker.Session()
    bucket = session.default_bucket()
    s3 = session.boto_session.client("s3")
    summary["account"] = session.account_id()
    summary["default_bucket"] = bucket
    summary["bucket_listed"] = bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # A second session finds the bucket in place (the SDK then checks it is the account's own).
    summary["default_bucket_again"] = sagemaker.Session().default_bucket()
    lap("default_bucket")

    # a. Raw CSV files up with upload_data.
    raw_names = write_raw_data(work / "raw")
    raw_uri = session.upload_data(path=str(work / "raw"), bucket=bucket, key_prefix=f"{args.prefix}/raw")
    summary["raw_uri"] = raw_uri
    summary["raw_files"] = raw_names
    summary["raw_keys"] = s3_keys(s3, bucket, f"{args.prefix}/raw/")
    lap("upload_data")

    # b. SKLearnProcessor over two instances, the raw files sharded by key.
    processed = f"s3://{bucket}/{args.prefix}/processed"
    processor = SKLearnProcessor(framework_version="1.2-1", role=ROLE, instance_type="ml.m5.xlarge",
                                 instance_count=2, base_job_name="sdk-preprocess", sagemaker_session=session)
    processor.run(
        code=str(JOBS / "preprocessing.py"),
        inputs=[ProcessingInput(source=raw_uri, destination="/opt/ml/processing/input",
                                s3_data_distribution_type="ShardedByS3Key")],
        outputs=[
            ProcessingOutput(output_name="train", source="/opt/ml/processing/train", destination=f"{processed}/train"),
            ProcessingOutput(output_name="test", source="/opt/ml/processing/test", destination=f"{processed}/test"),
            ProcessingOutput(output_name="report", source="/opt/ml/processing/report",
                             destination=f"{processed}/report"),
        ],
        arguments=["--test-ratio", "0.25"],
        logs=True,
    )
    lap("processing")
    job = processor.latest_job.describe()
    # Each instance's report of what it saw, down with download_data.
    downloaded = session.download_data(path=str(work / "reports"), bucket=bucket,
                                       key_prefix=f"{args.prefix}/processed/report/")
    reports = {}
    for path in sorted(downloaded):
        report = json.loads(Path(path).read_text())
        reports[report["host"]] = report
    summary["processing"] = {
        "job_name": job["ProcessingJobName"],
        "status": job["ProcessingJobStatus"],
        "instance_count": job["ProcessingResources"]["ClusterConfig"]["InstanceCount"],
        "entrypoint": job["AppSpecification"].get("ContainerEntrypoint"),
        "image": job["AppSpecification"]["ImageUri"],
        "inputs": {i["InputName"]: i["S3Input"] for i in job["ProcessingInputs"]},
        "outputs": {o["OutputName"]: o["S3Output"]["S3Uri"] for o in job["ProcessingOutputConfig"]["Outputs"]},
        "output_keys": s3_keys(s3, bucket, f"{args.prefix}/processed/"),
        "reports": reports,
    }

    # c. SKLearn estimator in script mode on the processed train and test sets.
    estimator = SKLearn(
        entry_point=str(JOBS / "train.py"), framework_version="1.2-1", py_version="py3",
        instance_type="ml.m5.xlarge", role=ROLE, base_job_name="sdk-train", sagemaker_session=session,
        hyperparameters={"epochs": 12, "learning-rate": 0.02},
        metric_definitions=[{"Name": "train:loss", "Regex": r"train_loss: ([0-9.]+)"},
                            {"Name": "test:loss", "Regex": r"test_loss: ([0-9.]+)"},
                            {"Name": "test:r2", "Regex": r"test_r2: (-?[0-9.]+)"}],
    )
    estimator.fit({"train": f"{processed}/train", "test": f"{processed}/test"}, logs=True)
    lap("training")
    training = estimator.latest_training_job.describe()
    model_data = estimator.model_data
    local_model = work / "model.tar.gz"
    model_bucket, model_key = model_data[len("s3://"):].split("/", 1)
    s3.download_file(model_bucket, model_key, str(local_model))
    with tarfile.open(local_model) as tar:
        members = sorted(tar.getnames())
    summary["training"] = {
        "job_name": training["TrainingJobName"],
        "status": training["TrainingJobStatus"],
        "image": training["AlgorithmSpecification"]["TrainingImage"],
        "hyperparameters": training["HyperParameters"],
        "channels": {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in training["InputDataConfig"]},
        "final_metrics": {m["MetricName"]: m["Value"] for m in training.get("FinalMetricDataList", [])},
        "model_data": model_data,
        "model_members": members,
        "model_path": str(local_model),
        "source_keys": s3_keys(s3, bucket, f"{training['TrainingJobName']}/source/"),
    }

    # d. Batch transform: the estimator's model (train.py as its inference script) over new rows.
    from sagemaker.s3 import S3Downloader
    from sagemaker.serializers import CSVSerializer

    rows = write_new_rows(work / "transform-in")
    transform_in = session.upload_data(path=str(work / "transform-in"), bucket=bucket,
                                       key_prefix=f"{args.prefix}/transform-in")
    transform_out = f"s3://{bucket}/{args.prefix}/transform-out"
    transformer = estimator.transformer(instance_count=1, instance_type="ml.m5.large", strategy="MultiRecord",
                                        assemble_with="Line", accept="text/csv", output_path=transform_out)
    printed = Tee(sys.stdout)
    with contextlib.redirect_stdout(printed):
        transformer.transform(transform_in, content_type="text/csv", split_type="Line", wait=True, logs=True)
    lap("transform")
    transform = session.describe_transform_job(transformer.latest_transform_job.job_name)
    model = session.sagemaker_client.describe_model(ModelName=transform["ModelName"])
    output_keys = s3_keys(s3, bucket, f"{args.prefix}/transform-out/")
    outputs = {key: S3Downloader.read_file(f"s3://{bucket}/{key}", sagemaker_session=session) for key in output_keys}
    streams = session.boto_session.client("logs").describe_log_streams(
        logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix=transform["TransformJobName"])
    summary["transform"] = {
        "job_name": transform["TransformJobName"],
        "status": transform["TransformJobStatus"],
        "model_name": transform["ModelName"],
        "model_environment": model["PrimaryContainer"].get("Environment", {}),
        "batch_strategy": transform.get("BatchStrategy"),
        "input": transform["TransformInput"],
        "output": transform["TransformOutput"],
        "resources": transform["TransformResources"],
        "input_uri": transform_in,
        "rows": rows,
        "output_keys": output_keys,
        "outputs": outputs,
        "predictions": [float(line) for text in outputs.values() for line in text.splitlines() if line.strip()],
        "log_streams": [s["logStreamName"] for s in streams["logStreams"]],
        "printed": [line for line in printed.copy.getvalue().splitlines() if line.strip()],
    }

    # e. A real-time endpoint: deploy, predict with CSV rows, delete the endpoint and its model.
    # deploy(wait=True) first looks 30 s after CreateEndpoint; the SDK's own waiter polls each second.
    predictor = estimator.deploy(initial_instance_count=1, instance_type="ml.m5.large", wait=False)
    session.wait_for_endpoint(predictor.endpoint_name, poll=1)
    lap("deploy")
    sm = session.sagemaker_client
    try:
        endpoint = sm.describe_endpoint(EndpointName=predictor.endpoint_name)
        model = sm.describe_model(ModelName=endpoint_model_name(sm, endpoint["EndpointConfigName"]))
        predictor.serializer = CSVSerializer()
        predicted = predictor.predict(rows[:ENDPOINT_ROWS])
    finally:
        # The SDK finds the model through the endpoint config, which delete_endpoint() deletes too.
        predictor.delete_model()
        predictor.delete_endpoint()
    lap("endpoint")
    summary["endpoint"] = {
        "endpoint_name": predictor.endpoint_name,
        "status": endpoint["EndpointStatus"],
        "config_name": endpoint["EndpointConfigName"],
        "model_name": model["ModelName"],
        "model_environment": model["PrimaryContainer"].get("Environment", {}),
        "instance_count": endpoint["ProductionVariants"][0]["CurrentInstanceCount"],
        "serializer": type(predictor.serializer).__name__,
        "deserializer": type(predictor.deserializer).__name__,
        "rows": rows[:ENDPOINT_ROWS],
        "predictions": [float(v) for v in predicted.ravel()] if hasattr(predicted, "ravel") else predicted,
        # After delete_endpoint() / delete_model(): what Describe* answers (an error code once gone).
        "after_delete": {
            "endpoint": describe_until_gone(lambda: sm.describe_endpoint(EndpointName=predictor.endpoint_name),
                                            "EndpointStatus"),
            "endpoint_config": describe_until_gone(
                lambda: sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])),
            "model": describe_until_gone(lambda: sm.describe_model(ModelName=model["ModelName"])),
        },
    }
    lap("done")
    # deploy() leaves its progress dots ("---!") without a newline: the summary gets a line of its own.
    print()
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
