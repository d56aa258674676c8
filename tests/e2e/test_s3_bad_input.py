"""Bad input to Loam's S3 API: truncated uploads (a client that dies mid-body), multipart
completions that do not match the parts, wrong Content-MD5, traversal attempts and malformed
XML. Each gets S3's error, no partial object is ever visible, and nothing outside the object
store's root is touched."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.timeout(120)

MIB = 1024 * 1024


def s3_client(url):
    return boto3.session.Session().client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def error_code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


# What changes under the data directory whatever the requests: spooled bodies, and the database
# (whose header is checked on its own).
VOLATILE = {"tmp", "loam.db", "loam.db-wal", "loam.db-shm", "loam.lock"}


def data_dir_snapshot(data_dir: Path) -> dict[str, tuple]:
    """Every folder and file under the data directory but the volatile ones, files with their size
    and mtime: what "nothing touched outside the bucket" is checked against."""
    out = {}
    for dirpath, dirnames, files in os.walk(data_dir):
        rel = Path(dirpath).relative_to(data_dir)
        if not rel.parts:
            dirnames[:] = [d for d in dirnames if d not in VOLATILE]
            files = [f for f in files if f not in VOLATILE]
        for d in dirnames:
            out[str(rel / d) + "/"] = ()
        for f in files:
            st = (Path(dirpath) / f).lstat()
            out[str(rel / f)] = (st.st_size, st.st_mtime_ns)
    return out


def send_truncated(url: str, method: str, path: str, declared: int, sent: bytes, headers=()) -> None:
    """A request that declares `declared` body bytes, sends fewer, and hangs up: a client killed
    mid-upload."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {declared}",
                "Content-Type: application/octet-stream", *headers, "", ""]
        sock.sendall("\r\n".join(head).encode() + sent)
        time.sleep(0.2)
        sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="module")
def s3(server):
    return s3_client(server.url)


@pytest.fixture
def bucket(s3):
    name = f"bad-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_truncated_put_leaves_no_object_and_no_spooled_file(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="kept", Body=b"old")
    send_truncated(server.url, "PUT", f"/{bucket}/half", 2 * MIB, b"x" * (MIB // 2))
    send_truncated(server.url, "PUT", f"/{bucket}/kept", 2 * MIB, b"y" * 1000)
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="half")
    assert error_code(info.value) == "404"
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"old"  # the old object, whole
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["kept"]
    # The half-received bodies are not left on disk.
    spool = server.data_dir / "tmp"
    wait_until(lambda: not any(p.is_file() and p.stat().st_size > 0 for p in spool.rglob("upload-*")))
    assert not (server.data_dir / "objects" / bucket / "half").exists()


def test_a_truncated_part_is_never_recorded(server, s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"a" * (5 * MIB))
    send_truncated(server.url, "PUT", f"/{bucket}/mp?partNumber=2&uploadId={upload}", MIB, b"b" * 1000)
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload).get("Parts", [])
    assert [p["PartNumber"] for p in parts] == [1]
    with pytest.raises(ClientError) as info:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": part1["ETag"]}, {"PartNumber": 2, "ETag": '"' + "0" * 32 + '"'}]})
    assert error_code(info.value) == "InvalidPart"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="mp")
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


def test_completions_that_do_not_match_the_parts(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    small = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"s" * 1000)["ETag"]
    big = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2, Body=b"b" * (5 * MIB))["ETag"]
    last = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=3, Body=b"l" * 10)["ETag"]

    def complete(parts):
        with pytest.raises(ClientError) as info:
            s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts})
        return error_code(info.value)

    assert complete([{"PartNumber": 2, "ETag": big}, {"PartNumber": 1, "ETag": small}]) == "InvalidPartOrder"
    assert complete([{"PartNumber": 2, "ETag": small}]) == "InvalidPart"       # wrong ETag for the part
    assert complete([{"PartNumber": 4, "ETag": last}]) == "InvalidPart"        # never uploaded
    assert complete([{"PartNumber": 1, "ETag": small}, {"PartNumber": 3, "ETag": last}]) == "EntityTooSmall"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="mp")
    # The upload is intact after the refusals: the right list completes it.
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 2, "ETag": big}, {"PartNumber": 3, "ETag": last}]})
    assert done["ETag"].endswith('-2"')
    assert s3.get_object(Bucket=bucket, Key="mp")["ContentLength"] == 5 * MIB + 10
    with pytest.raises(ClientError) as info:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x")
    assert error_code(info.value) == "NoSuchUpload"


def test_wrong_content_md5_stores_nothing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="k", Body=b"replacement", ContentMD5=wrong)
    assert error_code(info.value) == "BadDigest"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="new", Body=b"x", ContentMD5="not base64!")
    assert error_code(info.value) == "InvalidDigest"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    with pytest.raises(ClientError) as info:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"part", ContentMD5=wrong)
    assert error_code(info.value) == "BadDigest"
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload).get("Parts", []) == []
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]


@pytest.mark.parametrize("path", [
    "/{b}/..%2F..%2Fsecret", "/{b}/%2E%2E/%2E%2E/secret", "/{b}/a/../../secret", "/..%2F{b}/x",
    "/{b}/a%2F..%2F..%2F..%2Fsecret", "/{b}/%00", "/{b}//etc/passwd", "/{b}/" + "k" * 1025,
])
def test_traversal_attempts_touch_nothing_outside_the_root(server, s3, bucket, path):
    data_dir = server.data_dir
    # The whole data directory (objects of other buckets, artifacts, jobs, ...), not only the
    # folders that happen to exist: a snapshot of nothing would compare equal to nothing.
    before = data_dir_snapshot(data_dir)
    assert any(k.startswith("objects/" + bucket) for k in before), sorted(before)[:20]
    url = server.url + path.format(b=bucket)
    for method in ("PUT", "GET", "DELETE", "HEAD"):
        resp = requests.request(method, url, data=b"evil" if method == "PUT" else None, timeout=10)
        assert 400 <= resp.status_code < 500, (method, path, resp.status_code)
        if method != "HEAD":
            assert b"<Error>" in resp.content and b"<Code>" in resp.content, resp.content[:200]
    assert not list(data_dir.glob("secret")) and not list(data_dir.parent.glob("secret"))
    assert not (data_dir / "objects" / "secret").exists()
    after = data_dir_snapshot(data_dir)
    assert after == before, {"added": sorted(set(after) - set(before)), "removed": sorted(set(before) - set(after)),
                             "changed": sorted(k for k in set(after) & set(before) if after[k] != before[k])}
    assert (data_dir / "loam.db").read_bytes()[:16] == b"SQLite format 3\0"  # not overwritten by "evil"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_malformed_xml_bodies(server, s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    for body in (b"<CompleteMultipartUpload><Part>", b"not xml at all", b""):
        resp = requests.post(f"{server.url}/{bucket}/mp?uploadId={upload}", data=body, timeout=10)
        assert resp.status_code == 400 and b"<Code>MalformedXML</Code>" in resp.content, resp.content
    resp = requests.post(f"{server.url}/{bucket}?delete", data=b"<Delete><Object>", timeout=10,
                         headers={"Content-MD5": base64.b64encode(hashlib.md5(b"<Delete><Object>").digest()).decode()})
    assert resp.status_code == 400 and b"<Code>MalformedXML</Code>" in resp.content, resp.content
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="mp")
