"""SageMaker processing jobs through the real boto3 client: inputs staged at their LocalPath
(FullyReplicated and ShardedByS3Key across instances), outputs uploaded from every instance,
the config files SageMaker writes, failure, stop, validation, listing and the MLflow run."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import training_server_args
from sagemaker_helpers import JOBS_DIR, ROLE_ARN, SKLEARN_IMAGE, file_uri, sagemaker_client, write_diabetes_csv

pytestmark = pytest.mark.timeout(240)

TERMINAL = {"Completed", "Failed", "Stopped"}


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def processing_request(name, raw_uri, out_dir, *, instances=1, distribution="FullyReplicated", arguments=()):
    """Shaped as SKLearnProcessor.run sends it (code as an input, python3 entry point)."""
    return {
        "ProcessingJobName": name,
        "ProcessingInputs": [
            {"InputName": "raw", "AppManaged": False,
             "S3Input": {"S3Uri": raw_uri, "LocalPath": "/opt/ml/processing/input/raw", "S3DataType": "S3Prefix",
                         "S3InputMode": "File", "S3DataDistributionType": distribution,
                         "S3CompressionType": "None"}},
            {"InputName": "code", "AppManaged": False,
             "S3Input": {"S3Uri": file_uri(JOBS_DIR / "preprocess.py"), "LocalPath": "/opt/ml/processing/input/code",
                         "S3DataType": "S3Prefix", "S3InputMode": "File",
                         "S3DataDistributionType": "FullyReplicated", "S3CompressionType": "None"}},
        ],
        "ProcessingOutputConfig": {"Outputs": [
            {"OutputName": "train", "AppManaged": False,
             "S3Output": {"S3Uri": file_uri(out_dir / "train"), "LocalPath": "/opt/ml/processing/output/train",
                          "S3UploadMode": "EndOfJob"}},
            {"OutputName": "test", "AppManaged": False,
             "S3Output": {"S3Uri": file_uri(out_dir / "test"), "LocalPath": "/opt/ml/processing/output/test",
                          "S3UploadMode": "EndOfJob"}},
        ]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": instances, "InstanceType": "local",
                                                  "VolumeSizeInGB": 30}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
            "ContainerArguments": ["--input", "/opt/ml/processing/input/raw",
                                   "--train-output", "/opt/ml/processing/output/train",
                                   "--test-output", "/opt/ml/processing/output/test", *arguments],
        },
        "RoleArn": ROLE_ARN,
    }


def wait_terminal(sm, name, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        d = sm.describe_processing_job(ProcessingJobName=name)
        if d["ProcessingJobStatus"] in TERMINAL:
            return d
        assert time.monotonic() < deadline, d
        time.sleep(0.1)


def logs(server, name, host="algo-1"):
    return requests.get(f"{server.url}/loam/v1/processing-jobs/{name}/logs", params={"host": host}, timeout=30).text


@pytest.fixture
def raw_shards(tmp_path):
    folder = tmp_path / "raw"
    write_diabetes_csv(folder, shards=4)
    return folder


def test_sharded_inputs_are_dealt_across_instances_and_outputs_merged(training_server, sagemaker, raw_shards, tmp_path):
    name = unique("prep-sharded")
    out = tmp_path / "out"
    req = processing_request(name, file_uri(raw_shards), out, instances=2, distribution="ShardedByS3Key",
                             arguments=["--test-ratio", "0.2"])
    arn = sagemaker.create_processing_job(**req)["ProcessingJobArn"]
    assert arn.endswith(f":processing-job/{name}")
    d = wait_terminal(sagemaker, name)
    assert d["ProcessingJobStatus"] == "Completed", (d, logs(training_server, name))
    assert d["ProcessingEndTime"] >= d["ProcessingStartTime"] >= d["CreationTime"]
    assert d["ProcessingResources"] == req["ProcessingResources"]
    assert d["AppSpecification"] == req["AppSpecification"]

    manifests = {p.name: json.loads(p.read_text()) for p in (out / "train").glob("*-manifest.json")}
    assert set(manifests) == {"algo-1-manifest.json", "algo-2-manifest.json"}
    dealt = [f for m in manifests.values() for f in m["files"]]
    assert sorted(dealt) == sorted(p.name for p in raw_shards.glob("*.csv"))  # each shard exactly once
    assert all(len(m["files"]) == 2 for m in manifests.values())
    assert sorted(p.name for p in (out / "test").iterdir()) == ["algo-1.csv", "algo-2.csv"]
    assert "host algo-2 of ['algo-1', 'algo-2']" in logs(training_server, name, "algo-2")

    run = requests.post(f"{training_server.url}/api/2.0/mlflow/runs/search", json={
        "experiment_ids": [requests.get(f"{training_server.url}/api/2.0/mlflow/experiments/get-by-name",
                                        params={"experiment_name": name}, timeout=30).json()["experiment"]["experiment_id"]],
    }, timeout=30).json()["runs"][0]
    assert run["info"]["status"] == "FINISHED"
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    assert params["test-ratio"] == "0.2"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["sagemaker.processing_job_arn"] == arn
    assert tags["sagemaker.output.train"] == file_uri(out / "train")
    assert sorted(i["dataset"]["name"] for i in run["inputs"]["dataset_inputs"]) == ["code", "raw"]


def test_fully_replicated_inputs_reach_every_instance(training_server, sagemaker, raw_shards, tmp_path):
    name = unique("prep-replicated")
    out = tmp_path / "out"
    sagemaker.create_processing_job(**processing_request(name, file_uri(raw_shards), out, instances=2))
    assert wait_terminal(sagemaker, name)["ProcessingJobStatus"] == "Completed"
    for host in ("algo-1", "algo-2"):
        manifest = json.loads((out / "train" / f"{host}-manifest.json").read_text())
        assert len(manifest["files"]) == 4


def test_failure_reason_from_the_container_message(training_server, sagemaker, raw_shards, tmp_path):
    name = unique("prep-fail")
    sagemaker.create_processing_job(**processing_request(
        name, file_uri(raw_shards), tmp_path / "out", arguments=["--fail-with", "bad input schema"]))
    d = wait_terminal(sagemaker, name)
    assert d["ProcessingJobStatus"] == "Failed"
    assert d["FailureReason"] == "bad input schema"
    assert not (tmp_path / "out" / "train").exists()  # a failed job uploads nothing


def test_stop_a_running_processing_job(training_server, sagemaker, raw_shards, tmp_path):
    name = unique("prep-stop")
    sagemaker.create_processing_job(**processing_request(
        name, file_uri(raw_shards), tmp_path / "out", arguments=["--sleep", "60"]))
    deadline = time.monotonic() + 60
    while "preprocess.py sleeping" not in logs(training_server, name):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sagemaker.stop_processing_job(ProcessingJobName=name)
    d = wait_terminal(sagemaker, name)
    assert d["ProcessingJobStatus"] == "Stopped"
    with pytest.raises(ClientError) as err:
        sagemaker.stop_processing_job(ProcessingJobName=name)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_validation_duplicates_and_missing_jobs(training_server, sagemaker, raw_shards, tmp_path):
    def rejected(req, code="ValidationException"):
        with pytest.raises(ClientError) as err:
            sagemaker.create_processing_job(**req)
        assert err.value.response["Error"]["Code"] == code, err.value.response
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        return err.value.response["Error"]["Message"]

    good = processing_request(unique("prep-valid"), file_uri(raw_shards), tmp_path / "out")
    bad = json.loads(json.dumps(good))
    bad["ProcessingInputs"][0]["S3Input"]["LocalPath"] = "/etc/passwd-dir"
    assert "/opt/ml/processing/" in rejected(bad)
    bad = json.loads(json.dumps(good))
    del bad["AppSpecification"]["ContainerEntrypoint"]
    assert "ContainerEntrypoint" in rejected(bad)
    bad = json.loads(json.dumps(good))
    bad["ProcessingInputs"][1]["InputName"] = "raw"
    assert "unique" in rejected(bad)
    bad = json.loads(json.dumps(good))
    bad["ProcessingJobName"] = "bad name!"
    assert "processingJobName" in rejected(bad)
    bad = json.loads(json.dumps(good))
    bad["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.nope.large"
    assert "instanceType" in rejected(bad)

    sagemaker.create_processing_job(**good)
    assert "already exists" in rejected(good, "ResourceInUse")
    wait_terminal(sagemaker, good["ProcessingJobName"])
    with pytest.raises(ClientError) as err:
        sagemaker.describe_processing_job(ProcessingJobName=unique("missing"))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == "Requested resource not found."


def test_list_processing_jobs_filters_and_pages(training_server, sagemaker, raw_shards, tmp_path):
    tag = uuid.uuid4().hex[:6]
    names = [f"prep-list-{tag}-{i}" for i in range(3)]
    for n in names:
        sagemaker.create_processing_job(**processing_request(n, file_uri(raw_shards), tmp_path / n))
    for n in names:
        wait_terminal(sagemaker, n)
    page = sagemaker.list_processing_jobs(NameContains=f"prep-list-{tag}", SortBy="Name", SortOrder="Ascending",
                                          MaxResults=2)
    assert [s["ProcessingJobName"] for s in page["ProcessingJobSummaries"]] == names[:2]
    rest = sagemaker.list_processing_jobs(NameContains=f"prep-list-{tag}", SortBy="Name", SortOrder="Ascending",
                                          MaxResults=2, NextToken=page["NextToken"])
    assert [s["ProcessingJobName"] for s in rest["ProcessingJobSummaries"]] == names[2:]
    assert "NextToken" not in rest
    assert all(s["ProcessingJobStatus"] == "Completed" for s in page["ProcessingJobSummaries"])
    done = sagemaker.list_processing_jobs(NameContains=f"prep-list-{tag}", StatusEquals="Failed")
    assert done["ProcessingJobSummaries"] == []


def test_without_the_sandbox_container_paths_point_into_the_job_directory(loam_server_factory, raw_shards, tmp_path):
    srv = loam_server_factory(*training_server_args(sandbox="none"))
    sm = sagemaker_client(srv.url)
    name = unique("prep-nosandbox")
    out = tmp_path / "out"
    sm.create_processing_job(**processing_request(name, file_uri(raw_shards), out, instances=2,
                                                  distribution="ShardedByS3Key"))
    d = wait_terminal(sm, name)
    assert d["ProcessingJobStatus"] == "Completed", (d, logs(srv, name))
    assert sorted(p.name for p in (out / "test").iterdir()) == ["algo-1.csv", "algo-2.csv"]


def s3_client(url):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def test_s3_inputs_and_outputs_go_through_the_object_store(training_server, sagemaker, raw_shards, tmp_path):
    """Raw shards and the code on s3://, sharded over two instances; every output file becomes an
    object with S3's ETag, listed and read back through the S3 API."""
    s3 = s3_client(training_server.url)
    bucket = unique("prep-data")
    s3.create_bucket(Bucket=bucket)
    for shard in sorted(raw_shards.glob("*.csv")):
        s3.upload_file(str(shard), bucket, f"raw/{shard.name}")
    s3.upload_file(str(JOBS_DIR / "preprocess.py"), bucket, "code/preprocess.py")
    name = unique("prep-s3")
    req = processing_request(name, f"s3://{bucket}/raw/", tmp_path / "unused", instances=2,
                             distribution="ShardedByS3Key")
    req["ProcessingInputs"][1]["S3Input"]["S3Uri"] = f"s3://{bucket}/code/preprocess.py"
    for out in req["ProcessingOutputConfig"]["Outputs"]:
        out["S3Output"]["S3Uri"] = f"s3://{bucket}/{name}/{out['OutputName']}"
    sagemaker.create_processing_job(**req)
    d = wait_terminal(sagemaker, name)
    assert d["ProcessingJobStatus"] == "Completed", (d, logs(training_server, name))

    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{name}/")["Contents"]
    keys = sorted(o["Key"] for o in listed)
    assert keys == sorted([f"{name}/test/algo-1.csv", f"{name}/test/algo-2.csv",
                           f"{name}/train/algo-1-manifest.json", f"{name}/train/algo-2-manifest.json",
                           f"{name}/train/algo-1.csv", f"{name}/train/algo-2.csv"])
    dealt = []
    for host in ("algo-1", "algo-2"):
        obj = s3.get_object(Bucket=bucket, Key=f"{name}/train/{host}-manifest.json")
        body = obj["Body"].read()
        assert obj["ETag"] == '"' + __import__("hashlib").md5(body).hexdigest() + '"'
        dealt += json.loads(body)["files"]
    assert sorted(dealt) == sorted(p.name for p in raw_shards.glob("*.csv"))


def test_output_to_a_missing_bucket_fails_the_job_clearly(training_server, sagemaker, raw_shards, tmp_path):
    name = unique("prep-nobucket")
    req = processing_request(name, file_uri(raw_shards), tmp_path / "unused")
    missing = unique("no-such-bucket")
    req["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = f"s3://{missing}/train"
    sagemaker.create_processing_job(**req)
    d = wait_terminal(sagemaker, name)
    assert d["ProcessingJobStatus"] == "Failed"
    assert "train" in d["FailureReason"] and missing in d["FailureReason"], d["FailureReason"]
    # No bucket was made on the fly.
    with pytest.raises(ClientError) as info:
        s3_client(training_server.url).head_bucket(Bucket=missing)
    assert info.value.response["Error"]["Code"] == "404"  # HEAD answers carry no error body
