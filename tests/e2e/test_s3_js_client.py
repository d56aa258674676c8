"""The AWS SDK for JavaScript v3 (``@aws-sdk/client-s3``, pinned in tests/node) against Loam's S3 API.

``tests/node/s3_flow.mjs`` runs under ``node``: buckets, string / Buffer / stream uploads with
the SDK's default flexible checksums (CRC32; aws-chunked with a trailing checksum for streams),
full and ranged reads, metadata, listing with delimiters and pagination, copies, a two-part
multipart upload, batch deletes and S3's error names. It prints one JSON document; each step's
facts are checked here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "tests" / "node"
FLOW = NODE_DIR / "s3_flow.mjs"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def flow(server):
    node = shutil.which("node")
    # A failure, not a skip (as for node_modules below): scripts/setup.sh installs Node.js.
    assert node is not None, "node is not installed (scripts/setup.sh installs Node.js and tests/node's packages)"
    assert (NODE_DIR / "node_modules" / "@aws-sdk" / "client-s3").is_dir(), (
        "tests/node/node_modules lacks @aws-sdk/client-s3: run scripts/setup.sh (npm ci in tests/node)"
    )
    proc = subprocess.run([node, str(FLOW), "--endpoint", server.url], cwd=NODE_DIR, capture_output=True,
                          text=True, timeout=150)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def ok_step(flow, name) -> dict:
    step = flow["steps"][name]
    assert step["ok"], f"{name} failed: {step.get('error')}"
    return step


def test_bucket_create_and_head(flow):
    assert ok_step(flow, "CreateBucket")["status"] == 200
    assert ok_step(flow, "CreateBucket")["location"] == "/" + flow["bucket"]
    assert ok_step(flow, "HeadBucket")["status"] == 200


def test_put_string_buffer_and_stream(flow):
    for name in ("PutObjectString", "PutObjectBuffer", "PutObjectStream"):
        step = ok_step(flow, name)
        assert step["etag"] == step["expectedEtag"], name
        # Loam answers the CRC32 of what it stored, which is the CRC32 of what was sent.
        assert step["crc32"] == step["expectedCrc32"], name
    # A string or a Buffer: the CRC32 in a header, the payload's SHA-256 signed.
    for name in ("PutObjectString", "PutObjectBuffer"):
        sent = ok_step(flow, name)["sent"]
        assert sent["checksumHeader"] == ok_step(flow, name)["expectedCrc32"], name
        assert sent["contentEncoding"] is None and len(sent["contentSha256"]) == 64, sent
    # A stream: aws-chunked, the CRC32 in a trailer after the last chunk.
    streamed = ok_step(flow, "PutObjectStream")
    assert streamed["sent"] == {"contentEncoding": "aws-chunked", "trailer": "x-amz-checksum-crc32",
                                "checksumHeader": None, "contentSha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}
    assert streamed["sameBytes"] and streamed["length"] == 2 * 1024 * 1024 + 5


def test_get_reads_every_byte(flow):
    step = ok_step(flow, "GetObject")
    assert step["length"] == step["expectedLength"] == step["contentLength"]
    assert step["sameBytes"] and step["sha256"] == step["expectedSha256"]
    assert step["text"] == step["expectedText"]
    assert step["contentType"] == "text/plain; charset=utf-8"
    assert step["metadata"] == {"origin": "node", "mixed-case": "Value"}


def test_ranged_get(flow):
    step = ok_step(flow, "GetObjectRange")
    assert step["status"] == 206
    assert step["contentRange"] == f"bytes 100-1123/{step['total']}"
    assert step["contentLength"] == step["length"] == 1024
    assert step["sameBytes"]
    assert step["tailContentRange"] == f"bytes {step['total'] - 10}-{step['total'] - 1}/{step['total']}"
    assert step["tailSameBytes"]


def test_head_object(flow):
    step = ok_step(flow, "HeadObject")
    assert step["etag"] == step["expectedEtag"]
    assert step["contentLength"] == step["expectedLength"]
    assert step["contentType"] == "text/plain; charset=utf-8"
    assert step["metadata"] == {"origin": "node", "mixed-case": "Value"}
    assert step["lastModified"]


def test_list_with_delimiter_and_pages(flow):
    step = ok_step(flow, "ListObjectsV2")
    assert step["contents"] == ["tree/c.txt", "tree/d.txt"]
    assert step["commonPrefixes"] == ["tree/a/", "tree/b/"]
    assert step["sizes"] == [len("tree/c.txt"), len("tree/d.txt")]
    pages = step["pages"]
    assert [p["keys"] for p in pages] == [step["expectedKeys"][0:2], step["expectedKeys"][2:4], step["expectedKeys"][4:]]
    assert [p["keyCount"] for p in pages] == [2, 2, 1]
    assert [p["truncated"] for p in pages] == [True, True, False]


def test_copy_object(flow):
    step = ok_step(flow, "CopyObject")
    assert step["etag"] == step["expectedEtag"]
    assert step["text"] == step["expectedText"]
    assert step["metadata"] == {"origin": "node", "mixed-case": "Value"}


def test_multipart_upload(flow):
    step = ok_step(flow, "MultipartUpload")
    assert step["uploadId"]
    assert step["partEtags"] == step["expectedPartEtags"]
    assert step["partCrc32"] == step["expectedPartCrc32"]
    assert step["etag"] == step["expectedEtag"] and step["etag"].endswith('-2"')
    assert step["getEtag"] == step["etag"]
    assert step["key"] == "multi/big.bin"
    assert step["contentType"] == "application/x-test"
    assert step["length"] == 5 * 1024 * 1024 + 1024 * 1024 + 123 and step["sameBytes"]


def test_error_names(flow):
    errors = ok_step(flow, "Errors")
    assert errors["getMissingKey"]["name"] == "NoSuchKey" and errors["getMissingKey"]["status"] == 404
    assert errors["getMissingKey"]["requestId"]
    # HEAD answers carry no body: the SDK names them after the status.
    assert errors["headMissingKey"]["name"] == "NotFound" and errors["headMissingKey"]["status"] == 404
    assert errors["getMissingBucket"]["name"] == "NoSuchBucket" and errors["getMissingBucket"]["status"] == 404
    assert errors["listMissingBucket"]["name"] == "NoSuchBucket"
    assert errors["headMissingBucket"]["name"] == "NotFound" and errors["headMissingBucket"]["status"] == 404
    assert errors["createExisting"]["name"] == "BucketAlreadyOwnedByYou" and errors["createExisting"]["status"] == 409
    assert errors["deleteNonEmpty"]["name"] == "BucketNotEmpty" and errors["deleteNonEmpty"]["status"] == 409


# Every key the flow writes (s3_flow.mjs), known here rather than taken from the server's own listing.
FLOW_KEYS = ["docs/hello.txt", "blobs/random.bin", "blobs/streamed.bin", "tree/a/1.txt", "tree/a/2.txt",
             "tree/b/1.txt", "tree/c.txt", "tree/d.txt", "docs/hello-copy.txt", "multi/big.bin"]


def test_delete_objects_and_bucket(flow):
    step = ok_step(flow, "DeleteObjects")
    # expectedDeleted is the flow's ListObjectsV2 result (plus a key that never existed): it is
    # only as good as that listing, so the keys the flow wrote are checked too.
    assert step["requested"] == len(FLOW_KEYS) + 1
    assert step["expectedDeleted"] == sorted(FLOW_KEYS + ["never/existed"])
    assert step["deleted"] == step["expectedDeleted"]
    assert step["errors"] == []
    assert step["keyCountAfter"] == 0
    gone = ok_step(flow, "DeleteBucket")
    assert gone["status"] == 204
    assert gone["headAfter"]["status"] == 404


def test_every_step_passed(flow):
    failed = {name: s["error"] for name, s in flow["steps"].items() if not s["ok"]}
    assert not failed, failed
