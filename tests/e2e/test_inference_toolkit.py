"""End-to-end tests for python/loam_inference, the model server inside each endpoint worker.

Each worker is a real ``python -m loam_inference`` subprocess (no Loam server needed), started
on a free 127.0.0.1 port or a Unix socket with the environment Loam gives it, and driven over
HTTP with ``requests`` and ``http.client``.  Predictions are compared with the model's own
``predict`` on the same rows.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import joblib
import numpy as np
import pytest
import requests

from conftest import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPO_ROOT / "python"
READY_TIMEOUT_S = 60.0


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix-domain stream socket."""

    def __init__(self, path: str, timeout: float = 30.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class Worker:
    """One ``python -m loam_inference`` process, as Loam starts it."""

    def __init__(self, base: Path, model_dir: Path, env: dict | None = None, unix: bool = False):
        self.base = base
        self.base.mkdir(parents=True, exist_ok=True)
        self.model_dir = model_dir
        self.socket_path = str(base / "worker.sock") if unix else ""
        self.port = 0 if unix else free_port()
        self.env = dict(os.environ)
        for name in ("LOAM_WORKER_SOCKET", "SAGEMAKER_BIND_TO_PORT", "SAGEMAKER_PROGRAM",
                     "LOAM_CODE_DIR", "LOAM_RESPONSE_STYLE", "SAGEMAKER_MAX_PAYLOAD_IN_MB"):
            self.env.pop(name, None)
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(PYTHON_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
        self.env["SM_MODEL_DIR"] = str(model_dir)
        if unix:
            self.env["LOAM_WORKER_SOCKET"] = self.socket_path
        else:
            self.env["SAGEMAKER_BIND_TO_PORT"] = str(self.port)
        self.env.update(env or {})
        self.stdout_path = base / "stdout.log"
        self.stderr_path = base / "stderr.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> "Worker":
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "loam_inference"],
                cwd=self.base, env=self.env, stdout=out, stderr=err,
            )
        return self

    def start(self) -> "Worker":
        self.launch()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"worker exited with {self.proc.returncode} during startup\n{self.logs()}")
            try:
                conn = self.connection(timeout=2)
                conn.request("GET", "/ping")
                if conn.getresponse().status == 200:
                    conn.close()
                    return self
                conn.close()
            except OSError:
                pass
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"worker not ready within {READY_TIMEOUT_S}s\n{self.logs()}")

    def wait_exit(self, timeout: float = READY_TIMEOUT_S) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def logs(self) -> str:
        return f"--- stdout ---\n{self.stdout()}\n--- stderr ---\n{self.stderr()}"

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        if self.socket_path:
            return UnixHTTPConnection(self.socket_path, timeout=timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def invoke(self, body, content_type=None, accept=None, headers=None, conn=None,
               path="/invocations", method="POST"):
        """→ (status, headers, body) over http.client (a fresh connection unless given one)."""
        own = conn is None
        conn = conn or self.connection()
        hdrs = dict(headers or {})
        if content_type:
            hdrs["Content-Type"] = content_type
        if accept:
            hdrs["Accept"] = accept
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        result = resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        if own:
            conn.close()
        return result


def _stop_clean(worker: Worker) -> None:
    code = worker.stop()
    assert code == 0, f"worker exited with {code} after SIGTERM\n{worker.logs()}"


def npy_bytes(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def csv_text(rows) -> str:
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)


# ---------------------------------------------------------------------------------------------
# Models

@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.random((400, 4))
    y = X @ np.array([1.5, -2.0, 3.0, 0.5]) + rng.normal(0, 0.05, 400)
    return X, y


@pytest.fixture(scope="module")
def sklearn_model_dir(tmp_path_factory, data):
    from sklearn.ensemble import RandomForestRegressor

    X, y = data
    model = RandomForestRegressor(n_estimators=8, max_depth=5, random_state=0).fit(X, y)
    model_dir = tmp_path_factory.mktemp("sklearn-model")
    joblib.dump(model, model_dir / "model.joblib")
    return model_dir, model


@pytest.fixture(scope="module")
def sk_tcp(tmp_path_factory, sklearn_model_dir):
    model_dir, model = sklearn_model_dir
    worker = Worker(tmp_path_factory.mktemp("sk-tcp"), model_dir, env={
        "SAGEMAKER_MAX_PAYLOAD_IN_MB": "1", "SAGEMAKER_MODEL_SERVER_WORKERS": "4"}).start()
    worker.model = model
    yield worker
    _stop_clean(worker)


@pytest.fixture(scope="module")
def sk_unix(tmp_path_factory, sklearn_model_dir):
    model_dir, model = sklearn_model_dir
    base = tmp_path_factory.mktemp("sk-unix")
    (base / "worker.sock").write_text("stale")  # left by an earlier worker: must be replaced
    worker = Worker(base, model_dir, env={"LOAM_RESPONSE_STYLE": "tfserving"}, unix=True).start()
    worker.model = model
    yield worker
    _stop_clean(worker)
    assert not os.path.exists(worker.socket_path), "socket file left behind after SIGTERM"


@pytest.fixture(scope="module")
def xgb_worker(tmp_path_factory, data):
    import xgboost as xgb  # pinned in python/requirements: a missing xgboost is a failure, not a skip
    X, y = data
    train, valid = xgb.DMatrix(X[:300], label=y[:300]), xgb.DMatrix(X[300:], label=y[300:])
    booster = xgb.train({"max_depth": 3, "eta": 0.3, "objective": "reg:squarederror"}, train,
                        num_boost_round=300, evals=[(valid, "validation")],
                        early_stopping_rounds=5, verbose_eval=False)
    assert booster.best_iteration + 1 < booster.num_boosted_rounds()  # early stopping kicked in
    model_dir = tmp_path_factory.mktemp("xgb-model")
    booster.save_model(str(model_dir / "xgboost-model"))  # SageMaker XGBoost's file name
    worker = Worker(tmp_path_factory.mktemp("xgb"), model_dir).start()
    worker.booster = booster
    yield worker
    _stop_clean(worker)


INFERENCE_PY = '''
import json, os
from helper import scale  # a sibling module: the code dir is on sys.path

def model_fn(model_dir, context):
    with open(os.path.join(model_dir, "weights.json")) as f:
        weights = json.load(f)
    return {"weights": weights, "model_dir_seen": context.system_properties["model_dir"]}

def input_fn(input_data, content_type, context):
    if content_type == "application/x-boom":
        raise ValueError("boom 42")
    if content_type == "application/x-teapot":
        from loam_inference.errors import InferenceError
        raise InferenceError("short and stout", status=418)
    if content_type == "text/plain":
        values = [float(v) for v in input_data.split()]
    elif content_type == "application/octet-stream":
        values = [float(b) for b in input_data]
    else:
        raise ValueError("unexpected content type " + content_type)
    return {"values": values, "body_type": type(input_data).__name__}

def predict_fn(data, model):
    dot = sum(a * b for a, b in zip(data["values"], model["weights"]))
    return {"score": scale(dot), "body_type": data["body_type"]}

def output_fn(prediction, accept, context):
    attributes = context.custom_attributes
    context.set_response_header(0, "X-Amzn-SageMaker-Custom-Attributes", "echo=" + str(attributes))
    body = dict(prediction, accept=accept, attributes=attributes,
                content_type=context.content_type,
                header=context.get_request_header(0, "x-amzn-sagemaker-custom-attributes"))
    return json.dumps(body), "application/vnd.loam+json"
'''


@pytest.fixture(scope="module")
def user_worker(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("user-model")
    (model_dir / "weights.json").write_text("[1, 2, 3]")
    code = model_dir / "code"
    code.mkdir()
    (code / "inference.py").write_text(INFERENCE_PY)
    (code / "helper.py").write_text("def scale(x):\n    return 10 * x\n")
    (code / "requirements.txt").write_text("definitely-not-a-real-package==9.9\n")
    worker = Worker(tmp_path_factory.mktemp("user"), model_dir,
                    env={"SAGEMAKER_PROGRAM": "inference.py"}).start()
    yield worker
    _stop_clean(worker)


TRANSFORM_PY = '''
import json

def model_fn(model_dir):
    return 3.0

def input_fn(input_data, content_type):  # unused: transform_fn takes over
    raise AssertionError("input_fn must not run when transform_fn exists")

def transform_fn(model, data, content_type, accept):
    if content_type == "text/csv":
        row = [model * float(v) for v in data.strip().split(",")]
        return ",".join(repr(v) for v in row), "text/csv"
    if content_type == "application/x-fail":
        raise KeyError("no such thing")
    return json.dumps({"len": len(data), "type": type(data).__name__, "accept": accept})
'''


@pytest.fixture(scope="module")
def transform_worker(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("transform-model")
    code = tmp_path_factory.mktemp("transform-code")  # LOAM_CODE_DIR outside the model dir
    (code / "serve.py").write_text(TRANSFORM_PY)
    worker = Worker(tmp_path_factory.mktemp("transform"), model_dir, env={
        "SAGEMAKER_PROGRAM": "serve.py", "LOAM_CODE_DIR": str(code)}, unix=True).start()
    yield worker
    _stop_clean(worker)


# ---------------------------------------------------------------------------------------------
# scikit-learn (default handlers)

def test_startup_logs_one_line_per_step(sk_tcp):
    out = sk_tcp.stdout()
    assert "loam_inference: starting" in out
    assert "model.joblib" in out and "RandomForestRegressor" in out
    assert f"listening on http://127.0.0.1:{sk_tcp.port}" in out
    assert sk_tcp.stderr().strip() == ""


def test_ping_and_execution_parameters(sk_tcp):
    r = requests.get(sk_tcp.url + "/ping", timeout=10)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == "0"
    r = requests.get(sk_tcp.url + "/execution-parameters", timeout=10)
    assert r.status_code == 200
    assert r.json() == {"MaxConcurrentTransforms": 4, "BatchStrategy": "MULTI_RECORD",
                        "MaxPayloadInMB": 1}


def test_sklearn_csv_in_json_out(sk_tcp, data):
    X, _ = data
    rows = X[:7]
    r = requests.post(sk_tcp.url + "/invocations", data=csv_text(rows),
                      headers={"Content-Type": "text/csv", "Accept": "application/json"},
                      timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == sk_tcp.model.predict(rows).tolist()


def test_sklearn_csv_default_accept_is_csv(sk_tcp, data):
    X, _ = data
    rows = X[10:15]
    # No Accept (requests drops a None header; it sends */* otherwise): a CSV request gets
    # CSV back.  A blank line in the payload is ignored.
    body = csv_text(rows[:2]) + "\n" + csv_text(rows[2:])
    r = requests.post(sk_tcp.url + "/invocations", data=body,
                      headers={"Content-Type": "text/csv", "Accept": None}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/csv"
    lines = r.text.splitlines()
    assert [float(v) for v in lines] == sk_tcp.model.predict(rows).tolist()


def test_sklearn_single_csv_line(sk_tcp, data):
    row = data[0][20]
    r = requests.post(sk_tcp.url + "/invocations", data=",".join(repr(float(v)) for v in row),
                      headers={"Content-Type": "text/csv", "Accept": "*/*"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"  # */* means the default, JSON
    assert r.json() == sk_tcp.model.predict(row.reshape(1, -1)).tolist()


def test_sklearn_json_plain_list(sk_tcp, data):
    rows = data[0][30:36]
    r = requests.post(sk_tcp.url + "/invocations", json=rows.tolist(), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == sk_tcp.model.predict(rows).tolist()


def test_sklearn_tfserving_instances(sk_tcp, data):
    rows = data[0][40:43]
    r = requests.post(sk_tcp.url + "/invocations", json={"instances": rows.tolist()},
                      timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": sk_tcp.model.predict(rows).tolist()}


def test_sklearn_npy_in_npy_out(sk_tcp, data):
    rows = data[0][50:60]
    r = requests.post(sk_tcp.url + "/invocations", data=npy_bytes(rows),
                      headers={"Content-Type": "application/x-npy", "Accept": None}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/x-npy"
    out = np.load(io.BytesIO(r.content), allow_pickle=False)
    np.testing.assert_array_equal(out, sk_tcp.model.predict(rows))


def test_sklearn_csv_out_from_json_and_jsonlines_out(sk_tcp, data):
    rows = data[0][60:64]
    expected = sk_tcp.model.predict(rows).tolist()
    r = requests.post(sk_tcp.url + "/invocations", json=rows.tolist(),
                      headers={"Accept": "text/csv"}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/csv"
    assert [float(v) for v in r.text.splitlines()] == expected
    r = requests.post(sk_tcp.url + "/invocations", json=rows.tolist(),
                      headers={"Accept": "application/xml, application/jsonlines"}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/jsonlines"
    assert [json.loads(line) for line in r.text.splitlines()] == expected


def test_bad_payloads_are_400(sk_tcp):
    cases = [
        ("text/csv", "1,2,3,4\n5,6,x,8\n", "row 2, column 3"),
        ("text/csv", "1,2,3,4\n5,6\n", "row 2 has 2 fields"),
        ("text/csv", "\n  \n", "no rows"),
        ("application/json", "[[1, 2,", "not valid JSON"),
        ("application/x-npy", "not an npy file", "not a valid .npy"),
    ]
    for content_type, body, reason in cases:
        r = requests.post(sk_tcp.url + "/invocations", data=body,
                          headers={"Content-Type": content_type}, timeout=10)
        assert r.status_code == 400, (content_type, body, r.status_code, r.text)
        assert r.headers["Content-Type"] == "text/plain"
        assert r.text.startswith("BadRequest: ") and reason in r.text, r.text


def test_unsupported_content_type_415_and_accept_406(sk_tcp):
    r = requests.post(sk_tcp.url + "/invocations", data=b"\x89PNG",
                      headers={"Content-Type": "image/png"}, timeout=10)
    assert r.status_code == 415 and "image/png" in r.text
    r = requests.post(sk_tcp.url + "/invocations", data="[[1,2,3,4]]",
                      headers={"Content-Type": "application/json", "Accept": "application/xml"},
                      timeout=10)
    assert r.status_code == 406 and "application/xml" in r.text


def test_predict_error_is_500_with_message(sk_tcp):
    # Three features for a four-feature model: scikit-learn's own ValueError comes back.
    r = requests.post(sk_tcp.url + "/invocations", data="1,2,3\n",
                      headers={"Content-Type": "text/csv"}, timeout=10)
    assert r.status_code == 500
    assert r.text.startswith("ValueError: ") and "features" in r.text, r.text
    assert "Traceback" in sk_tcp.stderr()  # the worker logs the traceback of a 500


def test_unknown_path_404_and_wrong_method_405(sk_tcp):
    assert requests.get(sk_tcp.url + "/nope", timeout=10).status_code == 404
    assert requests.post(sk_tcp.url + "/nope", data="x", timeout=10).status_code == 404
    assert requests.get(sk_tcp.url + "/invocations", timeout=10).status_code == 405


def test_payload_over_limit_is_413_and_connection_survives(sk_tcp, data):
    rows = data[0][:3]
    conn = sk_tcp.connection()
    big = b"1,2,3,4\n" * (1024 * 1024 // 8 + 1000)  # just over SAGEMAKER_MAX_PAYLOAD_IN_MB=1
    status, headers, body = sk_tcp.invoke(big, "text/csv", conn=conn)
    assert status == 413, body
    assert b"SAGEMAKER_MAX_PAYLOAD_IN_MB" in body
    # The refused body was drained: the same connection serves the next request.
    status, _, body = sk_tcp.invoke(csv_text(rows), "text/csv", "application/json", conn=conn)
    assert status == 200 and json.loads(body) == sk_tcp.model.predict(rows).tolist()
    conn.close()


def test_keep_alive_many_requests_one_connection_tcp(sk_tcp, data):
    X = data[0]
    conn = sk_tcp.connection()
    first_sock = None
    for i in range(10):
        status, headers, body = sk_tcp.invoke(json.dumps([X[i].tolist()]), "application/json",
                                              conn=conn)
        assert status == 200
        assert json.loads(body) == sk_tcp.model.predict(X[i:i + 1]).tolist()
        assert headers.get("connection", "").lower() != "close"
        # http.client drops its socket (sock = None) after a response it must close on, and
        # opens a new one for the next request: the socket is still open, and the same one.
        assert conn.sock is not None, f"request {i}: the connection was closed after the response"
        if first_sock is None:
            first_sock = conn.sock
        assert conn.sock is first_sock  # never reconnected
    conn.close()


def run_clients(connect, request, threads: int = 16, per_thread: int = 20) -> None:
    """`per_thread` requests on each of `threads` threads, each thread on a connection of its own
    (`connect()`, closed at the end); `request(conn, t, i)` returns None when the answer is right,
    else what was wrong. An exception in a thread would only be a warning: each is recorded as a
    failure. Asserts every request was answered correctly."""
    failures = []
    answered = []  # one entry per request answered correctly

    def client(t):
        try:
            conn = connect()
            try:
                for i in range(per_thread):
                    wrong = request(conn, t, i)
                    if wrong is None:
                        answered.append((t, i))
                    else:
                        failures.append(wrong)
            finally:
                conn.close()
        except Exception as e:  # noqa: BLE001 - asserted on below
            failures.append((t, f"{type(e).__name__}: {e}"))

    pool = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in pool)
    assert failures == []
    assert len(answered) == threads * per_thread


def test_concurrency_16_threads_x_20_requests(sk_tcp, data):
    X = data[0]
    expected = sk_tcp.model.predict(X)

    def request(session, t, i):
        k = (t * 20 + i) % len(X)
        fmt = i % 3
        if fmt == 0:
            r = session.post(sk_tcp.url + "/invocations", json=[X[k].tolist()], timeout=30)
            got = r.json()[0] if r.status_code == 200 else None
        elif fmt == 1:  # (a Session sends Accept: */*, which means JSON: ask for each format)
            r = session.post(sk_tcp.url + "/invocations", data=csv_text(X[k:k + 1]),
                             headers={"Content-Type": "text/csv", "Accept": "text/csv"}, timeout=30)
            got = float(r.text) if r.status_code == 200 else None
        else:
            r = session.post(sk_tcp.url + "/invocations", data=npy_bytes(X[k:k + 1]),
                             headers={"Content-Type": "application/x-npy", "Accept": "application/x-npy"}, timeout=30)
            got = (np.load(io.BytesIO(r.content))[0] if r.status_code == 200 else None)
        return None if got == expected[k] else (t, i, r.status_code, r.text[:200], got, expected[k])

    run_clients(requests.Session, request)


# ---------------------------------------------------------------------------------------------
# Unix socket, LOAM_RESPONSE_STYLE=tfserving

def test_unix_socket_tfserving_style(sk_unix, data):
    rows = data[0][100:104]
    expected = sk_unix.model.predict(rows).tolist()
    status, headers, body = sk_unix.invoke(json.dumps(rows.tolist()), "application/json")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"predictions": expected}  # always wrapped in this style
    status, headers, body = sk_unix.invoke(csv_text(rows), "text/csv")
    assert status == 200 and [float(v) for v in body.decode().splitlines()] == expected
    assert f"listening on unix:{sk_unix.socket_path}" in sk_unix.stdout()


def test_unix_socket_keep_alive_and_ping(sk_unix, data):
    X = data[0]
    conn = sk_unix.connection()
    status, headers, body = sk_unix.invoke(None, path="/ping", method="GET", conn=conn)
    assert status == 200 and body == b"" and headers["content-length"] == "0"
    sock = conn.sock
    assert sock is not None, "the connection was closed after /ping"
    for i in range(8):
        status, _, body = sk_unix.invoke(npy_bytes(X[i:i + 2]), "application/x-npy",
                                         "application/json", conn=conn)
        assert status == 200
        assert json.loads(body) == {"predictions": sk_unix.model.predict(X[i:i + 2]).tolist()}
        assert conn.sock is not None and conn.sock is sock
    conn.close()


def test_unix_socket_concurrency(sk_unix, data):
    X = data[0]
    expected = sk_unix.model.predict(X)

    def request(conn, t, i):
        k = (t * 31 + i) % len(X)
        status, _, body = sk_unix.invoke(csv_text(X[k:k + 1]), "text/csv", "application/json", conn=conn)
        if status != 200 or json.loads(body) != {"predictions": [expected[k]]}:
            return (t, i, status, body[:200])
        return None

    run_clients(sk_unix.connection, request)


# ---------------------------------------------------------------------------------------------
# XGBoost

def test_xgboost_booster_csv_and_json(xgb_worker, data):
    import xgboost as xgb
    rows = data[0][:9]
    booster = xgb_worker.booster
    expected = booster.predict(xgb.DMatrix(rows),
                               iteration_range=(0, booster.best_iteration + 1)).tolist()
    assert expected != booster.predict(xgb.DMatrix(rows)).tolist()  # best_iteration matters
    r = requests.post(xgb_worker.url + "/invocations", data=csv_text(rows),
                      headers={"Content-Type": "text/csv", "Accept": "application/json"},
                      timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == expected
    r = requests.post(xgb_worker.url + "/invocations", json={"instances": rows.tolist()},
                      timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": expected}
    assert "xgboost-model" in xgb_worker.stdout() and "Booster" in xgb_worker.stdout()


def test_xgboost_libsvm(xgb_worker, data):
    import xgboost as xgb
    from scipy.sparse import csr_matrix

    rows = data[0][200:205].copy()
    rows[:, 3] = 0.0  # the last feature left out of every line: the worker pads the width
    rows[1, 0] = 0.0
    lines = []
    for row in rows:
        features = " ".join(f"{j}:{float(v)!r}" for j, v in enumerate(row) if v != 0.0)
        lines.append(f"0 {features}")
    r = requests.post(xgb_worker.url + "/invocations", data="\n".join(lines),
                      headers={"Content-Type": "text/libsvm", "Accept": "text/csv"}, timeout=10)
    assert r.status_code == 200, r.text
    # An entry LIBSVM leaves out is "missing" to XGBoost (not 0.0): expect the sparse result.
    booster = xgb_worker.booster
    expected = booster.predict(xgb.DMatrix(csr_matrix(rows)),
                               iteration_range=(0, booster.best_iteration + 1))
    got = [float(v) for v in r.text.splitlines()]
    assert len(got) == 5
    assert got == expected.tolist()


# ---------------------------------------------------------------------------------------------
# User handlers

def test_user_handlers_with_context_and_custom_attributes(user_worker):
    status, headers, body = user_worker.invoke(
        "1 2 3", "text/plain", "application/json",
        headers={"X-Amzn-SageMaker-Custom-Attributes": "trace=abc,mode=fast"})
    assert status == 200, body
    assert headers["content-type"] == "application/vnd.loam+json"
    assert headers["x-amzn-sagemaker-custom-attributes"] == "echo=trace=abc,mode=fast"
    result = json.loads(body)
    assert result == {
        "score": 10 * (1 * 1 + 2 * 2 + 3 * 3), "body_type": "str", "accept": "application/json",
        "attributes": "trace=abc,mode=fast", "content_type": "text/plain",
        "header": "trace=abc,mode=fast",
    }


def test_user_handlers_binary_body_is_bytes(user_worker):
    # No Accept and a non-echoed type: the default accept (JSON) reaches output_fn.
    status, headers, body = user_worker.invoke(bytes([4, 5, 6]), "application/octet-stream")
    assert status == 200, body
    result = json.loads(body)
    assert result["body_type"] == "bytes"
    assert result["score"] == 10 * (4 * 1 + 5 * 2 + 6 * 3)
    assert result["accept"] == "application/json" and result["attributes"] is None


def test_user_handler_raises_500_and_custom_status(user_worker):
    status, headers, body = user_worker.invoke("x", "application/x-boom")
    assert status == 500 and headers["content-type"] == "text/plain"
    assert body == b"ValueError: boom 42"
    status, _, body = user_worker.invoke("x", "application/x-teapot")
    assert status == 418 and body == b"InferenceError: short and stout"


def test_user_output_fn_gets_unlisted_accept(user_worker):
    # A custom output_fn may produce any type: no 406 from the toolkit.
    status, _, body = user_worker.invoke("1 0 0", "text/plain", "application/x-custom")
    assert status == 200 and json.loads(body)["accept"] == "application/x-custom"


def test_requirements_txt_is_logged_not_installed(user_worker):
    out = user_worker.stdout()
    assert "requirements.txt is not installed" in out
    assert "handlers model_fn, input_fn, predict_fn, output_fn" in out


def test_transform_fn(transform_worker):
    status, headers, body = transform_worker.invoke("1.5,2,4", "text/csv")
    assert status == 200, body
    assert headers["content-type"] == "text/csv" and body == b"4.5,6.0,12.0"
    status, headers, body = transform_worker.invoke(b"\x00\x01\x02", "application/x-bin",
                                                    "application/json")
    assert status == 200, body
    assert headers["content-type"] == "application/json"  # a plain str result gets the accept
    assert json.loads(body) == {"len": 3, "type": "bytes", "accept": "application/json"}
    status, _, body = transform_worker.invoke('{"a": 1}', "application/json", "text/html")
    assert status == 200 and json.loads(body) == {"len": 8, "type": "str", "accept": "text/html"}
    status, _, body = transform_worker.invoke("x", "application/x-fail")
    assert status == 500 and body == b"KeyError: 'no such thing'"
    assert "chain: transform_fn (input_fn unused)" in transform_worker.stdout(), transform_worker.stdout()


def _raw_response(sock) -> tuple[int, dict, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-response: {buf!r}"
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    length = int(headers["content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def test_raw_http_framing_over_unix_socket(transform_worker):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(transform_worker.socket_path)
        # Chunked body, then Expect: 100-continue, on one connection.
        sock.sendall(b"POST /invocations HTTP/1.1\r\nContent-Type: text/csv\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n4\r\n1,2,\r\n1\r\n3\r\n0\r\n\r\n")
        status, headers, body = _raw_response(sock)
        assert (status, body) == (200, b"3.0,6.0,9.0") and "connection" not in headers
        sock.sendall(b"POST /invocations HTTP/1.1\r\nContent-Type: text/csv\r\n"
                     b"Content-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"2,2")
        assert _raw_response(sock)[::2] == (200, b"6.0,6.0")
        # HTTP/1.0 without keep-alive: answered, then closed.
        sock.sendall(b"POST /invocations HTTP/1.0\r\nContent-Type: text/csv\r\n"
                     b"Content-Length: 1\r\n\r\n5")
        status, headers, body = _raw_response(sock)
        assert (status, body, headers["connection"]) == (200, b"15.0", "close")
        assert sock.recv(10) == b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(transform_worker.socket_path)
        sock.sendall(b"GARBAGE\r\n\r\n")
        status, headers, _ = _raw_response(sock)
        assert status == 400 and headers["connection"] == "close"


# ---------------------------------------------------------------------------------------------
# MLflow pyfunc model (MLmodel)

def test_mlflow_pyfunc_model(tmp_path, data):
    import mlflow.sklearn as mlflow_sklearn  # in the suite's virtualenv: missing is a failure, not a skip
    from sklearn.linear_model import Ridge

    X, y = data
    model = Ridge(alpha=0.1).fit(X, y)
    model_dir = tmp_path / "model"
    mlflow_sklearn.save_model(model, str(model_dir), pip_requirements=[])
    worker = Worker(tmp_path / "worker", model_dir).start()
    try:
        rows = X[:5]
        status, _, body = worker.invoke(csv_text(rows), "text/csv", "application/json")
        assert status == 200, body
        assert json.loads(body) == model.predict(rows).tolist()
        assert "mlflow.pyfunc.load_model" in worker.stdout()
    finally:
        _stop_clean(worker)


# ---------------------------------------------------------------------------------------------
# Startup failures: non-zero exit, a one-line reason as the last stderr line

def _last_stderr_line(worker: Worker) -> str:
    lines = [line for line in worker.stderr().splitlines() if line.strip()]
    assert lines, worker.logs()
    return lines[-1]


def test_model_fn_failure_exits_nonzero_with_reason(tmp_path):
    model_dir = tmp_path / "model"
    (model_dir / "code").mkdir(parents=True)
    (model_dir / "code" / "inference.py").write_text(
        "import os\n"
        "def model_fn(model_dir):\n"
        "    return open(os.path.join(model_dir, 'weights.bin'), 'rb')\n")
    worker = Worker(tmp_path / "w", model_dir, env={"SAGEMAKER_PROGRAM": "inference.py"})
    code = worker.launch().wait_exit()
    assert code != 0
    last = _last_stderr_line(worker)
    assert last.startswith("loam_inference: model_fn failed: FileNotFoundError: "), last
    assert "weights.bin" in last
    assert "Traceback" in worker.stderr()


def test_no_model_file_lists_what_was_looked_for(tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "notes.txt").write_text("hello")
    worker = Worker(tmp_path / "w", model_dir)
    assert worker.launch().wait_exit() != 0
    last = _last_stderr_line(worker)
    assert last.startswith("loam_inference: model_fn failed: FileNotFoundError: no model file")
    assert "xgboost-model" in last and "*.joblib" in last and "notes.txt" in last


def test_broken_user_script_and_missing_program(tmp_path):
    model_dir = tmp_path / "model"
    (model_dir / "code").mkdir(parents=True)
    (model_dir / "code" / "inference.py").write_text("def model_fn(model_dir:\n")
    worker = Worker(tmp_path / "w1", model_dir, env={"SAGEMAKER_PROGRAM": "inference.py"})
    assert worker.launch().wait_exit() != 0
    assert _last_stderr_line(worker).startswith(
        "loam_inference: importing inference.py failed: SyntaxError: ")
    worker = Worker(tmp_path / "w2", model_dir, env={"SAGEMAKER_PROGRAM": "missing.py"})
    assert worker.launch().wait_exit() != 0
    last = _last_stderr_line(worker)
    assert last.startswith("loam_inference: importing missing.py failed: FileNotFoundError: ")


def test_state_dict_pth_needs_model_fn_or_torch(tmp_path):
    # Without torch installed, or with a non-TorchScript file, the reason says what to do.
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.pth").write_bytes(b"not a torchscript archive")
    worker = Worker(tmp_path / "w", model_dir)
    assert worker.launch().wait_exit() != 0
    last = _last_stderr_line(worker)
    assert last.startswith("loam_inference: model_fn failed: ModelLoadError: "), last
    # (Not just "model_fn" in last: the prefix above always contains it.)
    assert "model.pth" in last, last
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "needs PyTorch, which is not installed" in last, last
    else:
        assert "is not a TorchScript module" in last and "define model_fn(model_dir)" in last, last
