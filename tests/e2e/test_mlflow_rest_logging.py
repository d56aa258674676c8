"""Raw-HTTP tests of log-batch, log-model, log-inputs and metrics/get-history-bulk-interval."""

import json

import pytest

from mlflow_helpers import metrics_of, params_of, tags_of


# ---------------------------------------------------------------------------
# log-batch
# ---------------------------------------------------------------------------


def test_log_batch(api, run_id):
    """A batch logs metrics (string int64 ok), params and tags in one call."""
    body = api.ok(
        "POST",
        "runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [
                {"key": "m", "value": 1.0, "timestamp": 789, "step": 3},
                {"key": "m", "value": 2.0, "timestamp": "790", "step": "4"},
                {"key": "nostep", "value": 5, "timestamp": 1},
            ],
            "params": [{"key": "p", "value": "v"}, {"key": "empty", "value": ""}],
            "tags": [{"key": "t", "value": "tv"}, {"key": "te", "value": ""}],
        },
    )
    assert body == {}
    run = api.get_run(run_id)
    assert metrics_of(run)["m"] == {"key": "m", "value": 2.0, "timestamp": 790, "step": 4}
    assert metrics_of(run)["nostep"]["step"] == 0
    assert params_of(run) == {"p": "v", "empty": ""}
    assert tags_of(run)["t"] == "tv" and tags_of(run)["te"] == ""
    hist = api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
    assert sorted((m["step"], m["value"]) for m in hist["metrics"]) == [(3, 1.0), (4, 2.0)]


def test_log_batch_empty_is_ok(api, run_id):
    """A batch with no entries succeeds with an empty response."""
    assert api.ok("POST", "runs/log-batch", json={"run_id": run_id}) == {}


def _assert_nothing_logged(api, run_id):
    run = api.get_run(run_id)
    assert metrics_of(run) == {}
    assert params_of(run) == {}
    assert [k for k in tags_of(run) if not k.startswith("mlflow.")] == []


@pytest.mark.parametrize(
    "counts",
    [(1001, 0, 0), (0, 101, 0), (0, 0, 101), (1000, 1, 0)],
    ids=["1001-metrics", "101-params", "101-tags", "1001-entities"],
)
def test_log_batch_limits_atomic(api, run_id, counts):
    """Over-limit batches are rejected as a whole: nothing from them is logged."""
    n_metrics, n_params, n_tags = counts
    body = {
        "run_id": run_id,
        "metrics": [{"key": f"m{i}", "value": i, "timestamp": 1, "step": 0} for i in range(n_metrics)],
        "params": [{"key": f"p{i}", "value": "v"} for i in range(n_params)],
        "tags": [{"key": f"t{i}", "value": "v"} for i in range(n_tags)],
    }
    # Always include a few valid entries of every kind so atomicity is observable.
    body["metrics"] = body["metrics"] or [{"key": "ok_m", "value": 1, "timestamp": 1}]
    body["params"] = body["params"] or [{"key": "ok_p", "value": "v"}]
    body["tags"] = body["tags"] or [{"key": "ok_t", "value": "v"}]
    api.expect_error(api("POST", "runs/log-batch", json=body), 400, "INVALID_PARAMETER_VALUE")
    _assert_nothing_logged(api, run_id)


def test_log_batch_at_limits_ok(api, run_id):
    """Exactly 1000 metrics, or 100 params + 100 tags, are accepted."""
    api.ok(
        "POST",
        "runs/log-batch",
        json={"run_id": run_id, "metrics": [{"key": f"m{i}", "value": i, "timestamp": 1} for i in range(1000)]},
    )
    api.ok(
        "POST",
        "runs/log-batch",
        json={
            "run_id": run_id,
            "params": [{"key": f"p{i}", "value": "v"} for i in range(100)],
            "tags": [{"key": f"t{i}", "value": "v"} for i in range(100)],
        },
    )
    run = api.get_run(run_id)
    assert len(metrics_of(run)) == 1000
    assert len(params_of(run)) == 100
    assert sum(1 for k in tags_of(run) if k.startswith("t")) == 100


def test_log_batch_invalid_entry_atomic(api, run_id):
    """One invalid entry (bad key / long value / bad value) rejects the whole batch."""
    good = {
        "metrics": [{"key": "good", "value": 1, "timestamp": 1}],
        "params": [{"key": "gp", "value": "v"}],
        "tags": [{"key": "gt", "value": "v"}],
    }
    bad_variants = [
        {"metrics": good["metrics"] + [{"key": "a/../b", "value": 1, "timestamp": 1}]},
        {"params": good["params"] + [{"key": "long", "value": "x" * 6001}]},
        {"tags": good["tags"] + [{"key": "long", "value": "x" * 8001}]},
        {"metrics": good["metrics"] + [{"key": "bad", "value": "abc", "timestamp": 1}]},
        {"metrics": good["metrics"] + [{"key": "mae", "value": 2.5}]},  # missing timestamp
        {"params": [{"key": "dup", "value": "1"}, {"key": "dup", "value": "2"}]},
    ]
    for variant in bad_variants:
        body = {"run_id": run_id, **good, **variant}
        api.expect_error(api("POST", "runs/log-batch", json=body), 400, "INVALID_PARAMETER_VALUE")
    _assert_nothing_logged(api, run_id)


def test_log_batch_param_conflict_atomic(api, run_id):
    """Changing an existing param inside a batch rejects the batch and logs nothing else."""
    api.ok("POST", "runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"})
    body = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": 1, "timestamp": 1}],
        "params": [{"key": "q", "value": "new"}, {"key": "p", "value": "2"}],
        "tags": [{"key": "t", "value": "v"}],
    }
    api.expect_error(api("POST", "runs/log-batch", json=body), 400, "INVALID_PARAMETER_VALUE")
    run = api.get_run(run_id)
    assert params_of(run) == {"p": "1"}
    assert metrics_of(run) == {}
    assert "t" not in tags_of(run)
    # Same value again is fine.
    api.ok("POST", "runs/log-batch", json={"run_id": run_id, "params": [{"key": "p", "value": "1"}]})


def test_log_batch_wrong_types(api, run_id):
    """Non-list metrics/params/tags fields are INVALID_PARAMETER_VALUE."""
    for field in ("metrics", "params", "tags"):
        resp = api("POST", "runs/log-batch", json={"run_id": run_id, field: "foo"})
        api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    api.expect_error(api("POST", "runs/log-batch", json={"params": []}), 400, "INVALID_PARAMETER_VALUE")


def test_log_batch_over_1mb_rejected(api, run_id):
    """A log-batch body larger than 1 MB is refused with a JSON 400/413 and logs nothing."""
    body = {
        "run_id": run_id,
        "params": [{"key": f"p{i}", "value": "x" * 5990} for i in range(100)],
        "tags": [{"key": f"t{i}", "value": "y" * 7990} for i in range(100)],
    }
    assert len(json.dumps(body)) > 1_000_000
    resp = api("POST", "runs/log-batch", json=body)
    assert resp.status_code in (400, 413), resp.text[:500]
    assert resp.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "REQUEST_LIMIT_EXCEEDED", "BAD_REQUEST")
    _assert_nothing_logged(api, run_id)


# ---------------------------------------------------------------------------
# log-model and log-inputs
# ---------------------------------------------------------------------------


def test_log_model_appends_history_tag(api, run_id):
    """log-model records each model in the mlflow.log-model.history tag."""
    for path in ("model", "model2"):
        model = {
            "artifact_path": path,
            "flavors": {"python_function": {"loader_module": "mlflow.pyfunc"}},
            "utc_time_created": "2024-01-01 00:00:00.000000",
            "run_id": run_id,
        }
        assert api.ok("POST", "runs/log-model", json={"run_id": run_id, "model_json": json.dumps(model)}) == {}
    history = json.loads(tags_of(api.get_run(run_id))["mlflow.log-model.history"])
    assert [m["artifact_path"] for m in history] == ["model", "model2"]
    assert history[0]["flavors"] == {"python_function": {"loader_module": "mlflow.pyfunc"}}
    assert history[0]["run_id"] == run_id


def test_log_model_validation(api, run_id):
    """Malformed or incomplete model_json is INVALID_PARAMETER_VALUE."""
    api.expect_error(
        api("POST", "runs/log-model", json={"run_id": run_id, "model_json": "{not json"}), 400, "INVALID_PARAMETER_VALUE"
    )
    api.expect_error(
        api("POST", "runs/log-model", json={"run_id": run_id, "model_json": json.dumps({"artifact_path": "m"})}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    api.expect_error(api("POST", "runs/log-model", json={"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE")
    assert "mlflow.log-model.history" not in tags_of(api.get_run(run_id))


def test_log_inputs(api, run_id):
    """log-inputs stores datasets with their tags; they come back under run.inputs."""
    dataset = {
        "name": "name1",
        "digest": "digest1",
        "source_type": "source_type1",
        "source": "source1",
        "schema": '{"mlflow_colspec": []}',
        "profile": '{"num_rows": 2}',
    }
    body = {
        "run_id": run_id,
        "datasets": [
            {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"}]},
            {"dataset": {"name": "n2", "digest": "d2", "source_type": "local", "source": "s2"}},
        ],
    }
    assert api.ok("POST", "runs/log-inputs", json=body) == {}
    inputs = api.get_run(run_id)["inputs"]["dataset_inputs"]
    by_name = {i["dataset"]["name"]: i for i in inputs}
    assert set(by_name) == {"name1", "n2"}
    assert by_name["name1"]["dataset"] == dataset
    assert by_name["name1"]["tags"] == [{"key": "mlflow.data.context", "value": "training"}]
    assert by_name["n2"].get("tags", []) == []


def test_log_inputs_validation(api, run_id):
    """log-inputs requires run_id and datasets."""
    ds = [{"dataset": {"name": "n", "digest": "d", "source_type": "t", "source": "s"}}]
    api.expect_error(api("POST", "runs/log-inputs", json={"datasets": ds}), 400, "INVALID_PARAMETER_VALUE")
    api.expect_error(api("POST", "runs/log-inputs", json={"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE")
    api.expect_error(
        api("POST", "runs/log-inputs", json={"run_id": "0" * 32, "datasets": ds}), 404, "RESOURCE_DOES_NOT_EXIST"
    )


# ---------------------------------------------------------------------------
# metrics/get-history-bulk-interval (cases from MLflow's test_rest_tracking.py)
# ---------------------------------------------------------------------------


def test_bulk_interval_sampling(api, ajax, experiment_id):
    """Sampling keeps evenly spaced steps plus first/last; ranges clip; runs concatenate."""
    run1 = api.create_run(experiment_id)["info"]["run_id"]
    hist1 = [{"key": "metricA", "timestamp": 1, "step": i, "value": 10.0} for i in range(10)]
    api.ok("POST", "runs/log-batch", json={"run_id": run1, "metrics": hist1})

    def bulk(params):
        return api.ok("GET", "metrics/get-history-bulk-interval", params=params).get("metrics", [])

    got = bulk({"run_ids": [run1], "metric_key": "metricA", "max_results": 5})
    assert got == [{**m, "run_id": run1} for m in hist1 if m["step"] in (0, 2, 4, 6, 8, 9)]

    got = bulk({"run_ids": [run1], "metric_key": "metricA", "start_step": 0, "end_step": 4, "max_results": 5})
    assert got == [{**m, "run_id": run1} for m in hist1[:5]]

    run2 = api.create_run(experiment_id)["info"]["run_id"]
    hist2 = [{"key": "metricA", "timestamp": 1, "step": i, "value": 10.0} for i in range(20)]
    api.ok("POST", "runs/log-batch", json={"run_id": run2, "metrics": hist2})
    steps = (0, 4, 8, 9, 12, 16, 19)
    got = ajax.ok(
        "GET",
        "metrics/get-history-bulk-interval",
        params={"run_ids": [run1, run2], "metric_key": "metricA", "max_results": 5},
    )["metrics"]
    assert got == [{**m, "run_id": run1} for m in hist1 if m["step"] in steps] + [
        {**m, "run_id": run2} for m in hist2 if m["step"] in steps
    ]


def test_bulk_interval_same_step_multiple_timestamps(api, run_id):
    """All points of a sampled step are returned, ordered by timestamp."""
    for ts in (1, 2):
        api.ok(
            "POST",
            "runs/log-batch",
            json={"run_id": run_id, "metrics": [{"key": "m", "timestamp": ts, "step": i, "value": 10.0} for i in range(10)]},
        )
    got = api.ok(
        "GET", "metrics/get-history-bulk-interval", params={"run_ids": [run_id], "metric_key": "m", "max_results": 5}
    )["metrics"]
    assert got == [
        {"key": "m", "timestamp": ts, "step": i, "value": 10.0, "run_id": run_id}
        for i in (0, 2, 4, 6, 8, 9)
        for ts in (1, 2)
    ]


def test_bulk_interval_validation(api):
    """Invalid bulk-interval requests are INVALID_PARAMETER_VALUE."""
    bad = [
        {"metric_key": "key"},
        {"run_ids": [f"id_{i}" for i in range(101)], "metric_key": "key"},
        {"run_ids": ["123"], "metric_key": "key", "max_results": 0},
        {"run_ids": ["123"], "metric_key": "key", "max_results": 2501},
        {"run_ids": ["123"], "max_results": 5},
        {"run_ids": ["123"], "metric_key": "key", "start_step": 1, "end_step": 0, "max_results": 5},
        {"run_ids": ["123"], "metric_key": "key", "start_step": 1, "max_results": 5},
    ]
    for params in bad:
        resp = api("GET", "metrics/get-history-bulk-interval", params=params)
        api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
