"""SageMaker hosting, the control plane: CreateEndpoint's Creating -> InService and the Describe
calls for endpoints, models and endpoint configs; requests SageMaker refuses (ValidationException),
duplicates and missing resources; List* with filters, sorting and pagination; and deleting.

See endpoint_helpers.py for the models, the ``Hosting`` helper and the shared fixtures.
"""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest
from botocore.exceptions import ClientError

# pytest fixtures, imported by name so that this module gets its own module-scoped instances
from endpoint_helpers import data, hosting, served  # noqa: F401
from endpoint_helpers import CSV, JSON, by_variant, csv_body, values, variant
from sagemaker_helpers import ROLE_ARN, SKLEARN_IMAGE, expect_client_error, sagemaker_arn_pattern

pytestmark = pytest.mark.timeout(240)


# ---------------------------------------------------------------------------
# Control plane: create, wait, describe
# ---------------------------------------------------------------------------


def test_endpoint_goes_creating_then_in_service_and_describes_as_sagemaker(hosting, served):
    assert served.first["EndpointStatus"] == "Creating", served.first
    desc = served.desc
    assert desc["EndpointName"] == served.name
    assert desc["EndpointStatus"] == "InService", hosting.diagnostics(served.name)
    assert "FailureReason" not in desc, desc
    assert desc["EndpointConfigName"] == served.config
    # SageMaker lower-cases the name in the ARN.
    assert sagemaker_arn_pattern("endpoint", served.name).fullmatch(desc["EndpointArn"]), desc["EndpointArn"]
    assert desc["EndpointArn"] == served.arn
    assert served.name.lower() in desc["EndpointArn"] and served.name not in desc["EndpointArn"]
    assert isinstance(desc["CreationTime"], dt.datetime)
    assert isinstance(desc["LastModifiedTime"], dt.datetime)
    assert desc["LastModifiedTime"] >= desc["CreationTime"]
    now = dt.datetime.now(dt.timezone.utc)
    assert now - dt.timedelta(minutes=10) < desc["CreationTime"] <= now + dt.timedelta(minutes=1)

    variants = by_variant(desc)
    assert sorted(variants) == ["primary", "secondary"], desc["ProductionVariants"]
    for name, weight in (("primary", 3.0), ("secondary", 1.0)):
        v = variants[name]
        assert v["CurrentWeight"] == pytest.approx(weight), v
        assert v["DesiredWeight"] == pytest.approx(weight), v
        assert v["CurrentInstanceCount"] == 1, v
        assert v["DesiredInstanceCount"] == 1, v


def test_describe_model_and_endpoint_config_echo_the_request(hosting, served):
    base = hosting.sm.describe_model(ModelName=served.base_model)
    assert base["ModelName"] == served.base_model
    assert sagemaker_arn_pattern("model", served.base_model).fullmatch(base["ModelArn"]), base["ModelArn"]
    assert base["PrimaryContainer"]["Image"] == SKLEARN_IMAGE
    assert base["PrimaryContainer"]["ModelDataUrl"] == served.base_uri
    assert base["ExecutionRoleArn"] == ROLE_ARN
    assert isinstance(base["CreationTime"], dt.datetime)

    shifted = hosting.sm.describe_model(ModelName=served.shifted_model)
    assert [c["ModelDataUrl"] for c in shifted["Containers"]] == [served.shifted_uri], shifted
    assert shifted["Containers"][0]["Image"] == SKLEARN_IMAGE

    config = hosting.sm.describe_endpoint_config(EndpointConfigName=served.config)
    assert config["EndpointConfigName"] == served.config
    assert sagemaker_arn_pattern("endpoint-config", served.config).fullmatch(config["EndpointConfigArn"]), config
    assert isinstance(config["CreationTime"], dt.datetime)
    got = {v["VariantName"]: v for v in config["ProductionVariants"]}
    for want in served.variants:
        v = got[want["VariantName"]]
        assert v["ModelName"] == want["ModelName"]
        assert v["InstanceType"] == want["InstanceType"]
        assert v["InitialInstanceCount"] == want["InitialInstanceCount"]
        assert v["InitialVariantWeight"] == pytest.approx(want["InitialVariantWeight"])


# ---------------------------------------------------------------------------
# Validation, errors, listing, deleting
# ---------------------------------------------------------------------------


def _validation_cases(served):
    good_variant = variant("v1", served.base_model)
    return [
        ("create_endpoint bad name", "create_endpoint",
         {"EndpointName": "bad_name!", "EndpointConfigName": served.config}, "bad_name!"),
        ("create_endpoint 64-char name", "create_endpoint",
         {"EndpointName": "e" * 64, "EndpointConfigName": served.config}, None),
        ("create_endpoint without config", "create_endpoint", {"EndpointName": "e2e-no-config"}, None),
        ("create_model bad name", "create_model",
         {"ModelName": "bad_name!", "PrimaryContainer": {"Image": SKLEARN_IMAGE, "ModelDataUrl": served.base_uri}},
         "bad_name!"),
        ("create_endpoint_config bad name", "create_endpoint_config",
         {"EndpointConfigName": "-leading-dash", "ProductionVariants": [good_variant]}, "-leading-dash"),
        ("unknown instance type", "create_endpoint_config",
         {"EndpointConfigName": "e2e-bad-type", "ProductionVariants": [dict(good_variant, InstanceType="ml.bogus.large")]},
         "ml.bogus.large"),
        ("no variants", "create_endpoint_config",
         {"EndpointConfigName": "e2e-no-variants", "ProductionVariants": []}, None),
        ("zero instances", "create_endpoint_config",
         {"EndpointConfigName": "e2e-zero", "ProductionVariants": [dict(good_variant, InitialInstanceCount=0)]}, None),
        ("negative weight", "create_endpoint_config",
         {"EndpointConfigName": "e2e-negative", "ProductionVariants": [dict(good_variant, InitialVariantWeight=-1.0)]},
         None),
        ("bad variant name", "create_endpoint_config",
         {"EndpointConfigName": "e2e-bad-variant", "ProductionVariants": [dict(good_variant, VariantName="bad_variant!")]},
         "bad_variant!"),
        ("bad SortBy", "list_endpoints", {"SortBy": "Bogus"}, "Bogus"),
        ("bad SortOrder", "list_models", {"SortOrder": "Sideways"}, "Sideways"),
        ("bad StatusEquals", "list_endpoints", {"StatusEquals": "Sleeping"}, "Sleeping"),
        ("MaxResults 0", "list_endpoint_configs", {"MaxResults": 0}, None),
        ("MaxResults 101", "list_models", {"MaxResults": 101}, None),
        ("no weights", "update_endpoint_weights_and_capacities",
         {"EndpointName": served.name, "DesiredWeightsAndCapacities": []}, None),
        # Features Loam has not built are refused by name, never accepted and ignored.
        ("network isolation", "create_model",
         {"ModelName": "e2e-isolated", "EnableNetworkIsolation": True,
          "PrimaryContainer": {"Image": SKLEARN_IMAGE, "ModelDataUrl": served.base_uri}}, "EnableNetworkIsolation"),
        ("shadow variants", "create_endpoint_config",
         {"EndpointConfigName": "e2e-shadow", "ProductionVariants": [good_variant],
          "ShadowProductionVariants": [dict(good_variant, VariantName="shadow")]}, "Shadow"),
        ("canary update", "update_endpoint",
         {"EndpointName": served.name, "EndpointConfigName": served.config,
          "DeploymentConfig": {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
              "Type": "CANARY", "WaitIntervalInSeconds": 60, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}}}},
         "CANARY"),
        ("rolling update", "create_endpoint",
         {"EndpointName": "e2e-no-config-rolling", "EndpointConfigName": served.config,
          "DeploymentConfig": {"RollingUpdatePolicy": {
              "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 60}}},
         "RollingUpdatePolicy"),
    ]


def test_invalid_requests_are_validation_exceptions(hosting, served):
    """Requests botocore would refuse (or would not check) reach the server unvalidated; the
    server answers SageMaker's ValidationException (HTTP 400) and creates nothing."""
    problems = []
    for label, op, kwargs, mentioned in _validation_cases(served):
        try:
            getattr(hosting.unvalidated, op)(**kwargs)
            problems.append(f"{label}: accepted")
            continue
        except ClientError as e:
            error, status = e.response["Error"], e.response["ResponseMetadata"]["HTTPStatusCode"]
        if error.get("Code") != "ValidationException" or status != 400:
            problems.append(f"{label}: {status} {error}")
        elif mentioned and mentioned not in error.get("Message", ""):
            problems.append(f"{label}: message does not show the value {mentioned!r}: {error}")
    assert not problems, "\n".join(problems)
    listed = [e["EndpointName"] for e in hosting.sm.list_endpoints(NameContains="e2e-no-config")["Endpoints"]]
    assert listed == []


def test_duplicates_and_missing_resources(hosting, served, data):
    def arn_in_message(err, resource, name):
        message = err.response["Error"]["Message"]
        assert sagemaker_arn_pattern(resource, name).search(message), (
            f"message does not name {resource}/{name.lower()}: {message!r}")

    err = expect_client_error(hosting.sm.create_model, "ValidationException", ModelName=served.base_model,
                              PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": served.base_uri},
                              ExecutionRoleArn=ROLE_ARN)
    arn_in_message(err, "model", served.base_model)
    err = expect_client_error(hosting.sm.create_endpoint_config, "ValidationException",
                              EndpointConfigName=served.config, ProductionVariants=served.variants)
    arn_in_message(err, "endpoint-config", served.config)
    err = expect_client_error(hosting.sm.create_endpoint, "ValidationException",
                              EndpointName=served.name, EndpointConfigName=served.config)
    arn_in_message(err, "endpoint", served.name)
    # The failed duplicate changed nothing.
    assert hosting.describe(served.name)["EndpointStatus"] == "InService"

    missing = f"e2e-missing-{uuid.uuid4().hex[:10]}"
    for call, kwargs, resource in (
        (hosting.sm.describe_model, {"ModelName": missing}, "model"),
        (hosting.sm.delete_model, {"ModelName": missing}, "model"),
        (hosting.sm.describe_endpoint_config, {"EndpointConfigName": missing}, "endpoint-config"),
        (hosting.sm.delete_endpoint_config, {"EndpointConfigName": missing}, "endpoint-config"),
        (hosting.sm.describe_endpoint, {"EndpointName": missing}, "endpoint"),
        (hosting.sm.delete_endpoint, {"EndpointName": missing}, "endpoint"),
        (hosting.sm.update_endpoint, {"EndpointName": missing, "EndpointConfigName": served.config}, "endpoint"),
    ):
        err = expect_client_error(call, "ValidationException", **kwargs)
        arn_in_message(err, resource, missing)

    # References to things that do not exist.
    err = expect_client_error(hosting.sm.create_endpoint_config, "ValidationException",
                              EndpointConfigName=f"e2e-dangling-{uuid.uuid4().hex[:8]}",
                              ProductionVariants=[variant("v1", missing)])
    arn_in_message(err, "model", missing)
    err = expect_client_error(hosting.sm.create_endpoint, "ValidationException",
                              EndpointName=f"e2e-dangling-{uuid.uuid4().hex[:8]}", EndpointConfigName=missing)
    arn_in_message(err, "endpoint-config", missing)
    err = expect_client_error(hosting.sm.update_endpoint_weights_and_capacities, "ValidationException",
                              EndpointName=served.name,
                              DesiredWeightsAndCapacities=[{"VariantName": "no-such-variant", "DesiredWeight": 1.0}])
    assert "no-such-variant" in err.response["Error"]["Message"], err.response["Error"]
    # Two variants of one config cannot share a name.
    expect_client_error(hosting.sm.create_endpoint_config, "ValidationException",
                        EndpointConfigName=f"e2e-twice-{uuid.uuid4().hex[:8]}",
                        ProductionVariants=[variant("same", served.base_model), variant("same", served.base_model)])
    assert hosting.describe(served.name)["EndpointStatus"] == "InService"


def _all_pages(call, key, **kwargs) -> list[dict]:
    items, token = [], None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items += page[key]
        token = page.get("NextToken")
        if not token:
            return items


def _check_listing(call, key, name_field, names, token, creation_order):
    """NameContains, SortBy Name/CreationTime both ways, the default order and pagination."""
    def listed(**kwargs):
        return [s[name_field] for s in call(NameContains=token, **kwargs)[key]]

    assert listed(SortBy="Name", SortOrder="Ascending") == sorted(names)
    assert listed(SortBy="Name", SortOrder="Descending") == sorted(names, reverse=True)
    summaries = call(NameContains=token, SortBy="CreationTime", SortOrder="Ascending")[key]
    assert sorted(s[name_field] for s in summaries) == sorted(names)
    times = [s["CreationTime"] for s in summaries]
    assert times == sorted(times), summaries
    # The default order is CreationTime, newest first.
    summaries = call(NameContains=token)[key]
    times = [s["CreationTime"] for s in summaries]
    assert times == sorted(times, reverse=True), summaries
    created = {s[name_field]: s["CreationTime"] for s in summaries}
    assert created[creation_order[0]] == times[-1] and created[creation_order[-1]] == times[0], summaries

    first = call(NameContains=token, SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert [s[name_field] for s in first[key]] == sorted(names)[:2]
    assert first.get("NextToken"), first
    second = call(NameContains=token, SortBy="Name", SortOrder="Ascending", MaxResults=2,
                  NextToken=first["NextToken"])
    assert [s[name_field] for s in second[key]] == sorted(names)[2:]
    assert not second.get("NextToken"), second
    everything = _all_pages(call, key, MaxResults=1, NameContains=token)
    assert sorted(s[name_field] for s in everything) == sorted(names)

    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    assert listed(CreationTimeAfter=future) == []
    assert sorted(listed(CreationTimeBefore=future)) == sorted(names)


def test_list_and_delete_models_configs_and_endpoints(hosting, served, data):
    token = uuid.uuid4().hex[:10]
    order = ["b", "a", "c"]
    models = [hosting.create_model(served.base_uri, name=f"e2e-list-{token}-{s}") for s in order]
    _check_listing(hosting.sm.list_models, "Models", "ModelName", models, token, models)
    summaries = hosting.sm.list_models(NameContains=token)["Models"]
    assert sorted(s["ModelName"] for s in summaries) == sorted(models)  # (the ARN loop below is not empty)
    for summary in summaries:
        assert sagemaker_arn_pattern("model", summary["ModelName"]).fullmatch(summary["ModelArn"]), summary

    configs = [hosting.create_config([variant("v1", models[0])], name=f"e2e-list-cfg-{token}-{s}") for s in order]
    _check_listing(hosting.sm.list_endpoint_configs, "EndpointConfigs", "EndpointConfigName", configs,
                   f"cfg-{token}", configs)
    summaries = hosting.sm.list_endpoint_configs(NameContains=token)["EndpointConfigs"]
    assert sorted(s["EndpointConfigName"] for s in summaries) == sorted(configs)
    for summary in summaries:
        assert sagemaker_arn_pattern("endpoint-config", summary["EndpointConfigName"]).fullmatch(
            summary["EndpointConfigArn"]), summary

    endpoints = [hosting.create_endpoint(configs[i], name=f"e2e-list-ep-{token}-{s}").name
                 for i, s in enumerate(order[:2])]
    for name in endpoints:
        hosting.wait_in_service(name)
    summaries = hosting.sm.list_endpoints(NameContains=f"ep-{token}", SortBy="Name", SortOrder="Ascending")["Endpoints"]
    assert [s["EndpointName"] for s in summaries] == sorted(endpoints)
    for s in summaries:
        assert s["EndpointStatus"] == "InService", s
        assert sagemaker_arn_pattern("endpoint", s["EndpointName"]).fullmatch(s["EndpointArn"]), s
        assert isinstance(s["CreationTime"], dt.datetime) and isinstance(s["LastModifiedTime"], dt.datetime)
    assert sorted(s["EndpointName"] for s in hosting.sm.list_endpoints(
        NameContains=token, StatusEquals="InService")["Endpoints"]) == sorted(endpoints)
    assert hosting.sm.list_endpoints(NameContains=token, StatusEquals="Failed")["Endpoints"] == []
    by_status = hosting.sm.list_endpoints(NameContains=token, SortBy="Status", SortOrder="Descending")["Endpoints"]
    assert sorted(s["EndpointName"] for s in by_status) == sorted(endpoints)
    first = hosting.sm.list_endpoints(NameContains=token, SortBy="Name", SortOrder="Descending", MaxResults=1)
    assert [s["EndpointName"] for s in first["Endpoints"]] == [max(endpoints)] and first.get("NextToken")

    # As on SageMaker, a running endpoint keeps serving after its model and config are deleted.
    for name in configs:
        hosting.sm.delete_endpoint_config(EndpointConfigName=name)
        expect_client_error(hosting.sm.describe_endpoint_config, "ValidationException", EndpointConfigName=name)
    for name in models:
        hosting.sm.delete_model(ModelName=name)
        expect_client_error(hosting.sm.describe_model, "ValidationException", ModelName=name)
    assert hosting.sm.list_models(NameContains=token)["Models"] == []
    assert hosting.sm.list_endpoint_configs(NameContains=token)["EndpointConfigs"] == []
    inv = hosting.invoke(endpoints[0], csv_body(data.x_test), CSV, JSON)
    assert np.allclose(values(inv), data.expected)

    for name in endpoints:
        hosting.sm.delete_endpoint(EndpointName=name)
    for name in endpoints:
        hosting.wait_deleted(name)
    assert hosting.sm.list_endpoints(NameContains=token)["Endpoints"] == []
