"""The serving benchmark's XGBoost model (``bench_serving.py``, paths (c) and (d)).

A small regression Booster trained here on fixed seeded data, its ``model.tar.gz`` in the layout
SageMaker's built-in XGBoost algorithm reads (``xgboost-model`` at the archive's root, no
``code/``), the two containers that serve it through Loam (a ``sagemaker-xgboost`` image with no
``SAGEMAKER_PROGRAM``: natively in the Loam process; the same with ``LOAM_XGBOOST_NATIVE=false``:
by the Python worker), the request both get, the answer both must give (the Booster's own
prediction, one per line as Python's ``repr`` of the float, as the toolkit's CSV encoder writes it),
and the checks that (c) has no worker process and (d) has one.

``bench_serving.py`` imports it after putting ``bench/common`` on ``sys.path``.
"""

from __future__ import annotations

import http.client
import os
import tarfile
import warnings
from pathlib import Path

from loam_bench import BenchError, boto_client

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
NATIVE_ENDPOINT = "loam-bench-xgboost-native"  # (c)
WORKER_ENDPOINT = "loam-bench-xgboost-worker"  # (d)
NATIVE_EVENT = "endpoint.native_xgboost"
S3_KEY = "xgboost/model.tar.gz"

FEATURES = 5
ROWS = 200
ROUNDS = 50
MAX_DEPTH = 4
SEED = 7
PARAMS = {"objective": "reg:squarederror", "max_depth": MAX_DEPTH, "eta": 0.3, "nthread": 1, "seed": SEED}

CONTENT_TYPE = "text/csv"
ACCEPT = "text/csv"
BODY = "0.5,-1.2,0.3,1.1,-0.7\n"


def train():
    """The Booster: ROWS seeded standard-normal rows of FEATURES features, a target linear in them
    plus a bend and noise, ROUNDS rounds of depth-MAX_DEPTH trees. Returns (booster, xgboost version)."""
    import numpy as np
    import xgboost as xgb

    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((ROWS, FEATURES)).astype(np.float32)
    y = x @ np.array([1.5, -2.0, 0.5, 3.0, -1.0]) + 0.5 * np.sin(3 * x[:, 0]) + rng.normal(0, 0.1, ROWS)
    booster = xgb.train(PARAMS, xgb.DMatrix(x, label=y), num_boost_round=ROUNDS)
    return booster, xgb.__version__


def archive(booster, work_dir: Path):
    """``booster.save_model(<work_dir>/xgboost-model)`` (xgboost's default format, UBJSON) and
    ``model.tar.gz`` holding it alone; (archive path, model file size)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    model = work_dir / "xgboost-model"
    with warnings.catch_warnings():
        # No extension, as SageMaker's XGBoost names it: xgboost warns that it picks UBJSON.
        warnings.filterwarnings("ignore", message=".*Saving model in the UBJSON format", category=UserWarning)
        booster.save_model(str(model))
    dest = work_dir / "model.tar.gz"
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(model, arcname="xgboost-model")
    return dest, model.stat().st_size


def expected_answer(booster, body: str = BODY) -> bytes:
    """What both paths must answer: the Booster's prediction for each CSV row of `body`, one per
    line, each as Python's repr() of the float."""
    import numpy as np
    import xgboost as xgb

    rows = [[float(v) for v in line.split(",")] for line in body.splitlines() if line.strip()]
    prediction = booster.predict(xgb.DMatrix(np.array(rows, dtype=np.float64)))
    return "".join(f"{float(v)!r}\n" for v in prediction).encode()


def containers(model_url):
    """{endpoint name: PrimaryContainer}: (c) the built-in model as SageMaker's XGBoost algorithm
    deploys it, (d) the same with the native path turned off."""
    return {
        NATIVE_ENDPOINT: {"Image": IMAGE, "ModelDataUrl": model_url},
        WORKER_ENDPOINT: {"Image": IMAGE, "ModelDataUrl": model_url,
                          "Environment": {"LOAM_XGBOOST_NATIVE": "false"}},
    }


def native_events(server, endpoint):
    """The server log's ``endpoint.native_xgboost`` lines for `endpoint`."""
    return [e for e in server.events() if e.get("event") == NATIVE_EVENT and e.get("endpoint") == endpoint]


def deploy(server, scratch: Path, bucket, create_endpoint, log):
    """Trains the Booster, uploads its model.tar.gz to `bucket` (which must exist) and creates the
    (c) and (d) endpoints with `create_endpoint(sm, name, container, log)`. Returns (booster, facts
    for the report)."""
    booster, version = train()
    path, model_bytes = archive(booster, scratch / "xgboost")
    boto_client("s3", server.url, read_timeout=60).upload_file(str(path), bucket, S3_KEY)
    sm = boto_client("sagemaker", server.url, read_timeout=60)
    deploy_s = {name: create_endpoint(sm, name, container, log)
                for name, container in containers(f"s3://{bucket}/{S3_KEY}").items()}
    return booster, {"xgboost": version, "model_bytes": model_bytes, "deploy_s": deploy_s}


def worker_endpoint(pid, data_dir: Path):
    """The endpoint a worker serves, from its working directory
    (<data dir>/endpoints/<endpoint>/<deployment>/<variant>/instance-<n>); None if elsewhere."""
    try:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        return cwd.relative_to(data_dir.resolve() / "endpoints").parts[0]
    except (OSError, ValueError, IndexError):
        return None


def verify(server, echo_endpoint, echo_pid, workers):
    """With every endpoint deployed, `workers` (the data directory's ``python -m loam_inference``
    pids) must be exactly (a)'s (`echo_pid`) and (d)'s, and the server log must have the native line
    for (c) and none for (d). Returns ((d)'s worker pid, the libxgboost version the line names)."""
    served = {pid: worker_endpoint(pid, server.data_dir) for pid in workers}
    if echo_pid not in served or sorted(served.values()) != sorted([echo_endpoint, WORKER_ENDPOINT]):
        raise BenchError(f"expected two endpoint workers, (a)'s (pid {echo_pid}) and (d)'s, found {served}")
    native = native_events(server, NATIVE_ENDPOINT)
    if not native or native_events(server, WORKER_ENDPOINT):
        raise BenchError(f"expected an {NATIVE_EVENT} log line for {NATIVE_ENDPOINT} and none for "
                         f"{WORKER_ENDPOINT}:\n{server.log_tail()}")
    return next(pid for pid in workers if pid != echo_pid), native[-1].get("libxgboost", "?")


def invoke(port, endpoint):
    """BODY to the endpoint through Loam, on a fresh connection; (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", f"/endpoints/{endpoint}/invocations", body=BODY.encode(),
                     headers={"Content-Type": CONTENT_TYPE, "Accept": ACCEPT})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def check(port, expected: bytes):
    """(c) and (d) answer BODY byte for byte alike, and with `expected` (the Booster's prediction)."""
    answers = {}
    for key, endpoint in (("c", NATIVE_ENDPOINT), ("d", WORKER_ENDPOINT)):
        status, answers[key] = invoke(port, endpoint)
        if status != 200:
            raise BenchError(f"({key}) {endpoint}: HTTP {status} {answers[key][:500]!r}")
    if answers["c"] != answers["d"]:
        raise BenchError(f"(c) native answered {answers['c']!r}, (d) the Python worker {answers['d']!r}")
    if answers["c"] != expected:
        raise BenchError(f"(c) and (d) answered {answers['c']!r}, the Booster predicts {expected!r}")
