"""Operational behaviour: health, metrics, keep-alive, robustness, concurrency, shutdown."""

import http.client
import json
import re
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

COUNTER_RE = re.compile(r"^loam_http_requests_total(\{[^}]*\})?\s+([0-9.eE+-]+)")


def scrape(server):
    resp = requests.get(server.url + "/metrics", timeout=10)
    assert resp.status_code == 200
    return resp


def counters(text, label_substring=""):
    """Sum of loam_http_requests_total samples whose labels contain label_substring."""
    total = 0.0
    for line in text.splitlines():
        m = COUNTER_RE.match(line)
        if m and label_substring in (m.group(1) or ""):
            total += float(m.group(2))
    return total


# ---------------------------------------------------------------------------
# health, metrics, keep-alive
# ---------------------------------------------------------------------------


def test_health(server):
    """GET /health answers 200."""
    resp = requests.get(server.url + "/health", timeout=5)
    assert resp.status_code == 200


def test_prometheus_metrics(server, api):
    """/metrics is Prometheus text with per-route request counters that increase."""
    resp = scrape(server)
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert any(line.startswith("# TYPE loam_http_requests") for line in resp.text.splitlines())
    before_all = counters(resp.text)
    before_exp = counters(resp.text, "experiments")
    for _ in range(5):
        api.ok("GET", "experiments/get", params={"experiment_id": "0"})
    after = scrape(server).text
    assert any(COUNTER_RE.match(line) for line in after.splitlines()), after[:2000]
    assert counters(after) >= before_all + 5
    assert counters(after, "experiments") >= before_exp + 5, "expected a per-route label naming the route"


def test_keep_alive_reuses_connection(server):
    """Several requests (GET and POST, including errors) share one TCP connection."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.connect()
        sock = conn.sock
        requests_ = [
            ("GET", "/health", None),
            ("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", None),
            ("POST", "/api/2.0/mlflow/experiments/search", json.dumps({"max_results": 1})),
            ("GET", "/api/2.0/mlflow/experiments/get?experiment_id=987654321", None),  # 404
            ("POST", "/api/2.0/mlflow/experiments/create", "{bad json"),  # 400
            ("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", None),
        ]
        statuses = []
        for method, path, body in requests_:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
            assert conn.sock is sock, f"connection was not kept alive after {method} {path}"
        assert statuses == [200, 200, 200, 404, 400, 200]
    finally:
        conn.close()


def test_requests_session_keep_alive(server):
    """A requests.Session can issue many sequential calls without errors."""
    with requests.Session() as s:
        for _ in range(20):
            r = s.get(server.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}, timeout=10)
            assert r.status_code == 200
            assert r.json()["experiment"]["name"] == "Default"


# ---------------------------------------------------------------------------
# error handling and robustness
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/2.0/mlflow/does-not-exist",
        "/api/2.0/mlflow/experiments/frobnicate",
        "/ajax-api/2.0/mlflow/nope",
        "/api/2.0/mlflow-artifacts/nope",
    ],
)
def test_unknown_mlflow_endpoint(server, path):
    """Unknown routes under the MLflow prefixes are 404 ENDPOINT_NOT_FOUND (JSON)."""
    for method in ("GET", "POST"):
        resp = requests.request(method, server.url + path, json={}, timeout=10)
        assert resp.status_code == 404
        assert resp.json()["error_code"] == "ENDPOINT_NOT_FOUND"


@pytest.mark.parametrize("path", ["/api/2.1/mlflow/experiments/get", "/totally/unknown"])
def test_unknown_path_outside_mlflow(server, path):
    """Paths outside any API are a plain 404."""
    assert requests.get(server.url + path, timeout=10).status_code == 404


def test_wrong_method(server):
    """A known path with the wrong method is a clean 404/405, not a 500."""
    resp = requests.get(server.url + "/api/2.0/mlflow/runs/create", timeout=10)
    assert resp.status_code in (404, 405)
    resp = requests.delete(server.url + "/api/2.0/mlflow/experiments/get", timeout=10)
    assert resp.status_code in (404, 405)


@pytest.mark.parametrize(
    "body",
    [
        b"{bad json",
        b'{"name": "x",}',
        b"[1, 2, 3]",
        b'"just a string"',
        b"42",
        b"null",
        b'{"name": "ok"} trailing',
    ],
)
def test_malformed_json_body(server, body):
    """Malformed or non-object JSON bodies are a 400 JSON error."""
    resp = requests.post(
        server.url + "/api/2.0/mlflow/experiments/create",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "MALFORMED_REQUEST", "BAD_REQUEST")


def test_invalid_utf8_and_deep_nesting(server):
    """Hostile JSON (invalid UTF-8, 100k-deep nesting) never crashes the server."""
    hostile = [
        b'{"name": "\xff\xfe\xfd"}',
        b'{"name": "\\ud800"}',
        b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"name": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
    ]
    for body in hostile:
        resp = requests.post(
            server.url + "/api/2.0/mlflow/experiments/create",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert resp.status_code < 500, resp.text[:500]
        assert "error_code" in resp.json() or resp.status_code == 200
    assert server.health()


def test_empty_body_post(server, api):
    """POST without a body behaves like {} (missing required field -> 400)."""
    resp = requests.post(server.url + "/api/2.0/mlflow/experiments/create", timeout=10)
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    resp = requests.post(server.url + "/api/2.0/mlflow/runs/log-metric", data=b"", timeout=10)
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_huge_body_rejected_without_hang(server):
    """A 32 MB JSON body is refused (400/413 JSON) or the connection dropped; server survives."""
    body = b'{"name": "' + b"x" * (32 * 1024 * 1024) + b'"}'
    start = time.monotonic()
    try:
        resp = requests.post(
            server.url + "/api/2.0/mlflow/experiments/create",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
    except requests.ConnectionError:
        resp = None  # server refused to read the rest: acceptable
    assert time.monotonic() - start < 30
    if resp is not None:
        assert resp.status_code in (400, 413), resp.text[:300]
        assert "error_code" in resp.json()
    assert server.health()


def test_truncated_request_does_not_wedge_server(server):
    """A client that promises a body and disconnects early doesn't hurt others."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(
            b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": \"tr"
        )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GARBAGE / NOT-HTTP\r\n\r\n")
        try:
            s.recv(1024)
        except OSError:
            pass
    assert server.health()
    assert requests.get(server.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}, timeout=5).ok


def test_idle_connection_does_not_block_others(server):
    """A silent open connection (slow client) does not stop other requests from being served."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as idle:
        idle.sendall(b"GET /health HTTP/1.1\r\n")  # never finishes the headers
        start = time.monotonic()
        assert server.health()
        assert time.monotonic() - start < 3


# ---------------------------------------------------------------------------
# concurrency
# ---------------------------------------------------------------------------


def test_concurrent_metric_logging(server, api, run_id):
    """Parallel writers to one run lose nothing."""
    def worker(w):
        with requests.Session() as s:
            for i in range(25):
                r = s.post(
                    server.url + "/api/2.0/mlflow/runs/log-metric",
                    json={"run_id": run_id, "key": "m", "value": w * 100 + i, "timestamp": 1, "step": w * 100 + i},
                    timeout=30,
                )
                assert r.status_code == 200, r.text

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(worker, range(8)))
    hist = api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "m"})["metrics"]
    assert sorted(m["step"] for m in hist) == sorted(w * 100 + i for w in range(8) for i in range(25))
    assert {m["key"]: m["value"] for m in api.get_run(run_id)["data"]["metrics"]} == {"m": 724.0}


def test_concurrent_create_same_experiment_name(server):
    """Racing creates of one name: exactly one wins, the rest get RESOURCE_ALREADY_EXISTS."""
    name = f"race-{uuid.uuid4().hex}"
    barrier = threading.Barrier(8)

    def create(_):
        barrier.wait()
        r = requests.post(server.url + "/api/2.0/mlflow/experiments/create", json={"name": name}, timeout=30)
        return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(create, range(8)))
    winners = [body for status, body in results if status == 200]
    losers = [body for status, body in results if status != 200]
    assert len(winners) == 1, results
    assert all(b.get("error_code") == "RESOURCE_ALREADY_EXISTS" for b in losers), results


def test_concurrent_param_race(server, api, run_id):
    """Racing different values for one param: exactly one is stored, the rest rejected."""
    barrier = threading.Barrier(6)

    def log(i):
        barrier.wait()
        r = requests.post(
            server.url + "/api/2.0/mlflow/runs/log-parameter",
            json={"run_id": run_id, "key": "p", "value": str(i)},
            timeout=30,
        )
        return i, r.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(log, range(6)))
    ok = [i for i, status in results if status == 200]
    assert len(ok) == 1, results
    assert all(status == 400 for i, status in results if i not in ok), results
    params = {p["key"]: p["value"] for p in api.get_run(run_id)["data"]["params"]}
    assert params == {"p": str(ok[0])}


# ---------------------------------------------------------------------------
# lifecycle
# ---------------------------------------------------------------------------


def test_sigterm_with_open_keepalive_connection(fresh_server):
    """SIGTERM exits 0 within 10 s even while a keep-alive client is connected."""
    conn = http.client.HTTPConnection("127.0.0.1", fresh_server.port, timeout=10)
    conn.request("GET", "/health")
    assert conn.getresponse().read() is not None
    try:
        assert fresh_server.stop() == 0
    finally:
        conn.close()


def test_restart_on_same_port(fresh_server):
    """After a clean stop the server can bind the same port again immediately."""
    port = fresh_server.port
    fresh_server.stop()
    fresh_server.start()
    assert fresh_server.port == port
    assert fresh_server.health()
    assert fresh_server.api.get_experiment("0")["name"] == "Default"


def test_second_server_on_the_same_data_dir_is_refused(server):
    """Two servers on one data directory would trample each other: the second exits at once."""
    import subprocess

    from conftest import free_port, loam_binary

    proc = subprocess.run(
        [str(loam_binary()), "server", "--data-dir", str(server.data_dir), "--port", str(free_port())],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode != 0
    assert "another Loam server is using this data directory" in proc.stderr
    assert server.health()
