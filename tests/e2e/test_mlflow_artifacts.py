"""Artifact proxy (/api/2.0/mlflow-artifacts) and artifacts/list tests over raw HTTP."""

import http.client
import json
import os
import uuid
from pathlib import Path

import pytest

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def raw(server, method, target, body=None, headers=None):
    """Sends a request with the exact request-target (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def put(server, rel_path, data: bytes):
    return server.http.put(f"{server.url}{ARTIFACTS}/{rel_path}", data=data, timeout=60)


def get(server, rel_path):
    return server.http.get(f"{server.url}{ARTIFACTS}/{rel_path}", timeout=60)


def listing(server, path=None):
    params = {"path": path} if path is not None else None
    resp = server.http.get(f"{server.url}{ARTIFACTS}", params=params, timeout=30)
    assert resp.status_code == 200, resp.text
    return {f["path"]: f for f in resp.json().get("files", [])}


@pytest.fixture
def prefix():
    """A unique top-level directory for one test's artifacts."""
    return f"e2e-{uuid.uuid4().hex}"


# ---------------------------------------------------------------------------
# upload / download / list / delete
# ---------------------------------------------------------------------------


def test_upload_and_download_roundtrip(server, prefix):
    """PUT stores the raw body; GET returns identical bytes."""
    resp = put(server, f"{prefix}/hello.txt", b"Hello, World!")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {}
    got = get(server, f"{prefix}/hello.txt")
    assert got.status_code == 200
    assert got.content == b"Hello, World!"


def test_binary_and_large_roundtrip(server, prefix):
    """Arbitrary binary content (all byte values, several MB) survives intact."""
    blob = bytes(range(256)) * 64 + os.urandom(6 * 1024 * 1024 + 17)
    assert put(server, f"{prefix}/bin/blob.bin", blob).status_code == 200
    got = get(server, f"{prefix}/bin/blob.bin")
    assert got.status_code == 200
    assert len(got.content) == len(blob)
    assert got.content == blob


def test_empty_file_roundtrip(server, prefix):
    """Zero-byte uploads are stored as empty files."""
    assert put(server, f"{prefix}/empty", b"").status_code == 200
    got = get(server, f"{prefix}/empty")
    assert got.status_code == 200 and got.content == b""
    assert listing(server, prefix)["empty"].get("file_size", 0) == 0


def test_overwrite_replaces_content(server, prefix):
    """Uploading to an existing path replaces its content."""
    put(server, f"{prefix}/f.txt", b"first version, longer")
    put(server, f"{prefix}/f.txt", b"second")
    assert get(server, f"{prefix}/f.txt").content == b"second"


def test_list_directory(server, prefix):
    """Listing returns basenames with is_dir and file_size for files."""
    put(server, f"{prefix}/a.txt", b"12345")
    put(server, f"{prefix}/sub/b.txt", b"xy")
    put(server, f"{prefix}/sub/deeper/c.txt", b"z")
    top = listing(server, prefix)
    assert set(top) == {"a.txt", "sub"}
    assert top["a.txt"]["is_dir"] is False and top["a.txt"]["file_size"] == 5
    assert top["sub"]["is_dir"] is True
    sub = listing(server, f"{prefix}/sub")
    assert set(sub) == {"b.txt", "deeper"}
    assert sub["b.txt"]["file_size"] == 2 and sub["deeper"]["is_dir"] is True
    assert prefix in listing(server)  # root listing includes our top-level dir


def test_list_missing_directory_is_empty(server, prefix):
    """Listing a path that does not exist yields no files."""
    assert listing(server, f"{prefix}/nope") == {}


def test_download_missing_is_404(server, prefix):
    """GET of a missing artifact is RESOURCE_DOES_NOT_EXIST (404)."""
    resp = get(server, f"{prefix}/missing.txt")
    assert resp.status_code == 404
    assert resp.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_delete_file_and_directory(server, prefix):
    """DELETE removes a file, or a whole directory tree."""
    put(server, f"{prefix}/keep.txt", b"k")
    put(server, f"{prefix}/gone.txt", b"g")
    put(server, f"{prefix}/tree/x.txt", b"x")
    put(server, f"{prefix}/tree/y/z.txt", b"z")
    resp = server.http.delete(f"{server.url}{ARTIFACTS}/{prefix}/gone.txt", timeout=30)
    assert resp.status_code == 200, resp.text
    assert get(server, f"{prefix}/gone.txt").status_code == 404
    resp = server.http.delete(f"{server.url}{ARTIFACTS}/{prefix}/tree", timeout=30)
    assert resp.status_code == 200, resp.text
    assert get(server, f"{prefix}/tree/y/z.txt").status_code == 404
    assert set(listing(server, prefix)) == {"keep.txt"}
    assert get(server, f"{prefix}/keep.txt").content == b"k"


def test_names_with_spaces_and_unicode(server, prefix):
    """Percent-encoded names (spaces, unicode) round-trip and list decoded."""
    assert put(server, f"{prefix}/with%20space%20%C3%A9.txt", b"s").status_code == 200
    assert get(server, f"{prefix}/with%20space%20%C3%A9.txt").content == b"s"
    assert "with space \u00e9.txt" in listing(server, prefix)


# ---------------------------------------------------------------------------
# path traversal
# ---------------------------------------------------------------------------

TRAVERSAL_TARGETS = [
    "{p}/../../../../../../tmp/{canary}",
    "../{canary}",
    "{p}/a/../../../{canary}",
    "{p}/%2e%2e/%2e%2e/%2e%2e/{canary}",
    "{p}/%2E%2E/%2E%2E/{canary}",
    "{p}/..%2f..%2f..%2f{canary}",
    "{p}/%2e%2e%2f%2e%2e%2f{canary}",
    "{p}/%252e%252e/%252e%252e/{canary}",
    "%2Ftmp%2F{canary}",
    "/tmp/{canary}",
]


@pytest.mark.parametrize("template", TRAVERSAL_TARGETS)
def test_traversal_rejected_for_put_get_delete(server, prefix, template, tmp_path):
    """``..``/absolute paths (raw, %-encoded, double-encoded) are INVALID_PARAMETER_VALUE."""
    canary = f"canary-{uuid.uuid4().hex}"
    target = ARTIFACTS + "/" + template.format(p=prefix, canary=canary)
    for method, body in (("PUT", b"pwned"), ("GET", None), ("DELETE", None)):
        status, _, payload = raw(server, method, target, body=body)
        assert status == 400, f"{method} {target} -> {status} {payload[:300]!r}"
        assert json.loads(payload)["error_code"] == "INVALID_PARAMETER_VALUE"
    assert not Path("/tmp", canary).exists()
    assert not (server.data_dir.parent / canary).exists()
    assert not (server.data_dir / canary).exists()


def test_traversal_get_does_not_leak_files(server):
    """Classic /etc/passwd traversal returns 400 and no file content."""
    for target in (
        ARTIFACTS + "/../../../../../../../../etc/passwd",
        ARTIFACTS + "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        ARTIFACTS + "//etc/passwd",
    ):
        status, _, payload = raw(server, "GET", target)
        assert status == 400, f"{target} -> {status}"
        assert b"root:" not in payload


@pytest.mark.parametrize("path", ["..", "../..", "a/../..", "/etc", "%2e%2e", "x/%2e%2e/%2e%2e"])
def test_traversal_rejected_for_listing(server, path):
    """The ?path= of the artifact listing is validated the same way."""
    resp = server.http.get(f"{server.url}{ARTIFACTS}", params={"path": path}, timeout=30)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


# ---------------------------------------------------------------------------
# tracking API: artifacts/list for a run
# ---------------------------------------------------------------------------


def run_prefix(run):
    """Proxy-relative location of a run's artifact root (mlflow-artifacts:/<rel>)."""
    uri = run["info"]["artifact_uri"]
    assert uri.startswith("mlflow-artifacts:/")
    return uri[len("mlflow-artifacts:/"):].lstrip("/")


def test_run_artifacts_list(server, api, experiment_id):
    """artifacts/list returns root_uri and run-relative paths for files and dirs."""
    run = api.create_run(experiment_id)
    run_id = run["info"]["run_id"]
    rel = run_prefix(run)
    assert rel == f"{experiment_id}/{run_id}/artifacts"
    put(server, f"{rel}/my.file", b"Hello, World!")
    put(server, f"{rel}/dir/my.file", b"Hello, World!")
    put(server, f"{rel}/dir/sub/deep.bin", b"\x00\x01")

    body = api.ok("GET", "artifacts/list", params={"run_id": run_id})
    assert body["root_uri"] == run["info"]["artifact_uri"]
    files = {f["path"]: f for f in body["files"]}
    assert set(files) == {"my.file", "dir"}
    assert files["my.file"] == {"path": "my.file", "is_dir": False, "file_size": 13}
    assert files["dir"]["is_dir"] is True

    body = api.ok("GET", "artifacts/list", params={"run_id": run_id, "path": "dir"})
    files = {f["path"]: f for f in body["files"]}
    assert set(files) == {"dir/my.file", "dir/sub"}
    assert files["dir/my.file"]["file_size"] == 13
    assert files["dir/sub"]["is_dir"] is True

    body = api.ok("GET", "artifacts/list", params={"run_uuid": run_id, "path": "dir/sub"})
    assert body["files"] == [{"path": "dir/sub/deep.bin", "is_dir": False, "file_size": 2}]


def test_run_artifacts_list_empty(api, run_id):
    """A run without artifacts lists no files but still reports root_uri."""
    body = api.ok("GET", "artifacts/list", params={"run_id": run_id})
    assert body["root_uri"].endswith(f"/{run_id}/artifacts")
    assert body.get("files", []) == []


def test_run_artifacts_list_errors(api, run_id):
    """Unknown run -> 404; traversal in path -> 400 INVALID_PARAMETER_VALUE."""
    resp = api("GET", "artifacts/list", params={"run_id": "0" * 32})
    api.expect_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")
    for bad in ("../path", "/etc", "a/../../b", "%2e%2e/x"):
        resp = api("GET", "artifacts/list", params={"run_id": run_id, "path": bad})
        api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_run_artifacts_list_via_ajax(server, ajax, api, experiment_id):
    """artifacts/list is also served under /ajax-api/."""
    run = api.create_run(experiment_id)
    put(server, f"{run_prefix(run)}/x.txt", b"abc")
    body = ajax.ok("GET", "artifacts/list", params={"run_id": run["info"]["run_id"]})
    assert body["files"] == [{"path": "x.txt", "is_dir": False, "file_size": 3}]
