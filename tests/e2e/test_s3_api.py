"""Loam's S3 REST API (path-style) through the real boto3 ``s3`` client.

Buckets, objects with metadata and checksums, ranges, copies, deletes, listing with the
paginators, multipart uploads (by hand and through boto3's TransferManager), S3's error
codes, the aws-chunked upload encoding, and the object tree shared with training jobs: an
object PUT through S3 is a training job's channel, and the job's model.tar.gz is an object.

Most tests run twice: over Loam's own object store ("local") and over an external S3 store
("s3rver": a Loam server started with ``--object-store s3`` in front of s3rver). What s3rver
cannot do (see S3RVER_GAPS) is checked over the local store only, and listed at the end of the run.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import tarfile
import time
import uuid
import zlib
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from sagemaker_helpers import TrainingJobs, channel, sagemaker_client, training_job_request, unique_name

pytestmark = pytest.mark.timeout(180)

MIB = 1024 * 1024


def s3_client(url: str):
    """The real boto3 S3 client pointed at Loam (retries off: errors must surface)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60),
    )


def new_bucket_name(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def empty_and_delete(s3, bucket: str) -> None:
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        try:
            for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        except ClientError:  # a store without upload listing (s3rver)
            pass
        s3.delete_bucket(Bucket=bucket)
    except ClientError:
        pass


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def expect_s3_error(call, code: str, status: int, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response
    assert err["Error"]["Code"] == code, err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    return info.value


# What s3rver, the external store of these tests, does otherwise than S3: the checks that need
# it run over the local store only, and the end of the run lists them with these reasons.
S3RVER_GAPS = {
    "regions": "s3rver ignores CreateBucket's LocationConstraint: every bucket is in us-east-1",
    "bucket-owned": "s3rver answers BucketAlreadyExists where S3 says BucketAlreadyOwnedByYou",
    "checksums": "s3rver keeps no flexible checksums (x-amz-checksum-*), so reads return none",
    "upload-listing": "s3rver implements neither ListParts, ListMultipartUploads nor AbortMultipartUpload",
    "part-checks": "s3rver completes an upload without checking part order, ETags or sizes",
    "multipart-etag": "s3rver's ETag of a multipart object is its MD5, not S3's '<md5 of part MD5s>-<n>'",
    "upload-part-copy": "s3rver does not implement UploadPartCopy (boto3's managed copy of large objects)",
    "any-key": "s3rver, like S3, takes keys such as 'a//b' that only Loam's file tree refuses",
    "copy-source-plus": "s3rver reads x-amz-copy-source with decodeURI, which keeps %2B: a '+' in the source is lost",
    "nested-prefixes": "s3rver finds a common prefix only through a key directly under it (not models/a/...)",
}


class Backend:
    """A Loam server under test and the object store behind it."""

    def __init__(self, name: str, server, s3rver=None):
        self.name, self.server, self.s3rver = name, server, s3rver


class Store:
    """The backend, for one test: ``keeps(gap)`` says whether the store can be checked for it."""

    def __init__(self, backend: Backend, node):
        self.name, self.server, self._node = backend.name, backend.server, node
        self.direct = backend.s3rver.client() if backend.s3rver else None  # boto3 past Loam

    def keeps(self, gap: str) -> bool:
        if self.name != "s3rver":
            return True
        self._node.user_properties.append(("store_gap", f"{gap}: {S3RVER_GAPS[gap]}"))
        return False


@pytest.fixture(scope="module", params=["local", "s3rver"])
def backend(request) -> Backend:
    if request.param == "local":
        return Backend("local", request.getfixturevalue("server"))
    return Backend("s3rver", request.getfixturevalue("s3rver_server"), request.getfixturevalue("s3rver"))


@pytest.fixture
def store(backend, request) -> Store:
    return Store(backend, request.node)


@pytest.fixture(scope="module")
def s3(backend):
    return s3_client(backend.server.url)


@pytest.fixture
def bucket(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


# ---------------------------------------------------------------------------
# Buckets
# ---------------------------------------------------------------------------


def test_bucket_lifecycle(s3, store):
    plain, regional = new_bucket_name("plain"), new_bucket_name("regional")
    resp = s3.create_bucket(Bucket=plain)
    assert resp["Location"] == f"/{plain}"
    s3.create_bucket(Bucket=regional, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    listed = {b["Name"]: b for b in s3.list_buckets()["Buckets"]}
    assert plain in listed and regional in listed
    assert listed[plain]["CreationDate"].year >= 2024
    assert s3.list_buckets()["Owner"]["DisplayName"] == "loam"
    if store.keeps("regions"):
        head = s3.head_bucket(Bucket=regional)
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"
        assert s3.get_bucket_location(Bucket=regional)["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_location(Bucket=plain).get("LocationConstraint") is None
    if store.direct:
        assert plain in {b["Name"] for b in store.direct.list_buckets()["Buckets"]}
    else:
        assert (store.server.data_dir / "objects" / plain).is_dir()

    if store.keeps("bucket-owned"):
        expect_s3_error(s3.create_bucket, "BucketAlreadyOwnedByYou", 409, Bucket=plain)
    else:
        expect_s3_error(s3.create_bucket, "BucketAlreadyExists", 409, Bucket=plain)
    s3.put_object(Bucket=plain, Key="k", Body=b"x")
    expect_s3_error(s3.delete_bucket, "BucketNotEmpty", 409, Bucket=plain)
    s3.delete_object(Bucket=plain, Key="k")
    for name in (plain, regional):
        assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_s3_error(s3.head_bucket, "404", 404, Bucket=plain)
    expect_s3_error(s3.delete_bucket, "NoSuchBucket", 404, Bucket=plain)
    expect_s3_error(s3.list_objects_v2, "NoSuchBucket", 404, Bucket=plain)
    assert plain not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_list_buckets_pages_and_prefix(s3):
    tag = uuid.uuid4().hex[:8]
    names = [f"page-{tag}-{i}" for i in range(5)]
    for n in names:
        s3.create_bucket(Bucket=n)
    try:
        pages = list(s3.get_paginator("list_buckets").paginate(Prefix=f"page-{tag}-", PaginationConfig={"PageSize": 2}))
        assert [b["Name"] for p in pages for b in p["Buckets"]] == names
        assert len(pages) == 3
    finally:
        for n in names:
            s3.delete_bucket(Bucket=n)


@pytest.mark.parametrize("name", ["api", "ajax-api", "health", "metrics", "loam", "static-files"])
def test_loam_paths_are_reserved_bucket_names(s3, name):
    err = expect_s3_error(s3.create_bucket, "InvalidBucketName", 400, Bucket=name)
    assert "reserved" in err.response["Error"]["Message"]


@pytest.mark.parametrize("name", ["UpperCase", "ab", "x" * 64, "my_bucket", "192.168.5.4", "-leading", "a..b"])
def test_invalid_bucket_names(s3, name):
    expect_s3_error(s3.create_bucket, "InvalidBucketName", 400, Bucket=name)


# ---------------------------------------------------------------------------
# Objects
# ---------------------------------------------------------------------------


def test_put_get_head_with_metadata(s3, store, bucket):
    body = b"col1,col2\n1,2\n"
    put = s3.put_object(
        Bucket=bucket, Key="data/train.csv", Body=body, ContentType="text/csv",
        Metadata={"Source": "unit-test", "run": "42"}, CacheControl="no-cache",
        ContentDisposition='attachment; filename="train.csv"',
    )
    assert put["ETag"] == md5_etag(body)
    if store.direct:  # in the external store, with its metadata, and nothing under Loam's data dir
        landed = store.direct.get_object(Bucket=bucket, Key="data/train.csv")
        assert landed["Body"].read() == body and landed["ContentType"] == "text/csv"
        assert landed["Metadata"] == {"source": "unit-test", "run": "42"}
        assert not (store.server.data_dir / "objects" / bucket).exists()
    else:  # plain file, exactly where jobs resolve s3://<bucket>/data/train.csv
        assert (store.server.data_dir / "objects" / bucket / "data" / "train.csv").read_bytes() == body

    got = s3.get_object(Bucket=bucket, Key="data/train.csv")
    assert got["Body"].read() == body
    assert got["ETag"] == md5_etag(body)
    assert got["ContentType"] == "text/csv"
    assert got["ContentLength"] == len(body)
    assert got["Metadata"] == {"source": "unit-test", "run": "42"}
    assert got["CacheControl"] == "no-cache"
    assert got["ContentDisposition"] == 'attachment; filename="train.csv"'
    assert got["AcceptRanges"] == "bytes"
    assert abs(got["LastModified"].timestamp() - time.time()) < 120

    head = s3.head_object(Bucket=bucket, Key="data/train.csv")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == md5_etag(body)
    assert head["Metadata"] == {"source": "unit-test", "run": "42"}

    s3.put_object(Bucket=bucket, Key="untyped", Body=b"")
    untyped = s3.get_object(Bucket=bucket, Key="untyped")
    assert untyped["ContentType"] == "binary/octet-stream"
    assert untyped["ContentLength"] == 0 and untyped["Body"].read() == b""
    assert untyped["ETag"] == md5_etag(b"")

    expect_s3_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="missing")
    expect_s3_error(s3.head_object, "404", 404, Bucket=bucket, Key="missing")
    expect_s3_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="data")  # a folder is no object


def test_keys_with_special_characters(s3, bucket):
    keys = ["with space/and+plus.txt", "ünïcödé/ключ/鍵.bin", "percent%20literal", "q?uery#hash&amp;", "tilde~'quote\""]
    for i, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=key, Body=f"value {i}".encode())
    for i, key in enumerate(keys):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"value {i}".encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode())
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == listed


def test_checksums_and_content_md5(s3, store, bucket):
    body = os.urandom(100_000)
    good_md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=good_md5)
    expect_s3_error(s3.put_object, "BadDigest", 400, Bucket=bucket, Key="md5-bad", Body=body,
                    ContentMD5=base64.b64encode(hashlib.md5(b"other").digest()).decode())
    expect_s3_error(s3.head_object, "404", 404, Bucket=bucket, Key="md5-bad")

    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    resp = s3.put_object(Bucket=bucket, Key="sha", Body=body, ChecksumAlgorithm="SHA256")
    assert resp["ChecksumSHA256"] == sha
    if store.keeps("checksums"):
        got = s3.get_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
        assert got["ChecksumSHA256"] == sha
        assert got["Body"].read() == body  # botocore validates the checksum while reading
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    resp = s3.put_object(Bucket=bucket, Key="crc", Body=body)  # botocore's default: CRC32
    assert resp["ChecksumCRC32"] == crc
    resp = s3.put_object(Bucket=bucket, Key="sha1", Body=body, ChecksumAlgorithm="SHA1")
    assert resp["ChecksumSHA1"] == base64.b64encode(hashlib.sha1(body).digest()).decode()
    expect_s3_error(s3.put_object, "BadDigest", 400, Bucket=bucket, Key="bad-crc", Body=body,
                    ChecksumCRC32=base64.b64encode(b"\0\0\0\0").decode())


def test_ranged_gets(s3, bucket):
    body = bytes(range(256)) * 40  # 10240 bytes
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, len(body) - 1),
        "bytes=-500": (len(body) - 500, len(body) - 1),
        "bytes=10000-99999": (10000, len(body) - 1),
    }
    for spec, (a, b) in cases.items():
        got = s3.get_object(Bucket=bucket, Key="r", Range=spec)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, spec
        assert got["ContentRange"] == f"bytes {a}-{b}/{len(body)}", spec
        assert got["ContentLength"] == b - a + 1, spec
        assert got["Body"].read() == body[a:b + 1], spec
    head = s3.head_object(Bucket=bucket, Key="r", Range="bytes=5-9")
    assert head["ContentLength"] == 5 and head["ContentRange"] == f"bytes 5-9/{len(body)}"
    err = expect_s3_error(s3.get_object, "InvalidRange", 416, Bucket=bucket, Key="r", Range=f"bytes={len(body)}-")
    assert err.response["ResponseMetadata"]["HTTPHeaders"]["content-range"] == f"bytes */{len(body)}"
    # Conditional reads.
    etag = md5_etag(body)
    assert s3.get_object(Bucket=bucket, Key="r", IfMatch=etag)["Body"].read() == body
    expect_s3_error(s3.get_object, "PreconditionFailed", 412, Bucket=bucket, Key="r", IfMatch='"nope"')
    expect_s3_error(s3.get_object, "304", 304, Bucket=bucket, Key="r", IfNoneMatch=etag)


def test_delete_object_and_delete_objects(s3, store, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d/{i}", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="d/0")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=bucket, Key="d/0")["ResponseMetadata"]["HTTPStatusCode"] == 204  # idempotent
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/1"}, {"Key": "d/2"}, {"Key": "nope"}]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["d/1", "d/2", "nope"]
    assert not resp.get("Errors")
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/3"}, {"Key": "a//b"}], "Quiet": True})
    assert "Deleted" not in quiet
    if store.keeps("any-key"):
        assert [(e["Key"], e["Code"]) for e in quiet["Errors"]] == [("a//b", "InvalidArgument")]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["d/4"]
    expect_s3_error(s3.delete_object, "NoSuchBucket", 404, Bucket=new_bucket_name("gone"), Key="k")


def test_copy_object(s3, store, bucket):
    other = new_bucket_name("copy-dst")
    s3.create_bucket(Bucket=other)
    try:
        src_key = "source dir/ünï+file.json" if store.keeps("copy-source-plus") else "source dir/ünï file.json"
        s3.put_object(Bucket=bucket, Key=src_key, Body=b'{"a": 1}', ContentType="application/json",
                      Metadata={"origin": "src"})
        resp = s3.copy_object(Bucket=other, Key="copied.json", CopySource={"Bucket": bucket, "Key": src_key})
        assert resp["CopyObjectResult"]["ETag"] == md5_etag(b'{"a": 1}')
        got = s3.get_object(Bucket=other, Key="copied.json")
        assert got["Body"].read() == b'{"a": 1}'
        assert got["ContentType"] == "application/json"
        assert got["Metadata"] == {"origin": "src"}

        s3.copy_object(Bucket=other, Key="replaced.json", CopySource=f"{bucket}/{src_key}",
                       MetadataDirective="REPLACE", ContentType="text/plain", Metadata={"new": "yes"})
        head = s3.head_object(Bucket=other, Key="replaced.json")
        assert head["ContentType"] == "text/plain" and head["Metadata"] == {"new": "yes"}

        expect_s3_error(s3.copy_object, "InvalidRequest", 400, Bucket=bucket, Key=src_key,
                        CopySource={"Bucket": bucket, "Key": src_key})
        s3.copy_object(Bucket=bucket, Key=src_key, CopySource={"Bucket": bucket, "Key": src_key},
                       MetadataDirective="REPLACE", Metadata={"touched": "1"})
        assert s3.head_object(Bucket=bucket, Key=src_key)["Metadata"] == {"touched": "1"}
        expect_s3_error(s3.copy_object, "NoSuchKey", 404, Bucket=other, Key="x",
                        CopySource={"Bucket": bucket, "Key": "missing"})
        expect_s3_error(s3.copy_object, "PreconditionFailed", 412, Bucket=other, Key="x",
                        CopySource={"Bucket": bucket, "Key": src_key}, CopySourceIfMatch='"nope"')
        # boto3's managed copy (CopyObject below its multipart threshold).
        s3.copy({"Bucket": bucket, "Key": src_key}, other, "managed.json")
        assert s3.get_object(Bucket=other, Key="managed.json")["Body"].read() == b'{"a": 1}'
    finally:
        empty_and_delete(s3, other)


# ---------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------


def test_list_objects_v2_prefix_delimiter_and_pages(s3, store, bucket):
    keys = sorted(
        [f"logs/2024/{m:02d}/app.log" for m in range(1, 13)]
        + [f"logs/2025/{m:02d}/app.log" for m in range(1, 4)]
        + ["logs/readme.txt", "logs-old.txt", "models/a/model.tar.gz", "models/b/model.tar.gz", "top.txt"]
    )
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())

    full = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in full["Contents"]] == keys
    assert full["KeyCount"] == len(keys) and full["IsTruncated"] is False
    assert all(o["Size"] == len(o["Key"]) and o["ETag"] == md5_etag(o["Key"].encode()) for o in full["Contents"])

    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["logs-old.txt", "top.txt"]
    logs = s3.list_objects_v2(Bucket=bucket, Prefix="logs/", Delimiter="/")
    assert [o["Key"] for o in logs["Contents"]] == ["logs/readme.txt"]
    if store.keeps("nested-prefixes"):
        assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["logs/", "models/"]
        assert top["KeyCount"] == 4
        assert [p["Prefix"] for p in logs["CommonPrefixes"]] == ["logs/2024/", "logs/2025/"]

    # The paginator follows NextContinuationToken.
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 4}))
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == keys
    assert len(pages) == -(-len(keys) // 4)
    assert all(p["IsTruncated"] for p in pages[:-1]) and not pages[-1]["IsTruncated"]
    assert all(p["KeyCount"] == len(p.get("Contents", [])) for p in pages)

    # Pages of keys and common prefixes together.
    grouped = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="logs/2024/", Delimiter="/", PaginationConfig={"PageSize": 5}))
    assert [p["Prefix"] for g in grouped for p in g.get("CommonPrefixes", [])] == [
        f"logs/2024/{m:02d}/" for m in range(1, 13)]

    after = s3.list_objects_v2(Bucket=bucket, StartAfter="logs/2025/03/app.log", MaxKeys=3)
    assert [o["Key"] for o in after["Contents"]] == ["logs/readme.txt", "models/a/model.tar.gz",
                                                     "models/b/model.tar.gz"]
    assert after["IsTruncated"] is True and after["StartAfter"] == "logs/2025/03/app.log"
    empty = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert empty["KeyCount"] == 0 and "Contents" not in empty
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="nothing/")


def test_list_objects_v1_markers(s3, bucket):
    keys = [f"k{i:02d}" for i in range(11)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    pages = list(s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3}))
    assert [o["Key"] for p in pages for o in p["Contents"]] == keys
    assert len(pages) == 4
    page = s3.list_objects(Bucket=bucket, Marker="k05", MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["k06", "k07"]
    assert page["IsTruncated"] and page["Contents"][0]["Owner"]["DisplayName"] == "loam"


# ---------------------------------------------------------------------------
# Multipart uploads
# ---------------------------------------------------------------------------


def test_multipart_upload_by_hand(s3, store, bucket):
    parts_data = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(1000)]
    created = s3.create_multipart_upload(Bucket=bucket, Key="mp/object.bin", ContentType="application/x-test",
                                         Metadata={"kind": "multipart"})
    upload_id = created["UploadId"]
    etags = []
    for n, data in enumerate(parts_data, start=1):
        etags.append(s3.upload_part(Bucket=bucket, Key="mp/object.bin", UploadId=upload_id, PartNumber=n,
                                    Body=data)["ETag"])
    assert etags == [md5_etag(d) for d in parts_data]

    if store.keeps("upload-listing"):
        listed = s3.list_parts(Bucket=bucket, Key="mp/object.bin", UploadId=upload_id)
        assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == [
            (n, len(d), e) for n, (d, e) in enumerate(zip(parts_data, etags), start=1)]
        uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
        assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp/object.bin", upload_id)]

    def complete(parts):
        return s3.complete_multipart_upload(Bucket=bucket, Key="mp/object.bin", UploadId=upload_id,
                                            MultipartUpload={"Parts": parts})

    part = [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]
    if store.keeps("part-checks"):  # (s3rver would complete the upload here)
        expect_s3_error(complete, "InvalidPartOrder", 400, parts=[part[1], part[0], part[2]])
        expect_s3_error(complete, "InvalidPart", 400, parts=[part[0], {"PartNumber": 2, "ETag": md5_etag(b"x")}])
        expect_s3_error(complete, "InvalidPart", 400, parts=[part[0], {"PartNumber": 7, "ETag": etags[1]}])
        # A part below 5 MiB anywhere but last: part 3 followed by part 4.
        small = s3.upload_part(Bucket=bucket, Key="mp/object.bin", UploadId=upload_id, PartNumber=4,
                               Body=parts_data[2])
        expect_s3_error(complete, "EntityTooSmall", 400,
                        parts=[part[0], part[2], {"PartNumber": 4, "ETag": small["ETag"]}])

    done = complete(part)
    expected = hashlib.md5(b"".join(hashlib.md5(d).digest() for d in parts_data)).hexdigest()
    multipart_etag = store.keeps("multipart-etag")
    if multipart_etag:
        assert done["ETag"] == f'"{expected}-3"'
    assert done["Key"] == "mp/object.bin" and done["Bucket"] == bucket
    got = s3.get_object(Bucket=bucket, Key="mp/object.bin")
    assert got["Body"].read() == b"".join(parts_data)
    if multipart_etag:
        assert got["ETag"] == f'"{expected}-3"'
    assert got["ContentType"] == "application/x-test" and got["Metadata"] == {"kind": "multipart"}
    if not store.keeps("upload-listing"):
        return
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    expect_s3_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key="mp/object.bin", UploadId=upload_id)

    aborted = s3.create_multipart_upload(Bucket=bucket, Key="mp/aborted")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="mp/aborted", UploadId=aborted, PartNumber=1, Body=b"x")
    assert s3.abort_multipart_upload(Bucket=bucket, Key="mp/aborted", UploadId=aborted)[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_s3_error(s3.abort_multipart_upload, "NoSuchUpload", 404, Bucket=bucket, Key="mp/aborted", UploadId=aborted)
    expect_s3_error(s3.upload_part, "NoSuchUpload", 404, Bucket=bucket, Key="mp/aborted", UploadId=aborted,
                    PartNumber=2, Body=b"x")
    expect_s3_error(s3.head_object, "404", 404, Bucket=bucket, Key="mp/aborted")


def test_upload_and_download_file_20mb(s3, store, bucket, tmp_path):
    """boto3's TransferManager: multipart above 8 MiB (8 + 8 + 4 MiB parts), ranged GETs back."""
    source = tmp_path / "big.bin"
    data = os.urandom(20 * MIB)
    source.write_bytes(data)
    started = time.monotonic()
    s3.upload_file(str(source), bucket, "big/file.bin")
    uploaded = time.monotonic()
    target = tmp_path / "back.bin"
    s3.download_file(bucket, "big/file.bin", str(target))
    downloaded = time.monotonic()
    assert target.read_bytes() == data
    chunks = [data[i:i + 8 * MIB] for i in range(0, len(data), 8 * MIB)]
    expected = hashlib.md5(b"".join(hashlib.md5(c).digest() for c in chunks)).hexdigest()
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == len(data)
    if store.keeps("multipart-etag"):
        assert head["ETag"] == f'"{expected}-3"'
    print(f"20 MiB upload_file {uploaded - started:.3f}s, download_file {downloaded - uploaded:.3f}s")
    if not store.keeps("upload-part-copy"):
        return
    # A managed copy of a large object uses UploadPartCopy.
    s3.copy({"Bucket": bucket, "Key": "big/file.bin"}, bucket, "big/copy.bin")
    assert s3.get_object(Bucket=bucket, Key="big/copy.bin", Range="bytes=-1000")["Body"].read() == data[-1000:]
    assert s3.head_object(Bucket=bucket, Key="big/copy.bin")["ContentLength"] == len(data)


# ---------------------------------------------------------------------------
# Keys as files, errors, wire details
# ---------------------------------------------------------------------------


def raw_request(server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """A request sent byte for byte (no client normalizes the path)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def error_code(body: bytes) -> str:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(body)
    assert root.tag == "Error", body
    return root.findtext("Code")


def test_key_validation_and_file_tree_conflicts(s3, store, bucket):
    if store.name != "local":
        pytest.skip("keys as files: the file-tree rules belong to Loam's own store, not to an external S3")
    server = store.server
    expect_s3_error(s3.put_object, "KeyTooLongError", 400, Bucket=bucket, Key="k" * 1025, Body=b"x")
    s3.put_object(Bucket=bucket, Key=("d" * 200 + "/") * 4 + "k" * 219, Body=b"1024 bytes")
    for key in ("a//b", "dir/", "/leading"):
        expect_s3_error(s3.put_object, "InvalidArgument", 400, Bucket=bucket, Key=key, Body=b"x")
    for path in (f"/{bucket}/a/../escape", f"/{bucket}/./x", f"/{bucket}/%2E%2E/%2E%2E/etc", f"/{bucket}/a%00b"):
        status, _, body = raw_request(server, "PUT", path, b"x")
        assert (status, error_code(body)) == (400, "InvalidArgument"), path
    assert not (server.data_dir / "objects" / "escape").exists()

    s3.put_object(Bucket=bucket, Key="a/b", Body=b"file")
    err = expect_s3_error(s3.put_object, "XLoamParentIsObject", 409, Bucket=bucket, Key="a/b/c", Body=b"x")
    assert "'a/b' is an object" in err.response["Error"]["Message"]
    s3.put_object(Bucket=bucket, Key="x/y/z", Body=b"deep")
    expect_s3_error(s3.put_object, "XLoamObjectExistsAsDirectory", 409, Bucket=bucket, Key="x/y", Body=b"x")
    expect_s3_error(s3.copy_object, "XLoamObjectExistsAsDirectory", 409, Bucket=bucket, Key="x",
                    CopySource={"Bucket": bucket, "Key": "a/b"})
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"file"
    s3.delete_object(Bucket=bucket, Key="x/y/z")
    s3.put_object(Bucket=bucket, Key="x/y", Body=b"now a file")  # the emptied folders went with it


def test_error_shape_and_protocol_errors(s3, store, bucket):
    server = store.server
    status, headers, body = raw_request(server, "GET", f"/{bucket}/missing%20key")
    assert status == 404 and headers["Content-Type"] == "application/xml"
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    import xml.etree.ElementTree as ET

    root = ET.fromstring(body)
    assert root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Resource") == f"/{bucket}/missing key"
    assert root.findtext("Message") and root.findtext("RequestId") == headers["x-amz-request-id"]

    status, _, body = raw_request(server, "HEAD", f"/{bucket}/missing")
    assert status == 404 and body == b""
    status, _, body = raw_request(server, "POST", f"/{bucket}/k")
    assert (status, error_code(body)) == (405, "MethodNotAllowed")
    status, _, body = raw_request(server, "PATCH", f"/{bucket}/k")
    assert (status, error_code(body)) == (405, "MethodNotAllowed")
    status, _, body = raw_request(server, "POST", f"/{bucket}?delete", b"<Delete><Object></Delete>")
    assert (status, error_code(body)) == (400, "MalformedXML")
    status, _, body = raw_request(server, "GET", f"/{bucket}?acl")
    assert (status, error_code(body)) == (501, "NotImplemented")
    status, _, body = raw_request(server, "GET", f"/{new_bucket_name('nope')}?list-type=2")
    assert (status, error_code(body)) == (404, "NoSuchBucket")
    expect_s3_error(s3.list_objects_v2, "InvalidArgument", 400, Bucket=bucket, ContinuationToken="!!not-a-token!!")


def aws_chunked(data: bytes, chunk: int, trailer: tuple[str, str] | None, signed: bool = False) -> bytes:
    sig = ";chunk-signature=" + "0" * 64 if signed else ""
    out = b""
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        out += f"{len(piece):x}{sig}\r\n".encode() + piece + b"\r\n"
    out += f"0{sig}\r\n".encode()
    if trailer:
        out += f"{trailer[0]}:{trailer[1]}\r\n".encode()
    return out + b"\r\n"


def test_aws_chunked_uploads(s3, store, bucket):
    """Streaming SigV4 uploads (what botocore sends over HTTPS, and other SDKs): the object is
    the payload alone, the trailing checksum is verified and returned."""
    server = store.server
    data = os.urandom(300_000)
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    framed = aws_chunked(data, 65536, ("x-amz-checksum-crc32", crc))
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
        "Content-Type": "application/octet-stream",
    }
    # Sent with Transfer-Encoding: chunked on top, as botocore does.
    resp = requests.put(f"{server.url}/{bucket}/chunked.bin", data=iter([framed[:1000], framed[1000:]]),
                        headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["ETag"] == md5_etag(data) and resp.headers["x-amz-checksum-crc32"] == crc
    got = s3.get_object(Bucket=bucket, Key="chunked.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert "ContentEncoding" not in got
    if store.keeps("checksums"):
        assert got["ChecksumCRC32"] == crc

    signed = aws_chunked(data, 100_000, None, signed=True)
    resp = requests.put(f"{server.url}/{bucket}/signed.bin", data=signed, timeout=30, headers={
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))})
    assert resp.status_code == 200, resp.text
    assert s3.get_object(Bucket=bucket, Key="signed.bin")["Body"].read() == data

    bad = aws_chunked(data, 65536, ("x-amz-checksum-crc32", base64.b64encode(b"\0\0\0\1").decode()))
    resp = requests.put(f"{server.url}/{bucket}/bad.bin", data=bad, headers=headers, timeout=30)
    assert resp.status_code == 400 and error_code(resp.content) == "BadDigest"
    resp = requests.put(f"{server.url}/{bucket}/bad.bin", data=framed[:-40], headers=headers, timeout=30)
    assert resp.status_code == 400 and error_code(resp.content) == "IncompleteBody"
    expect_s3_error(s3.head_object, "404", 404, Bucket=bucket, Key="bad.bin")


def test_other_protocols_keep_their_routes(store, s3):
    server = store.server
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    assert "loam_http_requests_total" in requests.get(server.url + "/metrics", timeout=10).text
    resp = requests.post(server.url + "/api/2.0/mlflow/experiments/search", json={"max_results": 1}, timeout=10)
    assert resp.status_code == 200 and "experiments" in resp.json()
    resp = requests.get(server.url + "/api/2.0/mlflow/nope", timeout=10)
    assert resp.status_code == 404 and resp.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    sm = sagemaker_client(server.url)
    assert "TrainingJobSummaries" in sm.list_training_jobs(MaxResults=1)
    resp = requests.post(server.url + "/", data="{}", timeout=10,
                         headers={"X-Amz-Target": "SageMaker.NoSuchOperation",
                                  "Content-Type": "application/x-amz-json-1.1"})
    assert resp.status_code == 400 and resp.json()["__type"] == "UnknownOperationException"
    resp = requests.post(server.url + "/", data="{}", timeout=10, headers={"X-Amz-Target": "Nobody_2020.Op"})
    assert resp.status_code == 501 and error_code(resp.content) == "NotImplemented"


def test_objects_and_uploads_survive_a_restart(loam_server_factory):
    srv = loam_server_factory()
    s3 = s3_client(srv.url)
    s3.create_bucket(Bucket="durable")
    s3.put_object(Bucket="durable", Key="k", Body=b"kept", ContentType="text/plain", Metadata={"m": "1"})
    upload_id = s3.create_multipart_upload(Bucket="durable", Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket="durable", Key="mp", UploadId=upload_id, PartNumber=1, Body=b"part")["ETag"]
    srv.kill9()
    srv.start()
    s3 = s3_client(srv.url)
    got = s3.get_object(Bucket="durable", Key="k")
    assert got["Body"].read() == b"kept" and got["ContentType"] == "text/plain" and got["Metadata"] == {"m": "1"}
    s3.complete_multipart_upload(Bucket="durable", Key="mp", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket="durable", Key="mp")["Body"].read() == b"part"


# ---------------------------------------------------------------------------
# Shared with training jobs
# ---------------------------------------------------------------------------


def test_training_job_reads_s3_channel_and_writes_model_object(training_server, sagemaker, tmp_path):
    s3 = s3_client(training_server.url)
    bucket = new_bucket_name("job-data")
    s3.create_bucket(Bucket=bucket)
    files = {"train/part-0.csv": b"x,y\n1,2\n", "train/nested/part-1.csv": b"x,y\n3,4\n5,6\n"}
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
    jobs = TrainingJobs(training_server, sagemaker, tmp_path / "unused-output")
    name = unique_name("e2e-s3")
    request = training_job_request(name, "env_dump.py", tmp_path / "unused-output",
                                   channels=[channel("train", tmp_path)])
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{bucket}/train"
    request["OutputDataConfig"] = {"S3OutputPath": f"s3://{bucket}/out"}
    try:
        jobs.create_from(request)
        desc = jobs.wait_completed(name)
        key = f"out/{name}/output/model.tar.gz"
        assert desc["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{bucket}/{key}"

        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"out/{name}/")
        assert key in [o["Key"] for o in listed["Contents"]]
        tarball = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert s3.head_object(Bucket=bucket, Key=key)["ETag"] == md5_etag(tarball)  # computed from the file
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            members = {m.name.lstrip("./"): m for m in tar.getmembers()}
            record = json.loads(tar.extractfile(members["env-algo-1.json"]).read())
        channel_files = record["channels"]["train"]["files"]
        assert channel_files == {k[len("train/"):]: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    finally:
        jobs.stop_unfinished()
        empty_and_delete(s3, bucket)
