"""STS GetCallerIdentity over the AWS Query protocol, through the real boto3 ``sts`` client.

The SageMaker Python SDK asks STS for the account (``Session.default_bucket()`` names its
bucket ``sagemaker-<region>-<account>``); Loam answers as the root of account 000000000000.
Form-encoded ``POST /`` goes to STS; every other ``POST /`` still reaches S3.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def sts_client(url: str, **kwargs):
    return boto3.session.Session().client(
        "sts",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        **kwargs,
    )


def query_error(resp: requests.Response, status: int, code: str) -> str:
    """Asserts the Query protocol's ErrorResponse and returns its message."""
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(resp.content)
    assert root.tag == STS_NS + "ErrorResponse", resp.text
    error = root.find(STS_NS + "Error")
    assert error.findtext(STS_NS + "Type") == "Sender"
    assert error.findtext(STS_NS + "Code") == code, resp.text
    assert root.findtext(STS_NS + "RequestId") == resp.headers["x-amzn-RequestId"]
    return error.findtext(STS_NS + "Message")


def test_get_caller_identity(server):
    identity = sts_client(server.url).get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    assert identity["UserId"] == "000000000000"
    request_id = identity["ResponseMetadata"]["RequestId"]
    assert len(request_id) == 36 and request_id.count("-") == 4
    assert identity["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == request_id


def test_get_caller_identity_through_aws_endpoint_url(server, monkeypatch):
    """AWS_ENDPOINT_URL alone sends boto3's STS client to Loam, as the SDK set-up relies on."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    sts = boto3.session.Session(region_name="eu-west-1").client("sts")
    assert sts.get_caller_identity()["Account"] == "000000000000"


def test_unknown_action_is_invalid_action(server):
    resp = requests.post(server.url + "/", data="Action=AssumeRole&Version=2011-06-15&RoleArn=x", headers=FORM,
                         timeout=10)
    assert query_error(resp, 400, "InvalidAction") == "Could not find operation AssumeRole for version 2011-06-15"

    # boto3 reads the same error into ClientError.
    sts = sts_client(server.url)
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/x", RoleSessionName="loam-test")
    assert err.value.response["Error"]["Code"] == "InvalidAction"
    assert err.value.response["Error"]["Type"] == "Sender"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_other_version_is_invalid_action(server):
    resp = requests.post(server.url + "/", data="Action=GetCallerIdentity&Version=2010-01-01", headers=FORM,
                         timeout=10)
    assert "for version 2010-01-01" in query_error(resp, 400, "InvalidAction")


def test_missing_action_or_version(server):
    resp = requests.post(server.url + "/", data="Version=2011-06-15", headers=FORM, timeout=10)
    assert query_error(resp, 400, "MissingAction") == "The request must contain the parameter Action."
    resp = requests.post(server.url + "/", data="", headers=FORM, timeout=10)
    query_error(resp, 400, "MissingAction")
    resp = requests.post(server.url + "/", data="Action=GetCallerIdentity", headers=FORM, timeout=10)
    assert query_error(resp, 400, "MissingParameter") == "The request must contain the parameter Version."


def test_oversized_form_is_refused_in_query_shape(server):
    resp = requests.post(server.url + "/", data="Action=GetCallerIdentity&Version=2011-06-15&x=" + "a" * 200_000,
                         headers=FORM, timeout=10)
    assert resp.status_code == 413
    root = ET.fromstring(resp.content)
    assert root.find(STS_NS + "Error").findtext(STS_NS + "Code") == "RequestEntityTooLarge"


def test_other_posts_to_slash_still_reach_s3(server):
    """Without the form Content-Type, POST / is S3's (which allows no POST on the service)."""
    resp = requests.post(server.url + "/", data="Action=GetCallerIdentity&Version=2011-06-15",
                         headers={"Content-Type": "application/xml"}, timeout=10)
    assert resp.status_code == 405
    assert "<Code>MethodNotAllowed</Code>" in resp.text
    # And GET / is still S3's ListBuckets.
    resp = requests.get(server.url + "/", timeout=10)
    assert resp.status_code == 200
    assert "ListAllMyBucketsResult" in resp.text


def test_the_account_sts_names_owns_every_bucket(server):
    """default_bucket()'s check: HeadBucket with ExpectedBucketOwner = STS's account passes, another fails."""
    account = sts_client(server.url).get_caller_identity()["Account"]
    s3 = boto3.session.Session().client("s3", endpoint_url=server.url, region_name="us-east-1",
                                        aws_access_key_id="x", aws_secret_access_key="x",
                                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    bucket = f"sts-owner-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        with pytest.raises(ClientError) as err:
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner="111122223333")
        assert err.value.response["Error"]["Code"] == "403"
        with pytest.raises(ClientError) as err:
            s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner="111122223333")
        assert err.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        s3.delete_bucket(Bucket=bucket)
