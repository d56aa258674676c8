"""Endpoint data capture (DataCaptureConfig) end to end with boto3: sampled invocations are written
as SageMaker's capture JSON Lines to ``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/`` in
Loam's S3 store, read back here with boto3's ``s3`` client and compared with what was sent and
answered. The suite's server writes captured data every second (``--capture-flush-seconds 1``), so waits poll
the bucket for up to 30 s.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
import uuid

import numpy as np
import pytest

# pytest fixtures, imported by name so that this module gets its own module-scoped instances
from endpoint_helpers import data, hosting  # noqa: F401
from endpoint_helpers import CSV, JSON, NPY, csv_body, npy_body, raw_invoke, variant
from sagemaker_helpers import expect_client_error

pytestmark = pytest.mark.timeout(240)

KEY_PATTERN = re.compile(r"\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f]{32}\.jsonl")
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def capture_config(hosting, prefix: str, percentage: int, modes=("Input", "Output"), content_types=True) -> dict:
    config = {"EnableCapture": True, "InitialSamplingPercentage": percentage,
              "DestinationS3Uri": f"s3://{hosting.bucket}/{prefix}",
              "CaptureOptions": [{"CaptureMode": m} for m in modes]}
    if content_types:
        config["CaptureContentTypeHeader"] = {"CsvContentTypes": [CSV], "JsonContentTypes": [JSON]}
    return config


def deploy_with_capture(hosting, model: str, capture: dict):
    name = f"e2e-capture-cfg-{uuid.uuid4().hex[:8]}"
    hosting.sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant("AllTraffic", model)],
                                      DataCaptureConfig=capture)
    hosting.configs.append(name)
    ep = hosting.create_endpoint(name)
    ep.desc = hosting.wait_in_service(ep.name)
    return ep


def captured_lines(hosting, prefix: str, endpoint: str, expected: int, timeout: float = 30.0) -> list[tuple[str, dict]]:
    """(key, record) of every captured line, once at least ``expected`` have been written."""
    deadline = time.monotonic() + timeout
    while True:
        resp = hosting.s3.list_objects_v2(Bucket=hosting.bucket, Prefix=f"{prefix}/{endpoint}/")
        lines = []
        for obj in resp.get("Contents", []):
            body = hosting.s3.get_object(Bucket=hosting.bucket, Key=obj["Key"])["Body"].read().decode()
            lines.extend((obj["Key"], json.loads(line)) for line in body.splitlines())
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.5)


@pytest.fixture(scope="module")
def model(hosting, data):
    return hosting.create_model(hosting.upload_model("capture-base", data.base))


def test_every_request_and_answer_is_captured_as_sagemaker_writes_it(hosting, model, data):
    prefix = f"capture-{uuid.uuid4().hex[:8]}"
    ep = deploy_with_capture(hosting, model, capture_config(hosting, prefix, 100))
    summary = ep.desc["DataCaptureConfig"]
    assert summary == {"EnableCapture": True, "CaptureStatus": "Started", "CurrentSamplingPercentage": 100,
                       "DestinationS3Uri": f"s3://{hosting.bucket}/{prefix}"}, summary
    sent = []
    for i in range(4):
        rows = data.x_test[i:i + 2]
        extra = {"InferenceId": f"inference-{i}"} if i == 0 else {}
        inv = hosting.invoke(ep.name, csv_body(rows), content_type=CSV, accept=JSON, **extra)
        sent.append((csv_body(rows), inv.body.decode()))
    npy = npy_body(data.x_test[:3])
    npy_answer = hosting.invoke(ep.name, npy, content_type=NPY, accept=CSV).body

    lines = captured_lines(hosting, prefix, ep.name, 5)
    assert len(lines) == 5, lines
    for key, _ in lines:
        assert key.startswith(f"{prefix}/{ep.name}/AllTraffic/"), key
        assert KEY_PATTERN.fullmatch(key.split("/AllTraffic/", 1)[1]), key
    records = [record for _, record in lines]
    text = [r for r in records if r["captureData"]["endpointInput"]["encoding"] == "CSV"]
    assert len(text) == 4
    assert sorted((r["captureData"]["endpointInput"]["data"], r["captureData"]["endpointOutput"]["data"])
                  for r in text) == sorted(sent)
    for r in text:
        assert r["captureData"]["endpointInput"] == {**r["captureData"]["endpointInput"],
                                                     "observedContentType": CSV, "mode": "INPUT"}
        out = r["captureData"]["endpointOutput"]
        assert out["mode"] == "OUTPUT" and out["encoding"] == "JSON" and out["observedContentType"].startswith(JSON)
        assert r["eventVersion"] == "0" and UUID_PATTERN.fullmatch(r["eventMetadata"]["eventId"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", r["eventMetadata"]["inferenceTime"])
    assert [r["eventMetadata"].get("inferenceId") for r in text if "inferenceId" in r["eventMetadata"]] == ["inference-0"]
    # NPY is in neither list: base64, byte for byte what went over the wire; its CSV answer is text.
    (binary,) = [r for r in records if r["captureData"]["endpointInput"]["encoding"] == "BASE64"]
    assert base64.b64decode(binary["captureData"]["endpointInput"]["data"]) == npy
    assert binary["captureData"]["endpointInput"]["observedContentType"] == NPY
    assert binary["captureData"]["endpointOutput"]["encoding"] == "CSV"
    assert binary["captureData"]["endpointOutput"]["data"] == npy_answer.decode()
    np.testing.assert_allclose(np.loadtxt(io.StringIO(npy_answer.decode())), data.expected[:3], rtol=1e-9)
    hosting.delete_endpoint(ep.name)


def test_sampling_percentage_and_input_only_mode(hosting, model, data):
    """50 %: about half of 200 requests are captured (binomial: 60-140 is over 5 standard
    deviations wide); CaptureMode Input only: no endpointOutput, and no content-type header means
    base64 for everything."""
    prefix = f"capture-half-{uuid.uuid4().hex[:8]}"
    ep = deploy_with_capture(hosting, model, capture_config(hosting, prefix, 50, modes=("Input",), content_types=False))
    body = csv_body(data.x_test[:1])
    for _ in range(200):
        hosting.invoke(ep.name, body, content_type=CSV, accept=JSON)
    time.sleep(2)  # over a flush interval after the last request: everything sampled is written
    lines = captured_lines(hosting, prefix, ep.name, 200, timeout=5)
    assert 60 <= len(lines) <= 140, len(lines)
    for _, record in lines:
        assert set(record["captureData"]) == {"endpointInput"}
        assert record["captureData"]["endpointInput"]["encoding"] == "BASE64"
        assert base64.b64decode(record["captureData"]["endpointInput"]["data"]).decode() == body
    hosting.delete_endpoint(ep.name)


def test_capture_config_is_validated(hosting, model):
    config = capture_config(hosting, "capture-bad", 100)
    expect_client_error(hosting.sm.create_endpoint_config, "ValidationException",
                        EndpointConfigName=f"e2e-bad-{uuid.uuid4().hex[:6]}",
                        ProductionVariants=[variant("AllTraffic", model)],
                        DataCaptureConfig=config | {"InitialSamplingPercentage": 101})
    err = expect_client_error(hosting.sm.create_endpoint_config, "ValidationException",
                              EndpointConfigName=f"e2e-bad-{uuid.uuid4().hex[:6]}",
                              ProductionVariants=[variant("AllTraffic", model)],
                              DataCaptureConfig=config | {"DestinationS3Uri": "s3://Bad_Bucket/x"})
    assert "DestinationS3Uri" in err.response["Error"]["Message"]


def test_header_bytes_that_are_not_utf8_are_captured_replaced(hosting, model, data):
    """An InferenceId that is not UTF-8 (boto3 would not send it; a raw client can): the request
    is served and captured with the bytes replaced, and capture keeps working after it."""
    prefix = f"capture-bytes-{uuid.uuid4().hex[:8]}"
    ep = deploy_with_capture(hosting, model, capture_config(hosting, prefix, 100))
    status, out = raw_invoke(hosting, ep.name, csv_body(data.x_test[:1]).encode(),
                             {"Content-Type": "text/csv", "Accept": JSON, "X-Amzn-SageMaker-Inference-Id": b"id-\xe9"})
    assert status == 200, out
    hosting.invoke(ep.name, csv_body(data.x_test[1:2]), content_type=CSV, accept=JSON, InferenceId="after")
    lines = captured_lines(hosting, prefix, ep.name, 2)
    ids = sorted(record["eventMetadata"].get("inferenceId", "") for _, record in lines)
    assert ids == ["after", "id-\ufffd"], ids
    hosting.delete_endpoint(ep.name)
