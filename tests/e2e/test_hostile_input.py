"""Random, wrongly typed and hostile input to every endpoint: a clear 4xx, never a 5xx or a crash."""

import json
import random

import pytest

POST_ENDPOINTS = [
    "experiments/create", "experiments/search", "experiments/update", "experiments/delete", "experiments/restore",
    "experiments/set-experiment-tag", "experiments/delete-experiment-tag", "runs/create", "runs/update",
    "runs/delete", "runs/restore", "runs/search", "runs/log-metric", "runs/log-parameter", "runs/set-tag",
    "runs/delete-tag", "runs/log-batch", "runs/log-model", "runs/log-inputs", "runs/outputs", "logged-models",
    "logged-models/search",
]
GET_ENDPOINTS = [
    "experiments/get", "experiments/get-by-name", "experiments/search", "runs/get", "metrics/get-history",
    "metrics/get-history-bulk-interval", "artifacts/list",
]
FIELDS = ["name", "experiment_id", "experiment_ids", "run_id", "run_uuid", "key", "value", "timestamp", "step",
          "metrics", "params", "tags", "filter", "order_by", "max_results", "page_token", "view_type",
          "run_view_type", "status", "end_time", "new_name", "model_json", "datasets", "models", "metric_key",
          "run_ids", "start_step", "end_step", "path", "experiment_name", "source_run_id", "artifact_location"]


def random_value(rng, depth=0):
    choices = [
        lambda: None, lambda: True, lambda: rng.randint(-2**63, 2**63 - 1), lambda: rng.random() * 1e300,
        lambda: "", lambda: "x" * rng.choice([1, 300, 9000]), lambda: "NaN", lambda: "-Infinity",
        lambda: "../../etc/passwd", lambda: "metrics.m < 1 AND", lambda: "\u0000\u2603", lambda: "0",
        lambda: "bm90IGpzb24=",
    ]
    if depth < 3:
        choices += [lambda: [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))],
                    lambda: {rng.choice(FIELDS): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}]
    return rng.choice(choices)()


@pytest.mark.parametrize("seed", range(4))
def test_random_json_bodies_never_5xx(server, api, seed):
    rng = random.Random(seed)
    for _ in range(300):
        endpoint = rng.choice(POST_ENDPOINTS)
        body = {rng.choice(FIELDS): random_value(rng) for _ in range(rng.randint(0, 6))}
        resp = api("POST", endpoint, data=json.dumps(body), headers={"Content-Type": "application/json"})
        assert resp.status_code < 500, (endpoint, body, resp.status_code, resp.text[:300])
        if resp.status_code != 200:
            assert "error_code" in resp.json(), resp.text[:300]
    assert server.health()


@pytest.mark.parametrize("seed", range(2))
def test_random_query_strings_never_5xx(server, api, seed):
    rng = random.Random(100 + seed)
    for _ in range(300):
        endpoint = rng.choice(GET_ENDPOINTS)
        params = [(rng.choice(FIELDS), str(random_value(rng))) for _ in range(rng.randint(0, 5))]
        resp = api("GET", endpoint, params=params)
        assert resp.status_code < 500, (endpoint, params, resp.status_code, resp.text[:300])
    assert server.health()


def test_hostile_logged_model_paths(server, api):
    for method, path in [("GET", "logged-models/..%2f..%2fx"), ("PATCH", "logged-models/m-1/tags"),
                         ("DELETE", "logged-models/m-1/tags/"), ("GET", "logged-models/m-1/artifacts/directories"),
                         ("POST", "logged-models/m-1/unknown"), ("GET", "logged-models/%ff")]:
        resp = api(method, path, json={})
        assert 400 <= resp.status_code < 500, (method, path, resp.status_code, resp.text[:300])
        assert "error_code" in resp.json()
