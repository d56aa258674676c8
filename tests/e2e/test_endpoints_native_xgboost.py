"""Built-in XGBoost models served natively (libxgboost's C API in the Loam process, no Python on
the request path), checked against Loam's Python worker serving the same model.

Each endpoint has two variants of one ``xgboost-model`` (trained here with the suite's xgboost,
saved in its default UBJSON format): ``native`` (an XGBoost image and no inference script, so
Loam serves it in process) and ``python`` (the same model with ``LOAM_XGBOOST_NATIVE=false``, so
a ``python -m loam_inference`` worker serves it). Every request goes to both with
``TargetVariant``; status, content type and body must be byte-identical, and the predictions
must be the Booster's own. Models libxgboost cannot read fall back to the Python worker, with
the reason in the server's log.
"""

from __future__ import annotations

import io
import json
import pickle
import tarfile
import uuid
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

# pytest fixtures, imported by name so that this module gets its own module-scoped instances
from endpoint_helpers import hosting  # noqa: F401
from endpoint_helpers import raw_invoke, variant, worker_pids

pytestmark = pytest.mark.timeout(240)

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
CSV, JSON, LIBSVM = "text/csv", "application/json", "text/libsvm"
ACCEPTS = [None, JSON, CSV, "application/jsonlines", "application/x-npy", "*/*", "text/html, text/csv",
           "text/html"]


def features(rows: int, seed: int) -> np.ndarray:
    return np.random.RandomState(seed).uniform(-2.0, 2.0, size=(rows, 5)).round(4)


def csv_rows(x) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in x) + "\n"


def libsvm_rows(x) -> str:
    """LIBSVM with zero features left out (missing) and a label, as SageMaker's examples write it."""
    return "".join("0 " + " ".join(f"{j}:{v!r}" for j, v in enumerate(map(float, row)) if v != 0.0) + "\n"
                   for row in x)


def xgboost_archive(workdir, label: str, save) -> Path:
    folder = workdir / label
    folder.mkdir(parents=True, exist_ok=True)
    save(folder / "xgboost-model")
    archive = folder / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder / "xgboost-model", arcname="xgboost-model")
    return archive


def both_variants(hosting, archive, label: str):
    uri = hosting.upload(archive, f"xgboost/{label}-{uuid.uuid4().hex[:6]}/model.tar.gz")
    native = _model(hosting, uri, {})
    python = _model(hosting, uri, {"LOAM_XGBOOST_NATIVE": "false"})
    return hosting.deploy([variant("native", native), variant("python", python)])


def _model(hosting, uri: str, environment: dict) -> str:
    name = f"e2e-xgb-{uuid.uuid4().hex[:10]}"
    container = {"Image": XGBOOST_IMAGE, "ModelDataUrl": uri}
    if environment:
        container["Environment"] = environment
    hosting.sm.create_model(ModelName=name, ExecutionRoleArn="arn:aws:iam::000000000000:role/e2e",
                            PrimaryContainer=container)
    hosting.models.append(name)
    return name


def call(hosting, endpoint: str, target: str, body: str, content_type: str, accept: str | None):
    """(status, content type, body) from one variant, errors included."""
    kwargs = {"EndpointName": endpoint, "Body": body, "ContentType": content_type, "TargetVariant": target}
    if accept:
        kwargs["Accept"] = accept
    try:
        resp = hosting.runtime.invoke_endpoint(**kwargs)
    except hosting.runtime.exceptions.ModelError as err:
        return err.response["OriginalStatusCode"], None, err.response["OriginalMessage"].encode()
    assert resp["InvokedProductionVariant"] == target
    return 200, resp["ContentType"], resp["Body"].read()


def assert_same(hosting, endpoint: str, body: str, content_type: str, accept: str | None):
    native = call(hosting, endpoint, "native", body, content_type, accept)
    python = call(hosting, endpoint, "python", body, content_type, accept)
    why = f"{content_type} -> {accept}:\nnative {native[:2]} {native[2][:300]!r}\npython {python[:2]} {python[2][:300]!r}"
    if native[0] == 500:
        # libxgboost's own failure: the two libraries (1.7 here, 2.1 in the worker) word it
        # differently, so only the status and the error type must agree.
        assert python[0] == 500 and native[2].startswith(b"XGBoostError: ") and python[2].startswith(b"XGBoostError: "), why
        assert b"Stack trace" not in native[2], why
    else:
        assert native == python, why
    return native


@pytest.fixture(scope="module")
def regression(hosting):
    x = features(300, 1)
    y = x @ np.array([1.5, -2.0, 0.5, 3.0, -1.0]) + 4.0
    train, valid = xgb.DMatrix(x[:240], label=y[:240]), xgb.DMatrix(x[240:], label=y[240:])
    # Early stopping leaves best_iteration in the model: both servers must stop there too.
    booster = xgb.train({"max_depth": 4, "eta": 0.3}, train, num_boost_round=200, evals=[(valid, "v")],
                        early_stopping_rounds=5, verbose_eval=False)
    assert booster.best_iteration < 199
    archive = xgboost_archive(hosting.workdir, "xgb-regression", lambda p: booster.save_model(str(p)))
    ep = both_variants(hosting, archive, "regression")
    ep.booster = booster
    return ep


def test_native_variant_runs_no_worker_and_says_so(hosting, regression):
    assert len(worker_pids(regression.name)) == 1  # the python variant's only
    log = hosting.server.log_tail(200_000)
    native_lines = [json.loads(line) for line in log.splitlines()
                    if '"endpoint.native_xgboost"' in line and regression.name in line]
    assert [line["variant"] for line in native_lines] == ["native"], native_lines


def test_predictions_are_the_boosters_own(hosting, regression):
    x = features(20, 2)
    status, content_type, body = assert_same(hosting, regression.name, csv_rows(x), CSV, JSON)
    assert status == 200 and content_type == JSON
    expected = regression.booster.predict(xgb.DMatrix(x), iteration_range=(0, regression.booster.best_iteration + 1))
    np.testing.assert_array_equal(np.asarray(json.loads(body), dtype=np.float32), expected)


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("content_type", [CSV, LIBSVM, "text/x-libsvm"])
def test_every_format_matches_the_python_worker(hosting, regression, content_type, accept):
    x = features(7, 3)
    x[2, 1] = 0.0
    body = csv_rows(x) if content_type == CSV else libsvm_rows(x)
    assert_same(hosting, regression.name, body, content_type, accept)


@pytest.mark.parametrize("body", ["1,2,3,4,x\n", "1,2,3,4,5\n1,2\n", "\n\n", " 1, 2 ,3,+4,5\r\n1e-3,nan,inf,-inf,0\n",
                                  "1,2,3,4,5,6\n"])
def test_csv_edge_cases_match_the_python_worker(hosting, regression, body):
    assert_same(hosting, regression.name, body, CSV, CSV)


@pytest.mark.parametrize("body", ["1 0:1.5 x:2\n", "0:1 -1:2\n", "# only a comment\n", "3:1.5 7:2\n"])
def test_libsvm_edge_cases_match_the_python_worker(hosting, regression, body):
    assert_same(hosting, regression.name, body, LIBSVM, JSON)


def test_multiclass_probabilities_match(hosting):
    x = features(150, 4)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3},
                        xgb.DMatrix(x, label=labels), num_boost_round=10)
    archive = xgboost_archive(hosting.workdir, "xgb-multiclass", lambda p: booster.save_model(str(p)))
    ep = both_variants(hosting, archive, "multiclass")
    try:
        rows = features(6, 5)
        for accept in (JSON, CSV, "application/x-npy", "application/jsonlines"):
            assert_same(hosting, ep.name, csv_rows(rows), CSV, accept)
        _, _, body = call(hosting, ep.name, "native", csv_rows(rows), CSV, "application/x-npy")
        np.testing.assert_array_equal(np.load(io.BytesIO(body)), booster.predict(xgb.DMatrix(rows)))
    finally:
        hosting.delete_endpoint(ep.name)


def test_models_libxgboost_cannot_read_fall_back_to_the_python_worker(hosting):
    """A pickled Booster (what older SageMaker XGBoost containers wrote) and a vector-leaf model
    (xgboost 2's multi_output_tree, which libxgboost 1.7 does not know): both served by the
    Python worker, with libxgboost's reason in the log."""
    x = features(120, 6)
    y = x @ np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    plain = xgb.train({"max_depth": 3}, xgb.DMatrix(x, label=y), num_boost_round=5)
    two = np.stack([y, -y], axis=1)
    vector = xgb.train({"tree_method": "hist", "multi_strategy": "multi_output_tree", "max_depth": 3},
                       xgb.DMatrix(x, label=two), num_boost_round=5)
    cases = {"pickled": (lambda p: p.write_bytes(pickle.dumps(plain)), plain),
             "vector-leaf": (lambda p: vector.save_model(str(p)), vector)}
    for label, (save, booster) in cases.items():
        archive = xgboost_archive(hosting.workdir, f"xgb-{label}", save)
        uri = hosting.upload(archive, f"xgboost/{label}-{uuid.uuid4().hex[:6]}/model.tar.gz")
        ep = hosting.deploy([variant("AllTraffic", _model(hosting, uri, {}))])
        try:
            assert len(worker_pids(ep.name)) == 1, label
            rows = features(4, 7)
            got = json.loads(hosting.invoke(ep.name, csv_rows(rows), content_type=CSV, accept=JSON).body)
            np.testing.assert_allclose(np.asarray(got, dtype=np.float32), booster.predict(xgb.DMatrix(rows)), rtol=1e-6)
            reasons = [json.loads(line)["reason"] for line in hosting.server.log_tail(200_000).splitlines()
                       if '"endpoint.native_fallback"' in line and ep.name in line]
            assert len(reasons) == 1 and "cannot load" in reasons[0] and "Stack trace" not in reasons[0], reasons
        finally:
            hosting.delete_endpoint(ep.name)


def test_hostile_bytes_get_errors_not_a_crash(hosting, regression):
    """A body that is not UTF-8, a Content-Type or Accept that is not, and a LIBSVM feature index
    far past the model's: each answered with an error by both servers, and the server lives on."""
    for target in ("native", "python"):
        status, body = raw_invoke(hosting, regression.name, b"\xff\xfe,1\n",
                                  {"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Variant": target})
        assert status == 424 and json.loads(body)["OriginalStatusCode"] == 400, (target, body)
        status, body = raw_invoke(hosting, regression.name, b"0 3000000000:1\n",
                                  {"Content-Type": "text/libsvm", "X-Amzn-SageMaker-Target-Variant": target})
        assert status == 424 and json.loads(body)["OriginalStatusCode"] == 500, (target, body)
        assert b"XGBoostError" in body, body
    status, body = raw_invoke(hosting, regression.name, b"1,2,3,4,5\n",
                              {"Content-Type": b"text/csv\xe9", "Accept": b"text/\xff",
                               "X-Amzn-SageMaker-Target-Variant": "native"})
    assert status in (400, 424), body
    json.loads(body)  # a well-formed error body
    # Still serving.
    _, _, ok = call(hosting, regression.name, "native", csv_rows(features(2, 9)), CSV, CSV)
    assert len(ok.splitlines()) == 2
