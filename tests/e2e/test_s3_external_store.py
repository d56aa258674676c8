"""Loam over an external S3 store (``--object-store s3``): what goes over the wire to the store.

A small recording S3 endpoint stands in for the store, so each request Loam sends can be read
back: its SigV4 signature is recomputed here from AWS's specification (s3rver, the store of
test_s3_api.py, does not check signatures), its addressing is the one configured, and a store
that cannot be reached stops the server at start with a clear message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import _start_server, free_port
from test_s3_api import s3_client

pytestmark = pytest.mark.timeout(120)

ACCESS_KEY = "AKIDLOAMEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "eu-central-1"

LIST_BUCKETS = (b'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult '
                b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets><Bucket><Name>data</Name>'
                b"<CreationDate>2024-01-02T03:04:05.000Z</CreationDate></Bucket></Buckets>"
                b"</ListAllMyBucketsResult>")
INITIATED = (b"<InitiateMultipartUploadResult><Bucket>data</Bucket><Key>k</Key>"
             b"<UploadId>upload-1</UploadId></InitiateMultipartUploadResult>")


class RecordingStore:
    """An S3 endpoint that answers what Loam needs and keeps every request it received."""

    def __init__(self):
        self.requests: list[dict] = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                store.requests.append({"method": self.command, "target": self.path,
                                       "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                reply, extra = b"", {"ETag": '"' + hashlib.md5(body).hexdigest() + '"'}
                if self.command == "GET" and self.path == "/":
                    reply = LIST_BUCKETS
                elif self.command == "POST" and "uploads" in self.path:
                    reply = INITIATED
                self.send_response(200)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recording_store():
    store = RecordingStore()
    yield store
    store.close()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _uri_encode(text: str) -> str:
    return urllib.parse.quote(text, safe="-_.~")


def expected_signature(request: dict, secret: str) -> tuple[str, str]:
    """(signature in the Authorization header, signature computed as AWS's SigV4 specifies)."""
    auth = request["headers"]["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 "), auth
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    _, date, region, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    path, _, query = request["target"].partition("?")
    pairs = sorted((_uri_encode(urllib.parse.unquote(k)), _uri_encode(urllib.parse.unquote(v)))
                   for k, _, v in (p.partition("=") for p in query.split("&") if p))
    canonical = "\n".join([
        request["method"],
        path,  # S3: the path as sent, encoded once
        "&".join(f"{k}={v}" for k, v in pairs),
        "".join(f"{h}:{' '.join(request['headers'][h].split())}\n" for h in signed),
        ";".join(signed),
        request["headers"]["x-amz-content-sha256"],
    ])
    timestamp = request["headers"]["x-amz-date"]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", timestamp, f"{date}/{region}/{service}/aws4_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), date), region), service), "aws4_request")
    return fields["Signature"], hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def loam_over(store: RecordingStore, loam_server_factory, *extra):
    return loam_server_factory("--object-store", "s3", "--s3-endpoint", f"http://127.0.0.1:{store.port}",
                               "--s3-region", REGION, "--s3-access-key-id", ACCESS_KEY,
                               "--s3-secret-access-key", SECRET_KEY, *extra)


def test_requests_to_the_store_carry_valid_sigv4_signatures(recording_store, loam_server_factory):
    srv = loam_over(recording_store, loam_server_factory)
    s3 = s3_client(srv.url)
    s3.put_object(Bucket="data", Key="dir with space/ünï+code.txt", Body=b"payload", ContentType="text/plain",
                  Metadata={"run": "42"})
    upload = s3.create_multipart_upload(Bucket="data", Key="big.bin")["UploadId"]
    assert upload == "upload-1"
    s3.upload_part(Bucket="data", Key="big.bin", UploadId=upload, PartNumber=3, Body=b"part")
    sent = {(r["method"], r["target"].partition("?")[0]): r for r in recording_store.requests}
    assert set(sent) >= {("GET", "/"), ("PUT", "/data/dir%20with%20space/%C3%BCn%C3%AF%2Bcode.txt"),
                         ("POST", "/data/big.bin"), ("PUT", "/data/big.bin")}
    for request in recording_store.requests:
        got, want = expected_signature(request, SECRET_KEY)
        assert got == want, f"{request['method']} {request['target']}: {request['headers']}"
        assert f"/{REGION}/s3/aws4_request" in request["headers"]["authorization"]
    put = sent[("PUT", "/data/dir%20with%20space/%C3%BCn%C3%AF%2Bcode.txt")]
    assert put["body"] == b"payload"
    assert put["headers"]["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert put["headers"]["x-amz-meta-run"] == "42" and put["headers"]["content-type"] == "text/plain"
    assert put["headers"]["content-md5"] == base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    assert sent[("PUT", "/data/big.bin")]["target"] == "/data/big.bin?partNumber=3&uploadId=upload-1"
    assert sent[("POST", "/data/big.bin")]["target"] == "/data/big.bin?uploads="
    # Small bodies are signed with their hash, empty ones too.
    assert sent[("GET", "/")]["headers"]["x-amz-content-sha256"] == hashlib.sha256(b"").hexdigest()


def test_virtual_hosted_addressing_names_the_bucket_in_the_host(recording_store, loam_server_factory, tmp_path):
    srv = loam_server_factory("--object-store", "s3", "--s3-endpoint", f"http://localhost:{recording_store.port}",
                              "--s3-addressing", "virtual", "--s3-access-key-id", ACCESS_KEY,
                              "--s3-secret-access-key", SECRET_KEY)
    s3_client(srv.url).put_object(Bucket="data", Key="a/b.txt", Body=b"x")
    put = [r for r in recording_store.requests if r["method"] == "PUT"][-1]
    assert put["target"] == "/a/b.txt"
    assert put["headers"]["host"] == f"data.localhost:{recording_store.port}"
    got, want = expected_signature(put, SECRET_KEY)
    assert got == want


def test_an_unreachable_store_stops_the_start_with_a_clear_message(tmp_path):
    port = free_port()  # nobody listens there
    with pytest.raises(RuntimeError) as info:
        _start_server(tmp_path / "data", tmp_path / "loam.log",
                      ["--object-store", "s3", "--s3-endpoint", f"http://127.0.0.1:{port}"])
    message = str(info.value)
    assert "exited with code 1" in message
    assert "startup.object_store" in message and f"127.0.0.1:{port}" in message
    assert "could not be reached" in message


def test_jobs_read_and_write_s3_uris_in_the_external_store(s3rver, loam_server_factory, tmp_path):
    """A processing job sharded over two instances, its raw data and code uploaded through Loam,
    its outputs read straight from s3rver: every s3:// URI of a job goes through the external
    store, nothing through Loam's data directory."""
    from conftest import external_store_args, training_server_args
    from sagemaker_helpers import JOBS_DIR, sagemaker_client, write_diabetes_csv
    from test_processing_jobs import processing_request, wait_terminal

    server = loam_server_factory(*training_server_args(), *external_store_args(s3rver))
    s3 = s3_client(server.url)
    bucket = f"ext-jobs-{free_port()}"
    s3.create_bucket(Bucket=bucket)
    raw = tmp_path / "raw"
    write_diabetes_csv(raw, shards=4)
    for shard in sorted(raw.glob("*.csv")):
        s3.upload_file(str(shard), bucket, f"raw/{shard.name}")
    s3.upload_file(str(JOBS_DIR / "preprocess.py"), bucket, "code/preprocess.py")

    name = f"ext-prep-{free_port()}"
    req = processing_request(name, f"s3://{bucket}/raw/", tmp_path / "unused", instances=2,
                             distribution="ShardedByS3Key")
    req["ProcessingInputs"][1]["S3Input"]["S3Uri"] = f"s3://{bucket}/code/preprocess.py"
    for out in req["ProcessingOutputConfig"]["Outputs"]:
        out["S3Output"]["S3Uri"] = f"s3://{bucket}/{name}/{out['OutputName']}"
    sm = sagemaker_client(server.url)
    sm.create_processing_job(**req)
    d = wait_terminal(sm, name)
    assert d["ProcessingJobStatus"] == "Completed", d

    direct = s3rver.client()  # past Loam
    keys = sorted(o["Key"] for o in direct.list_objects_v2(Bucket=bucket, Prefix=f"{name}/")["Contents"])
    assert keys == sorted(f"{name}/{kind}/{host}{suffix}" for host in ("algo-1", "algo-2")
                          for kind, suffix in (("test", ".csv"), ("train", ".csv"), ("train", "-manifest.json")))
    import json
    dealt = []
    for host in ("algo-1", "algo-2"):
        dealt += json.loads(direct.get_object(Bucket=bucket, Key=f"{name}/train/{host}-manifest.json")["Body"].read())["files"]
    assert sorted(dealt) == sorted(p.name for p in raw.glob("*.csv"))  # each shard once, from s3rver
    assert not (server.data_dir / "objects" / bucket).exists()  # nothing kept locally
