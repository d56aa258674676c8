"""The Open Inference Protocol (KServe v2 REST) routes, driven by NVIDIA's own Triton HTTP client
(``tritonclient.http``) against a real endpoint: a model is an endpoint, ``infer`` is an
invocation of its worker with the input tensor as JSON. Predictions are compared with the
scikit-learn model's own ``predict``.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest
import requests
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

# pytest fixtures, imported by name so that this module gets its own module-scoped instances
from endpoint_helpers import data, hosting  # noqa: F401
from endpoint_helpers import HANDLERS_DIR, RAISING_MESSAGE, REPACKED_CODE_DIR, variant

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def endpoint(hosting, data):
    model = hosting.create_model(hosting.upload_model("v2-base", data.base))
    ep = hosting.deploy([variant("AllTraffic", model)], name=f"e2e-v2-{uuid.uuid4().hex[:8]}")
    return ep.name


@pytest.fixture(scope="module")
def client(hosting):
    url = hosting.server.url.removeprefix("http://")
    c = triton.InferenceServerClient(url=url)
    yield c
    c.close()


def test_server_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    meta = client.get_server_metadata()
    assert meta["name"] == "loam" and meta["version"]


def test_model_readiness_and_metadata(client, endpoint):
    assert client.is_model_ready(endpoint)
    assert not client.is_model_ready(f"e2e-no-such-{uuid.uuid4().hex[:6]}")
    meta = client.get_model_metadata(endpoint)
    assert meta["name"] == endpoint
    assert [t["name"] for t in meta["inputs"]] == ["input-0"]
    with pytest.raises(InferenceServerException) as err:
        client.get_model_metadata(endpoint, model_version="3")
    assert "has no versions" in err.value.message()


def test_infer_matches_the_models_predictions(client, endpoint, data):
    tensor = triton.InferInput("input-0", list(data.x_test.shape), "FP64")
    tensor.set_data_from_numpy(data.x_test, binary_data=False)
    result = client.infer(endpoint, [tensor], request_id="req-7",
                          outputs=[triton.InferRequestedOutput("prediction", binary_data=False)])
    got = result.as_numpy("prediction")
    assert got.shape == (len(data.x_test),)
    np.testing.assert_allclose(got, data.expected, rtol=1e-9)
    response = result.get_response()
    assert response["model_name"] == endpoint and response["id"] == "req-7"
    assert response["outputs"][0]["datatype"] == "FP64"


def test_default_output_name_and_float32_input(client, endpoint, data):
    x = data.x_test[:3].astype(np.float32)
    tensor = triton.InferInput("features", [3, 4], "FP32")
    tensor.set_data_from_numpy(x, binary_data=False)
    got = client.infer(endpoint, [tensor]).as_numpy("output-0")
    np.testing.assert_allclose(got, data.base.predict(x.astype(np.float64)), rtol=1e-5)


def test_binary_tensor_data_is_refused_by_name(client, endpoint, data):
    tensor = triton.InferInput("input-0", list(data.x_test.shape), "FP64")
    tensor.set_data_from_numpy(data.x_test)  # the client's default: the binary data extension
    with pytest.raises(InferenceServerException) as err:
        client.infer(endpoint, [tensor])
    assert "binary tensor data extension is not supported" in err.value.message()


def test_malformed_requests_are_400_with_the_reason(hosting, endpoint):
    url = f"{hosting.server.url}/v2/models/{endpoint}/infer"
    bad_shape = {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP64", "data": [1.0, 2.0, 3.0]}]}
    r = requests.post(url, json=bad_shape, timeout=30)
    assert r.status_code == 400 and r.json() == {"error": "input 'x': shape [2,4] holds 8 elements but data has 3"}
    r = requests.post(url, data=b"{not json", timeout=30)
    assert r.status_code == 400 and r.json() == {"error": "The request body is not a JSON object"}
    r = requests.get(url, timeout=30)
    assert r.status_code == 405, r.text
    missing = f"e2e-none-{uuid.uuid4().hex[:6]}"
    r = requests.post(f"{hosting.server.url}/v2/models/{missing}/infer",
                      json={"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1.0]}]}, timeout=30)
    assert r.status_code == 404 and missing in r.json()["error"]


def test_handler_error_is_a_500_with_the_models_message(hosting, data, client):
    archive = hosting.local_model("v2-raising", data.base, {"code/inference.py": HANDLERS_DIR / "raising_inference.py"})
    model = hosting.create_model(str(archive.resolve()), environment={
        "SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": REPACKED_CODE_DIR})
    ep = hosting.deploy([variant("only", model)])
    try:
        tensor = triton.InferInput("input-0", [2, 4], "FP64")
        tensor.set_data_from_numpy(data.x_test[:2], binary_data=False)
        with pytest.raises(InferenceServerException) as err:
            client.infer(ep.name, [tensor])
        assert err.value.status() == "500"
        assert RAISING_MESSAGE in err.value.message() and "2 rows" in err.value.message()
    finally:
        hosting.delete_endpoint(ep.name)


def test_odd_requested_outputs_and_deep_data_are_answered(hosting, endpoint, data):
    url = f"{hosting.server.url}/v2/models/{endpoint}/infer"
    rows = data.x_test[:2]
    tensor = {"name": "x", "shape": [2, 4], "datatype": "FP64", "data": rows.ravel().tolist()}
    r = requests.post(url, json={"inputs": [tensor], "outputs": [{"name": 7}]}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["outputs"][0]["name"] == "output-0"
    deep = "[" * 5000 + "1" + "]" * 5000
    r = requests.post(url, data=f'{{"inputs": [{{"name": "x", "shape": [1], "datatype": "FP64", "data": {deep}}}]}}',
                      timeout=30)
    assert r.status_code == 400 and r.json() == {"error": "input 'x': data is nested deeper than shape [1]"}, r.text
    r = requests.post(url, json={"inputs": [dict(tensor, shape=[4294967296, 4294967296], data=[])]}, timeout=30)
    assert r.status_code == 400 and "is too large" in r.json()["error"], r.text
