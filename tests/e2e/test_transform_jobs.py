"""SageMaker batch transform end to end with boto3: CreateTransformJob / Describe / List / Stop.

Each job runs the model server an endpoint would run (``python -m loam_inference`` from this
suite's virtualenv, the training server's ``--python``) under ``loam_inference.batch``, which
splits and batches the input objects the way SageMaker's batch agent does. Inputs are uploaded
to Loam's S3 API with boto3 and outputs read back from it; every prediction in an ``.out``
object is compared with the scikit-learn model's own ``predict`` on the same rows.

See endpoint_helpers.py for the models and the ``Hosting`` helper.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import uuid

import boto3
import numpy as np
import pytest
import requests

# pytest fixtures, imported by name so that this module gets its own module-scoped instances
from endpoint_helpers import data, hosting  # noqa: F401
from endpoint_helpers import (
    CSV,
    HANDLERS_DIR,
    RAISING_MESSAGE,
    REPACKED_CODE_DIR,
    csv_body,
    worker_pids,
)
from sagemaker_helpers import expect_client_error, sagemaker_arn_pattern

pytestmark = pytest.mark.timeout(240)

JSONLINES = "application/jsonlines"
DONE = ("Completed", "Failed", "Stopped")
TRANSFORM_INSTANCE = "ml.m5.large"  # ml.t2 types are for endpoints only


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def job_name(label: str) -> str:
    return f"e2e-transform-{label}-{uuid.uuid4().hex[:8]}"


def transform_request(name: str, model: str, input_uri: str, output_uri: str, *, split: str = "Line",
                      content_type: str = CSV, accept: str | None = CSV, assemble: str = "Line",
                      instances: int = 1, data_type: str = "S3Prefix", **extra) -> dict:
    transform_input = {"DataSource": {"S3DataSource": {"S3DataType": data_type, "S3Uri": input_uri}},
                       "ContentType": content_type, "SplitType": split}
    output = {"S3OutputPath": output_uri, "AssembleWith": assemble}
    if accept:
        output["Accept"] = accept
    return {"TransformJobName": name, "ModelName": model, "TransformInput": transform_input,
            "TransformOutput": output,
            "TransformResources": {"InstanceType": TRANSFORM_INSTANCE, "InstanceCount": instances}, **extra}


def wait_done(hosting, name: str, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        desc = hosting.sm.describe_transform_job(TransformJobName=name)
        if desc["TransformJobStatus"] in DONE:
            return desc
        if time.monotonic() > deadline:
            pytest.fail(f"transform job {name} still {desc['TransformJobStatus']} after {timeout:.0f}s\n"
                        f"--- server log ---\n{hosting.server.log_tail(4000)}", pytrace=False)
        time.sleep(0.3)


def completed(hosting, name: str) -> dict:
    desc = wait_done(hosting, name)
    assert desc["TransformJobStatus"] == "Completed", (
        f"{desc.get('FailureReason')}\n--- job log ---\n{job_log(hosting, name)}")
    return desc


def job_log(hosting, name: str, host: str = "algo-1") -> str:
    """The instance's captured output, from Loam's log endpoint."""
    resp = requests.get(f"{hosting.server.url}/loam/v1/transform-jobs/{name}/logs", params={"host": host}, timeout=30)
    return resp.text


def read_object(hosting, key: str) -> bytes:
    return hosting.s3.get_object(Bucket=hosting.bucket, Key=key)["Body"].read()


def output_keys(hosting, prefix: str) -> list[str]:
    resp = hosting.s3.list_objects_v2(Bucket=hosting.bucket, Prefix=prefix)
    return sorted(o["Key"] for o in resp.get("Contents", []))


def predictions(body: bytes) -> np.ndarray:
    return np.loadtxt(io.StringIO(body.decode()), delimiter=",", ndmin=1).ravel()


def put(hosting, key: str, body: bytes) -> str:
    hosting.s3.put_object(Bucket=hosting.bucket, Key=key, Body=body)
    return f"s3://{hosting.bucket}/{key}"


@pytest.fixture(scope="module")
def rows(data):
    """300 rows to transform and the model's own predictions for them."""
    x = np.random.RandomState(11).uniform(-1.0, 1.0, size=(300, 4)).round(6)
    return x, data.base.predict(x)


@pytest.fixture(scope="module")
def base_model(hosting, data):
    return hosting.create_model(hosting.upload_model("transform-base", data.base))


# ---------------------------------------------------------------------------
# Splitting, batching, assembling
# ---------------------------------------------------------------------------


def test_multi_record_csv_gives_one_out_object_per_input(hosting, base_model, rows):
    """Three CSV objects (one in a sub-prefix), SplitType Line, MultiRecord, AssembleWith Line:
    one ``<key>.out`` per input under S3OutputPath, each line the model's prediction for the
    same line of its input; the job is listed and described as SageMaker does."""
    x, expected = rows
    token = uuid.uuid4().hex[:8]
    parts = {"a.csv": x[:100], "b.csv": x[100:250], "nested/c.csv": x[250:]}
    for name, part in parts.items():
        put(hosting, f"in-{token}/{name}", csv_body(part).encode())
    name = job_name("multi")
    output = f"s3://{hosting.bucket}/out-{token}"
    resp = hosting.sm.create_transform_job(**transform_request(
        name, base_model, f"s3://{hosting.bucket}/in-{token}", output, BatchStrategy="MultiRecord",
        MaxPayloadInMB=1, MaxConcurrentTransforms=2))
    assert sagemaker_arn_pattern("transform-job", name).fullmatch(resp["TransformJobArn"]), resp
    first = hosting.sm.describe_transform_job(TransformJobName=name)
    assert first["TransformJobStatus"] in ("InProgress", "Completed")
    desc = completed(hosting, name)
    assert desc["ModelName"] == base_model and desc["BatchStrategy"] == "MultiRecord"
    assert desc["TransformOutput"]["S3OutputPath"] == output
    assert desc["CreationTime"] <= desc["TransformStartTime"] <= desc["TransformEndTime"]
    assert "_loam" not in desc and "FailureReason" not in desc

    assert output_keys(hosting, f"out-{token}/") == sorted(f"out-{token}/{n}.out" for n in parts)
    offset = 0
    for name_, part in parts.items():
        got = predictions(read_object(hosting, f"out-{token}/{name_}.out"))
        np.testing.assert_allclose(got, expected[offset:offset + len(part)], rtol=1e-9, atol=1e-9)
        offset += len(part)

    listed = hosting.sm.list_transform_jobs(NameContains=name[len("e2e-transform-"):], StatusEquals="Completed")
    summaries = listed["TransformJobSummaries"]
    assert [s["TransformJobName"] for s in summaries] == [name], listed
    assert summaries[0]["TransformJobArn"] == resp["TransformJobArn"]
    log = job_log(hosting, name)
    assert "a.csv: 100 records" in log and "nested/c.csv: 50 records" in log, log


def test_single_record_json_lines_one_request_per_record(hosting, base_model, rows):
    """SingleRecord: every line is its own request, so a JSON Lines input answered as JSON Lines
    gives one output line per input line, in order (four requests in flight at a time)."""
    x, expected = rows
    token = uuid.uuid4().hex[:8]
    body = "".join(json.dumps(list(r)) + "\n" for r in x[:40]).encode()
    put(hosting, f"jl-{token}/rows.jsonl", body)
    name = job_name("single")
    hosting.sm.create_transform_job(**transform_request(
        name, base_model, f"s3://{hosting.bucket}/jl-{token}/rows.jsonl", f"s3://{hosting.bucket}/jl-out-{token}/",
        content_type=JSONLINES, accept=JSONLINES, BatchStrategy="SingleRecord", MaxConcurrentTransforms=4))
    completed(hosting, name)
    lines = read_object(hosting, f"jl-out-{token}/rows.jsonl.out").decode().splitlines()
    assert len(lines) == 40
    np.testing.assert_allclose([json.loads(line) for line in lines], expected[:40], rtol=1e-9)
    assert "rows.jsonl: 40 records in 40 requests" in job_log(hosting, name)


def test_split_none_gzip_and_assemble_none(hosting, base_model, rows):
    """SplitType None sends each (gunzipped) object whole; AssembleWith None writes the answer
    as it came."""
    x, expected = rows
    token = uuid.uuid4().hex[:8]
    put(hosting, f"gz-{token}/part.csv.gz", gzip.compress(csv_body(x[:60]).encode()))
    name = job_name("gzip")
    request = transform_request(name, base_model, f"s3://{hosting.bucket}/gz-{token}/",
                                f"s3://{hosting.bucket}/gz-out-{token}", split="None", assemble="None")
    request["TransformInput"]["CompressionType"] = "Gzip"
    hosting.sm.create_transform_job(**request)
    completed(hosting, name)
    body = read_object(hosting, f"gz-out-{token}/part.csv.gz.out")
    np.testing.assert_allclose(predictions(body), expected[:60], rtol=1e-9)
    assert "part.csv.gz: 1 records in 1 requests" in job_log(hosting, name)


def test_two_instances_share_the_objects_and_have_log_streams(hosting, base_model, rows):
    """InstanceCount 2 deals the four objects across algo-1 and algo-2 (each writes its own
    ``.out``); CloudWatch Logs has one stream per instance under /aws/sagemaker/TransformJobs."""
    x, expected = rows
    token = uuid.uuid4().hex[:8]
    for i in range(4):
        put(hosting, f"two-{token}/part-{i}.csv", csv_body(x[i * 10:(i + 1) * 10]).encode())
    name = job_name("two")
    hosting.sm.create_transform_job(**transform_request(
        name, base_model, f"s3://{hosting.bucket}/two-{token}/", f"s3://{hosting.bucket}/two-out-{token}",
        instances=2, BatchStrategy="MultiRecord"))
    completed(hosting, name)
    for i in range(4):
        got = predictions(read_object(hosting, f"two-out-{token}/part-{i}.csv.out"))
        np.testing.assert_allclose(got, expected[i * 10:(i + 1) * 10], rtol=1e-9)
    assert "part-0.csv" in job_log(hosting, name, "algo-1") and "part-2.csv" in job_log(hosting, name, "algo-1")
    assert "part-1.csv" in job_log(hosting, name, "algo-2") and "part-3.csv" in job_log(hosting, name, "algo-2")
    logs = boto3.client("logs", endpoint_url=hosting.server.url, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix=name + "/")
    names = sorted(s["logStreamName"].split("/", 1)[1].rsplit("-", 1)[0] for s in streams["logStreams"])
    assert names == ["algo-1", "algo-2"], streams


def test_manifest_file_names_the_objects(hosting, base_model, rows):
    """S3DataType ManifestFile: the objects the manifest lists (and only those), each written
    as ``<its relative name>.out``."""
    x, expected = rows
    token = uuid.uuid4().hex[:8]
    put(hosting, f"mf-{token}/data/one.csv", csv_body(x[:5]).encode())
    put(hosting, f"mf-{token}/data/two.csv", csv_body(x[5:12]).encode())
    put(hosting, f"mf-{token}/data/ignored.csv", b"not,numbers\n")
    manifest = [{"prefix": f"s3://{hosting.bucket}/mf-{token}/data/"}, "two.csv", "one.csv"]
    manifest_uri = put(hosting, f"mf-{token}/input.manifest", json.dumps(manifest).encode())
    name = job_name("manifest")
    hosting.sm.create_transform_job(**transform_request(
        name, base_model, manifest_uri, f"s3://{hosting.bucket}/mf-out-{token}", data_type="ManifestFile"))
    completed(hosting, name)
    assert output_keys(hosting, f"mf-out-{token}/") == [f"mf-out-{token}/one.csv.out", f"mf-out-{token}/two.csv.out"]
    np.testing.assert_allclose(predictions(read_object(hosting, f"mf-out-{token}/two.csv.out")), expected[5:12])


def test_input_filter_join_and_output_filter_associate_ids(hosting, base_model, rows):
    """DataProcessing as SageMaker documents it for CSV with an id column: InputFilter ``$[1:]``
    drops the id before the model sees the row, JoinSource Input appends the prediction to the
    original row, OutputFilter ``$[0,-1]`` keeps the id and the prediction."""
    x, expected = rows
    token = uuid.uuid4().hex[:8]
    lines = [f"id-{i}," + ",".join(repr(float(v)) for v in row) for i, row in enumerate(x[:25])]
    put(hosting, f"dp-{token}/rows.csv", ("\n".join(lines) + "\n").encode())
    name = job_name("join")
    hosting.sm.create_transform_job(**transform_request(
        name, base_model, f"s3://{hosting.bucket}/dp-{token}/", f"s3://{hosting.bucket}/dp-out-{token}",
        BatchStrategy="MultiRecord",
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}))
    completed(hosting, name)
    out = read_object(hosting, f"dp-out-{token}/rows.csv.out").decode().splitlines()
    assert [line.split(",")[0] for line in out] == [f"id-{i}" for i in range(25)]
    np.testing.assert_allclose([float(line.split(",")[1]) for line in out], expected[:25], rtol=1e-9)
    assert all(len(line.split(",")) == 2 for line in out), out[:3]


# ---------------------------------------------------------------------------
# Failures, stop, validation
# ---------------------------------------------------------------------------


def test_handler_that_raises_fails_the_job_naming_the_file(hosting, data):
    """Every request answered 500: retried (InvocationsMaxRetries 1), then the job Fails with a
    ClientError naming the object and records; nothing is written to S3OutputPath."""
    archive = hosting.local_model("transform-raising", data.base,
                                  {"code/inference.py": HANDLERS_DIR / "raising_inference.py"})
    model = hosting.create_model(str(archive.resolve()), environment={
        "SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": REPACKED_CODE_DIR})
    token = uuid.uuid4().hex[:8]
    put(hosting, f"bad-{token}/rows.csv", csv_body(data.x_test).encode())
    name = job_name("raising")
    hosting.sm.create_transform_job(**transform_request(
        name, model, f"s3://{hosting.bucket}/bad-{token}/", f"s3://{hosting.bucket}/bad-out-{token}",
        BatchStrategy="MultiRecord", ModelClientConfig={"InvocationsMaxRetries": 1, "InvocationsTimeoutInSeconds": 30}))
    desc = wait_done(hosting, name)
    assert desc["TransformJobStatus"] == "Failed", desc
    reason = desc["FailureReason"]
    assert reason.startswith("ClientError: ") and "rows.csv" in reason and "500" in reason, reason
    assert RAISING_MESSAGE in reason, reason
    assert "attempt 1 failed" in job_log(hosting, name)
    assert output_keys(hosting, f"bad-out-{token}/") == []
    summary = hosting.sm.list_transform_jobs(NameContains=name[len("e2e-transform-"):])["TransformJobSummaries"][0]
    assert summary["TransformJobStatus"] == "Failed" and summary["FailureReason"] == reason


def test_record_over_max_payload_fails_the_job(hosting, base_model):
    token = uuid.uuid4().hex[:8]
    put(hosting, f"big-{token}/big.csv", b"1.0," * (600 * 1024) + b"1.0\n")
    name = job_name("big")
    hosting.sm.create_transform_job(**transform_request(
        name, base_model, f"s3://{hosting.bucket}/big-{token}/", f"s3://{hosting.bucket}/big-out-{token}",
        BatchStrategy="SingleRecord", MaxPayloadInMB=1))
    desc = wait_done(hosting, name)
    assert desc["TransformJobStatus"] == "Failed"
    assert desc["FailureReason"].startswith("ClientError: a record of ") and "MaxPayloadInMB (1 MB)" in desc["FailureReason"], desc


def test_stop_ends_the_job_and_its_model_server(hosting, data, rows):
    """StopTransformJob on a slow job: Stopping, then Stopped; its processes are gone and no
    output is uploaded. Stopping it again, or a finished job, is a ValidationException."""
    x, _ = rows
    archive = hosting.local_model("transform-slow", data.base,
                                  {"code/inference.py": HANDLERS_DIR / "transform_slow_inference.py"})
    model = hosting.create_model(str(archive.resolve()), environment={
        "SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": REPACKED_CODE_DIR, "SLOW_SECONDS": "0.5"})
    token = uuid.uuid4().hex[:8]
    put(hosting, f"slow-{token}/rows.csv", csv_body(x[:200]).encode())
    name = job_name("stop")
    hosting.sm.create_transform_job(**transform_request(
        name, model, f"s3://{hosting.bucket}/slow-{token}/", f"s3://{hosting.bucket}/slow-out-{token}",
        BatchStrategy="SingleRecord", MaxConcurrentTransforms=1))
    deadline = time.monotonic() + 60
    while not worker_pids(name):  # the job's model server is up: requests are being sent
        if time.monotonic() > deadline:
            pytest.fail(f"no model server for {name}\n{job_log(hosting, name)}")
        time.sleep(0.2)
    hosting.sm.stop_transform_job(TransformJobName=name)
    assert hosting.sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in ("Stopping", "Stopped")
    desc = wait_done(hosting, name, timeout=60)
    assert desc["TransformJobStatus"] == "Stopped", desc
    deadline = time.monotonic() + 15
    while worker_pids(name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not worker_pids(name)
    assert output_keys(hosting, f"slow-out-{token}/") == []
    expect_client_error(hosting.sm.stop_transform_job, "ValidationException", TransformJobName=name)


def test_model_deleted_after_create_is_still_used(hosting, data, rows):
    """The job keeps the model as it was when the job was created."""
    x, expected = rows
    model = hosting.create_model(hosting.upload_model("transform-ephemeral", data.base))
    token = uuid.uuid4().hex[:8]
    put(hosting, f"eph-{token}/rows.csv", csv_body(x[:7]).encode())
    name = job_name("deleted-model")
    hosting.sm.create_transform_job(**transform_request(
        name, model, f"s3://{hosting.bucket}/eph-{token}/", f"s3://{hosting.bucket}/eph-out-{token}"))
    hosting.sm.delete_model(ModelName=model)
    completed(hosting, name)
    np.testing.assert_allclose(predictions(read_object(hosting, f"eph-out-{token}/rows.csv.out")), expected[:7])


def test_requests_are_validated(hosting, base_model):
    bucket = hosting.bucket
    ok = transform_request(job_name("v"), base_model, f"s3://{bucket}/in/", f"s3://{bucket}/out/")
    missing = f"e2e-missing-{uuid.uuid4().hex[:6]}"
    err = expect_client_error(hosting.sm.create_transform_job, "ValidationException", **(ok | {"ModelName": missing}))
    assert err.response["Error"]["Message"] == (
        f'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/{missing}".')
    err = expect_client_error(hosting.sm.create_transform_job, "ValidationException", **(ok | {"MaxPayloadInMB": 101}))
    assert "MaxPayloadInMB must be at most 100" in err.response["Error"]["Message"]
    err = expect_client_error(hosting.sm.create_transform_job, "ValidationException",
                              **(ok | {"MaxPayloadInMB": 30, "MaxConcurrentTransforms": 4}))
    assert "must not exceed 100 MB" in err.response["Error"]["Message"]
    recordio = json.loads(json.dumps(ok))
    recordio["TransformInput"]["SplitType"] = "RecordIO"
    err = expect_client_error(hosting.sm.create_transform_job, "ValidationException", **recordio)
    assert "SplitType RecordIO is not supported" in err.response["Error"]["Message"]
    no_split = json.loads(json.dumps(ok))
    no_split["TransformInput"]["SplitType"] = "None"
    err = expect_client_error(hosting.sm.create_transform_job, "ValidationException",
                              **(no_split | {"DataProcessing": {"JoinSource": "Input"}}))
    assert "needs SplitType Line" in err.response["Error"]["Message"]
    capture = ok | {"DataCaptureConfig": {"DestinationS3Uri": f"s3://{bucket}/capture"}}
    expect_client_error(hosting.sm.create_transform_job, "ValidationException", **capture)
    bad_batch = ok | {"BatchStrategy": "AllRecords"}
    expect_client_error(hosting.unvalidated.create_transform_job, "ValidationException", **bad_batch)
    bad_name = ok | {"TransformJobName": "under_score"}
    expect_client_error(hosting.unvalidated.create_transform_job, "ValidationException", **bad_name)
    unknown = f"e2e-nope-{uuid.uuid4().hex[:6]}"
    err = expect_client_error(hosting.sm.describe_transform_job, "ValidationException", TransformJobName=unknown)
    assert err.response["Error"]["Message"] == f"Could not find requested job with name {unknown}"
    expect_client_error(hosting.sm.stop_transform_job, "ValidationException", TransformJobName=unknown)


def test_duplicate_name_is_resource_in_use(hosting, base_model, rows):
    x, _ = rows
    token = uuid.uuid4().hex[:8]
    put(hosting, f"dup-{token}/rows.csv", csv_body(x[:3]).encode())
    request = transform_request(job_name("dup"), base_model, f"s3://{hosting.bucket}/dup-{token}/",
                                f"s3://{hosting.bucket}/dup-out-{token}")
    hosting.sm.create_transform_job(**request)
    err = expect_client_error(hosting.sm.create_transform_job, "ResourceInUse", **request)
    assert "already exists" in err.response["Error"]["Message"]
    completed(hosting, request["TransformJobName"])


def test_empty_input_prefix_fails_with_client_error(hosting, base_model):
    token = uuid.uuid4().hex[:8]
    name = job_name("empty")
    hosting.sm.create_transform_job(**transform_request(
        name, base_model, f"s3://{hosting.bucket}/nothing-{token}/", f"s3://{hosting.bucket}/nothing-out-{token}"))
    desc = wait_done(hosting, name)
    assert desc["TransformJobStatus"] == "Failed"
    assert desc["FailureReason"].startswith("ClientError: ") and f"nothing-{token}" in desc["FailureReason"], desc
