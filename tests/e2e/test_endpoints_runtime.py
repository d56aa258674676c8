"""SageMaker hosting, the runtime side: InvokeEndpoint's content types (CSV, JSON, NPY, TF Serving
``instances``), routing by variant weight and TargetVariant, script-mode custom inference code,
payload limits, and the errors an invocation can get (unknown endpoint, a raising handler).

See endpoint_helpers.py for the models, the ``Hosting`` helper and the shared fixtures.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter

import numpy as np
import pytest
from botocore.exceptions import ClientError

# pytest fixtures, imported by name so that this module gets its own module-scoped instances
from endpoint_helpers import custom, data, hosting, served  # noqa: F401
from endpoint_helpers import (
    CSV,
    CUSTOM_MARKER,
    HANDLERS_DIR,
    JSON,
    NPY,
    RAISING_MESSAGE,
    REPACKED_CODE_DIR,
    SEMICOLON_ROWS,
    csv_body,
    model_error,
    npy_body,
    values,
    variant,
)
from sagemaker_helpers import expect_client_error

pytestmark = pytest.mark.timeout(240)


# ---------------------------------------------------------------------------
# Runtime: formats and variants
# ---------------------------------------------------------------------------


def test_csv_in_json_or_csv_out_matches_the_models_predictions(hosting, served, data):
    inv = hosting.invoke(served.name, csv_body(data.x_test), CSV, JSON, TargetVariant="primary")
    assert inv.variant == "primary"
    assert inv.content_type == JSON
    body = json.loads(inv.body)
    assert isinstance(body, list) and len(body) == len(data.x_test), body
    assert np.allclose(np.asarray(body, dtype=float).ravel(), data.expected), (body, data.expected)

    inv = hosting.invoke(served.name, csv_body(data.x_test), CSV, CSV, TargetVariant="primary")
    assert inv.content_type == CSV
    assert len(inv.body.decode().strip().splitlines()) == len(data.x_test), inv.body
    assert np.allclose(values(inv), data.expected), (inv.body, data.expected)


def test_json_and_npy_in_match_the_models_predictions(hosting, served, data):
    inv = hosting.invoke(served.name, json.dumps(data.x_test.tolist()), JSON, JSON, TargetVariant="primary")
    assert inv.content_type == JSON
    body = json.loads(inv.body)
    assert isinstance(body, list), body
    assert np.allclose(np.asarray(body, dtype=float).ravel(), data.expected)

    one = hosting.invoke(served.name, json.dumps([data.x_test[3].tolist()]), JSON, JSON, TargetVariant="primary")
    assert np.allclose(values(one), data.expected[3:4])

    inv = hosting.invoke(served.name, npy_body(data.x_test), NPY, NPY, TargetVariant="primary")
    assert inv.content_type == NPY
    assert np.allclose(values(inv), data.expected)


def test_tf_serving_instances_give_predictions(hosting, served, data):
    request = json.dumps({"instances": data.x_test.tolist()})
    inv = hosting.invoke(served.name, request, JSON, JSON, TargetVariant="secondary")
    assert inv.variant == "secondary"
    body = json.loads(inv.body)
    assert isinstance(body, dict) and list(body) == ["predictions"], body
    assert np.allclose(np.asarray(body["predictions"], dtype=float).ravel(), data.expected_shifted)


def test_traffic_splits_by_variant_weight(hosting, served, data):
    """400 untargeted invocations over weights 3:1; each answer is its own variant's model's."""
    counts = Counter()
    for i in range(400):
        row = i % len(data.x_test)
        inv = hosting.invoke(served.name, csv_body(data.x_test[row]), CSV, JSON)
        assert inv.variant in served.expected, inv.variant
        counts[inv.variant] += 1
        assert np.allclose(values(inv), served.expected[inv.variant][row:row + 1]), (
            f"invocation {i} answered by {inv.variant}: {inv.body!r}")
    share = counts["primary"] / 400
    assert 0.65 <= share <= 0.85, f"primary (weight 3 of 4) got {counts}"
    assert counts["secondary"] > 0, counts


def test_target_variant_routes_every_request_to_it(hosting, served, data):
    for target in ("secondary", "primary"):
        for i in range(15):
            row = i % len(data.x_test)
            inv = hosting.invoke(served.name, csv_body(data.x_test[row]), CSV, JSON, TargetVariant=target)
            assert inv.variant == target
            assert np.allclose(values(inv), served.expected[target][row:row + 1])
    err = expect_client_error(hosting.runtime.invoke_endpoint, "ValidationError", 400,
                              EndpointName=served.name, Body=csv_body(data.x_test[0]), ContentType=CSV,
                              TargetVariant="no-such-variant")
    assert "no-such-variant" in err.response["Error"]["Message"], err.response["Error"]


# ---------------------------------------------------------------------------
# Custom inference code (script mode)
# ---------------------------------------------------------------------------


def test_model_with_code_in_the_archive_describes_its_environment(hosting, custom):
    config = hosting.sm.describe_endpoint_config(EndpointConfigName=custom.config)
    models = {v["VariantName"]: v["ModelName"] for v in config["ProductionVariants"]}
    repack = hosting.sm.describe_model(ModelName=models["repack"])
    env = repack["PrimaryContainer"]["Environment"]
    assert env["SAGEMAKER_PROGRAM"] == "inference.py"
    assert env["SAGEMAKER_SUBMIT_DIRECTORY"] == REPACKED_CODE_DIR
    sourcedir = hosting.sm.describe_model(ModelName=models["sourcedir"])
    assert sourcedir["PrimaryContainer"]["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == custom.sourcedir
    assert sourcedir["PrimaryContainer"]["ModelDataUrl"].startswith("file://")


@pytest.mark.parametrize("target", ["repack", "sourcedir"])
def test_custom_inference_script_reads_its_format_and_sees_custom_attributes(hosting, custom, data, target):
    rows = "\n".join(";".join(repr(float(v)) for v in row) for row in data.x_test)
    attributes = f"trace-id=e2e-{target}, tenant=loam"
    inv = hosting.invoke(custom.name, rows, SEMICOLON_ROWS, JSON, TargetVariant=target,
                         CustomAttributes=attributes)
    assert inv.variant == target
    body = json.loads(inv.body)
    assert body["handler"] == CUSTOM_MARKER, body
    assert body["rows"] == len(data.x_test)
    assert np.allclose(body["predictions"], data.expected), body
    assert body["custom_attributes"] == attributes, body
    # The handler set X-Amzn-SageMaker-Custom-Attributes on its response: boto3 returns it.
    assert inv.custom_attributes == f"echo={attributes}", inv

    plain = json.loads(hosting.invoke(custom.name, json.dumps(data.x_test[:2].tolist()), JSON, JSON,
                                      TargetVariant=target).body)
    assert plain["custom_attributes"] is None, plain
    assert np.allclose(plain["predictions"], data.expected[:2])


def test_default_handlers_refuse_the_custom_format(hosting, served, data):
    """The contrast that shows the custom input_fn is really in the chain: without it the same
    body is an unsupported media type (the worker's 415, reported as a ModelError)."""
    rows = ";".join(repr(float(v)) for v in data.x_test[0])
    err = model_error(hosting.runtime.invoke_endpoint, EndpointName=served.name, Body=rows,
                      ContentType=SEMICOLON_ROWS, Accept=JSON, TargetVariant="primary")
    assert err.response["OriginalStatusCode"] == 415, err.response


# ---------------------------------------------------------------------------
# Limits and errors
# ---------------------------------------------------------------------------


def test_payload_over_6_mb_is_refused_and_5_mb_is_served(hosting, served, data):
    rng = np.random.RandomState(3)
    big = csv_body(rng.uniform(-1, 1, size=(60_000, 4)))
    assert 4 * 1024 * 1024 < len(big) < 6 * 1024 * 1024, len(big)
    inv = hosting.invoke(served.name, big, CSV, JSON, TargetVariant="primary")
    assert len(json.loads(inv.body)) == 60_000

    too_big = big + csv_body(rng.uniform(-1, 1, size=(30_000, 4)))
    assert len(too_big) > 6 * 1024 * 1024
    with pytest.raises(ClientError) as info:
        hosting.runtime_unvalidated.invoke_endpoint(EndpointName=served.name, Body=too_big,
                                                    ContentType=CSV, TargetVariant="primary")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413, info.value.response
    # The endpoint is still fine afterwards.
    inv = hosting.invoke(served.name, csv_body(data.x_test), CSV, JSON, TargetVariant="primary")
    assert np.allclose(values(inv), data.expected)


def test_unknown_endpoint_is_a_validation_error(hosting, data):
    name = f"e2e-missing-{uuid.uuid4().hex[:10]}"
    err = expect_client_error(hosting.runtime.invoke_endpoint, "ValidationError", 400,
                              EndpointName=name, Body=csv_body(data.x_test[0]), ContentType=CSV)
    assert name in err.response["Error"]["Message"], err.response["Error"]
    # A name SageMaker's pattern refuses (botocore percent-encodes it into the path).
    err = expect_client_error(hosting.runtime_unvalidated.invoke_endpoint, "ValidationError", 400,
                              EndpointName="bad_name!", Body=csv_body(data.x_test[0]), ContentType=CSV)
    assert "bad_name!" in err.response["Error"]["Message"], err.response["Error"]


def test_invocation_headers_are_validated_and_unbuilt_features_refused(hosting, served, data):
    body = csv_body(data.x_test[0])
    # Lengths and patterns of botocore's sagemaker-runtime model, with AWS's message.
    err = expect_client_error(hosting.runtime_unvalidated.invoke_endpoint, "ValidationError", 400,
                              EndpointName=served.name, Body=body, ContentType=CSV,
                              CustomAttributes="a" * 1025)
    assert "customAttributes" in err.response["Error"]["Message"], err.response["Error"]
    # Headers that select what Loam's endpoints do not have are refused, naming the member.
    for member, value in (("TargetModel", "model-2.tar.gz"), ("TargetContainerHostname", "second"),
                          ("InferenceComponentName", "component"), ("EnableExplanations", "`true`")):
        err = expect_client_error(hosting.runtime.invoke_endpoint, "ValidationError", 400,
                                  EndpointName=served.name, Body=body, ContentType=CSV, **{member: value})
        assert member in err.response["Error"]["Message"], (member, err.response["Error"])
    # InferenceId only labels captured data: accepted, and the model still answers.
    inv = hosting.invoke(served.name, body, CSV, JSON, TargetVariant="primary", InferenceId="req-1")
    assert inv.variant == "primary"


def test_handler_exception_is_a_model_error(hosting, data):
    """A predict_fn that raises: ModelError (424) with the worker's 500 and the exception's
    message as OriginalStatusCode / OriginalMessage; the endpoint stays InService. The model
    data is a plain absolute path."""
    archive = hosting.local_model("raising", data.base, {"code/inference.py": HANDLERS_DIR / "raising_inference.py"})
    model = hosting.create_model(str(archive.resolve()), environment={
        "SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": REPACKED_CODE_DIR})
    ep = hosting.deploy([variant("only", model)])
    try:
        err = model_error(hosting.runtime.invoke_endpoint, EndpointName=ep.name,
                          Body=csv_body(data.x_test[:2]), ContentType=CSV, Accept=JSON)
        assert err.response["OriginalStatusCode"] == 500, err.response
        assert RAISING_MESSAGE in err.response["OriginalMessage"], err.response
        assert "2 rows" in err.response["OriginalMessage"], err.response
        assert hosting.describe(ep.name)["EndpointStatus"] == "InService"
        # Still answering (with the same error) after a failure: the worker survived it.
        err = model_error(hosting.runtime.invoke_endpoint, EndpointName=ep.name,
                          Body=csv_body(data.x_test[:3]), ContentType=CSV, Accept=JSON)
        assert "3 rows" in err.response["OriginalMessage"], err.response
    finally:
        hosting.delete_endpoint(ep.name)
