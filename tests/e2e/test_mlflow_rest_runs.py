"""Raw REST tests for runs, metrics, params and tags."""

import re

import pytest

from mlflow_helpers import log_metric, metrics_of, params_of, tags_of


# ---------------------------------------------------------------------------
# create / get / update / delete / restore
# ---------------------------------------------------------------------------


def test_create_run_all_fields(api, experiment_id):
    """runs/create echoes every field; get returns the same run."""
    created = api.create_run(
        experiment_id,
        user_id="alice",
        run_name="my name",
        start_time=456,
        tags=[{"key": "my", "value": "tag"}, {"key": "other", "value": "tag"}],
    )
    run_id = created["info"]["run_id"]
    fetched = api.get_run(run_id)
    for run in (created, fetched):
        info = run["info"]
        assert info["run_id"] == run_id
        assert info["run_uuid"] == run_id
        assert info["experiment_id"] == experiment_id
        assert info["user_id"] == "alice"
        assert info["run_name"] == "my name"
        assert info["status"] == "RUNNING"
        assert info["start_time"] == 456
        assert info["lifecycle_stage"] == "active"
        assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
        assert "end_time" not in info, "unset fields must be omitted"
        tags = tags_of(run)
        assert tags["my"] == "tag" and tags["other"] == "tag"
        assert tags.get("mlflow.runName") == "my name"


def test_unset_fields_omitted(api, experiment_id):
    """A fresh run has no end_time and no metrics/params keys at all."""
    run = api.create_run(experiment_id, start_time=5)
    assert "end_time" not in run["info"]
    assert "metrics" not in run.get("data", {})
    assert "params" not in run.get("data", {})
    fetched = api.get_run(run["info"]["run_id"])
    assert "end_time" not in fetched["info"]
    assert "metrics" not in fetched.get("data", {})


def test_run_routes_via_ajax_api(ajax, api, experiment_id):
    """Run endpoints are also served under /ajax-api/2.0/mlflow/."""
    run_id = ajax.ok("POST", "runs/create", json={"experiment_id": experiment_id})["run"]["info"]["run_id"]
    assert ajax.ok("POST", "runs/log-metric", json={"run_id": run_id, "key": "m", "value": 3, "timestamp": 1}) == {}
    assert ajax.ok("POST", "runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "v"}) == {}
    run = ajax.ok("GET", "runs/get", params={"run_id": run_id})["run"]
    assert metrics_of(run)["m"]["value"] == 3 and params_of(run) == {"p": "v"}
    body = ajax.ok("POST", "runs/search", json={"experiment_ids": [experiment_id]})
    assert [r["info"]["run_id"] for r in body["runs"]] == [run_id]
    assert api.get_run(run_id)["info"]["run_id"] == run_id


def test_run_ids_are_unique_and_client_valid(api, experiment_id):
    """Run ids are unique and match the id pattern the mlflow client validates."""
    ids = {api.create_run(experiment_id)["info"]["run_id"] for _ in range(5)}
    assert len(ids) == 5
    for rid in ids:
        assert re.fullmatch(r"[a-zA-Z0-9][\w\-]{0,255}", rid), rid


def test_create_run_generates_name_when_absent(api, experiment_id):
    """Without run_name the server picks a non-empty one."""
    run = api.create_run(experiment_id)
    assert run["info"].get("run_name")


def test_create_run_accepts_int64_as_string(api, experiment_id):
    """int64 fields may be sent as JSON strings."""
    run = api.create_run(experiment_id, start_time="123")
    assert api.get_run(run["info"]["run_id"])["info"]["start_time"] == 123


def test_create_run_validation(api, experiment_id):
    """Unknown experiment -> 404, bad types -> 400."""
    resp = api("POST", "runs/create", json={"experiment_id": "987654321"})
    api.expect_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")
    resp = api("POST", "runs/create", json={"experiment_id": {"a": 1}})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    resp = api("POST", "runs/create", json={"experiment_id": experiment_id, "start_time": "soon"})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    resp = api("POST", "runs/create", json={"experiment_id": experiment_id, "tags": "x"})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_get_run_by_run_uuid_and_errors(api, run_id):
    """runs/get accepts run_uuid; unknown -> 404; missing id -> 400."""
    assert api.ok("GET", "runs/get", params={"run_uuid": run_id})["run"]["info"]["run_id"] == run_id
    api.expect_error(api("GET", "runs/get", params={"run_id": "0" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")
    api.expect_error(api("GET", "runs/get"), 400, "INVALID_PARAMETER_VALUE")


def test_update_run_status_and_end_time(api, run_id):
    """update sets status/end_time and returns run_info."""
    body = api.ok(
        "POST", "runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 2000}
    )
    assert body["run_info"]["run_id"] == run_id
    assert body["run_info"]["status"] == "FINISHED"
    assert body["run_info"]["end_time"] == 2000
    info = api.get_run(run_id)["info"]
    assert info["status"] == "FINISHED" and info["end_time"] == 2000


def test_update_run_name_keeps_status(api, run_id):
    """Renaming via run_uuid leaves status untouched and updates the runName tag."""
    api.ok("POST", "runs/update", json={"run_id": run_id, "status": "FAILED", "end_time": 5})
    api.ok("POST", "runs/update", json={"run_uuid": run_id, "run_name": "name_abc"})
    run = api.get_run(run_id)
    assert run["info"]["run_name"] == "name_abc"
    assert run["info"]["status"] == "FAILED"
    assert tags_of(run).get("mlflow.runName") == "name_abc"


def test_update_run_validation(api, run_id):
    """Bad status names and unknown runs are rejected."""
    resp = api("POST", "runs/update", json={"run_id": run_id, "status": "BOGUS"})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    resp = api("POST", "runs/update", json={"run_id": "0" * 32, "status": "FINISHED"})
    api.expect_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")
    resp = api("POST", "runs/update", json={"status": "FINISHED"})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    assert api.get_run(run_id)["info"]["status"] == "RUNNING"


def test_delete_and_restore_run(api, experiment_id, run_id):
    """delete/restore toggle lifecycle_stage and search visibility."""
    assert api.ok("POST", "runs/delete", json={"run_id": run_id}) == {}
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "deleted"
    assert api.search_runs([experiment_id]).get("runs", []) == []
    deleted = api.search_runs([experiment_id], run_view_type="DELETED_ONLY")["runs"]
    assert [r["info"]["run_id"] for r in deleted] == [run_id]
    assert api.ok("POST", "runs/restore", json={"run_id": run_id}) == {}
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "active"
    assert [r["info"]["run_id"] for r in api.search_runs([experiment_id])["runs"]] == [run_id]


def test_delete_unknown_run(api):
    """Deleting or restoring a nonexistent run is RESOURCE_DOES_NOT_EXIST."""
    for path in ("runs/delete", "runs/restore"):
        api.expect_error(api("POST", path, json={"run_id": "0" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_deleting_experiment_deletes_its_runs(api, experiment_id, run_id):
    """Deleting an experiment marks its runs deleted; restoring brings them back."""
    api.ok("POST", "experiments/delete", json={"experiment_id": experiment_id})
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "deleted"
    api.ok("POST", "experiments/restore", json={"experiment_id": experiment_id})
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "active"


def test_logging_to_deleted_run_rejected(api, run_id):
    """Metrics, params, tags and batches to a deleted run are INVALID_PARAMETER_VALUE."""
    api.ok("POST", "runs/delete", json={"run_id": run_id})
    requests_ = [
        ("runs/log-metric", {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1}),
        ("runs/log-parameter", {"run_id": run_id, "key": "p", "value": "v"}),
        ("runs/set-tag", {"run_id": run_id, "key": "t", "value": "v"}),
        ("runs/log-batch", {"run_id": run_id, "params": [{"key": "p2", "value": "v"}]}),
    ]
    for path, body in requests_:
        api.expect_error(api("POST", path, json=body), 400, "INVALID_PARAMETER_VALUE")
    api.ok("POST", "runs/restore", json={"run_id": run_id})
    run = api.get_run(run_id)
    assert metrics_of(run) == {} and params_of(run) == {}
    assert "t" not in tags_of(run)


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------


def test_log_metric_and_history(api, run_id):
    """Logged metrics show in the run and in get-history with exact fields."""
    assert log_metric(api, run_id, "metric", 123.456, timestamp=789, step=2) == {}
    api.ok("POST", "runs/log-metric", json={"run_id": run_id, "key": "stepless", "value": 987.654, "timestamp": 321})
    run = api.get_run(run_id)
    assert metrics_of(run)["metric"] == {"key": "metric", "value": 123.456, "timestamp": 789, "step": 2}
    assert metrics_of(run)["stepless"]["step"] == 0
    hist = api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "metric"})
    assert hist["metrics"] == [{"key": "metric", "value": 123.456, "timestamp": 789, "step": 2}]
    empty = api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "nope"})
    assert empty.get("metrics", []) == []


def test_log_metric_int64_as_strings_and_run_uuid(api, run_id):
    """timestamp/step may be strings; run_uuid is accepted in place of run_id."""
    api.ok(
        "POST",
        "runs/log-metric",
        json={"run_uuid": run_id, "key": "m", "value": 1.5, "timestamp": "123", "step": "7"},
    )
    m = metrics_of(api.get_run(run_id))["m"]
    assert (m["value"], m["timestamp"], m["step"]) == (1.5, 123, 7)


def test_nan_and_infinity_metric_values(api, run_id):
    """NaN / +-Infinity round-trip as the JSON strings "NaN" / "Infinity" / "-Infinity"."""
    for key, value in (("nan", "NaN"), ("inf", "Infinity"), ("ninf", "-Infinity")):
        log_metric(api, run_id, key, value)
    metrics = metrics_of(api.get_run(run_id))
    assert metrics["nan"]["value"] == "NaN"
    assert metrics["inf"]["value"] == "Infinity"
    assert metrics["ninf"]["value"] == "-Infinity"
    hist = api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "inf"})
    assert hist["metrics"][0]["value"] == "Infinity"


def test_latest_metric_is_max_step_timestamp_value(api, run_id):
    """GetRun reports the latest value per key ordered by (step, timestamp, value)."""
    log_metric(api, run_id, "a", 5.0, timestamp=10, step=5)
    log_metric(api, run_id, "a", 3.0, timestamp=20, step=3)  # lower step: ignored
    log_metric(api, run_id, "b", 1.0, timestamp=10, step=1)
    log_metric(api, run_id, "b", 2.0, timestamp=30, step=1)  # same step, newer ts wins
    log_metric(api, run_id, "b", 9.0, timestamp=20, step=1)
    log_metric(api, run_id, "c", 4.0, timestamp=10, step=0)
    log_metric(api, run_id, "c", 7.0, timestamp=10, step=0)  # tie: larger value wins
    log_metric(api, run_id, "c", 6.0, timestamp=10, step=0)
    metrics = metrics_of(api.get_run(run_id))
    assert (metrics["a"]["value"], metrics["a"]["step"]) == (5.0, 5)
    assert (metrics["b"]["value"], metrics["b"]["timestamp"]) == (2.0, 30)
    assert metrics["c"]["value"] == 7.0
    hist = api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "a"})
    assert sorted(m["step"] for m in hist["metrics"]) == [3, 5]


def test_get_history_pagination(api, run_id):
    """get-history pages through all points exactly once via next_page_token."""
    for step in range(7):
        log_metric(api, run_id, "paged", float(step), timestamp=100 + step, step=step)
    seen, token, pages = [], None, 0
    while True:
        params = {"run_id": run_id, "metric_key": "paged", "max_results": 3}
        if token:
            params["page_token"] = token
        page = api.ok("GET", "metrics/get-history", params=params)
        pages += 1
        assert len(page.get("metrics", [])) <= 3
        seen.extend(m["step"] for m in page.get("metrics", []))
        token = page.get("next_page_token")
        if not token:
            break
        assert pages < 10
    assert sorted(seen) == list(range(7))
    assert pages >= 3


def test_get_history_unknown_run(api):
    """get-history for an unknown run is RESOURCE_DOES_NOT_EXIST."""
    resp = api("GET", "metrics/get-history", params={"run_id": "0" * 32, "metric_key": "m"})
    api.expect_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    "body",
    [
        {"run_id": 31, "key": "metric", "value": 41, "timestamp": 59, "step": 26},
        {"key": 31, "value": 41, "timestamp": 59, "step": 26},
        {"key": "foo", "value": 31, "timestamp": 59, "step": "foo"},
        {"key": "foo", "value": 31, "timestamp": "foo", "step": 41},
        {"run_id": None, "key": "foo", "value": 31, "timestamp": 59, "step": 41},
        {"value": 31, "timestamp": 59, "step": 41},
        {"key": None, "value": 31, "timestamp": 59, "step": 41},
        {"key": "foo", "value": "abc", "timestamp": 59},
        {"key": "foo", "timestamp": 59},
        {"key": "foo", "value": 1.0},
        {"key": "foo", "value": {"x": 1}, "timestamp": 59},
    ],
    ids=[
        "run_id-int",
        "key-int",
        "step-str",
        "timestamp-str",
        "run_id-null",
        "key-missing",
        "key-null",
        "value-abc",
        "value-missing",
        "timestamp-missing",
        "value-object",
    ],
)
def test_log_metric_validation(api, run_id, body):
    """Bad log-metric payloads are INVALID_PARAMETER_VALUE and log nothing."""
    body = {"run_id": run_id, **body}
    if body.get("run_id") is None:
        del body["run_id"]
    api.expect_error(api("POST", "runs/log-metric", json=body), 400, "INVALID_PARAMETER_VALUE")
    assert metrics_of(api.get_run(run_id)) == {}


# ---------------------------------------------------------------------------
# params and tags
# ---------------------------------------------------------------------------


def test_log_params(api, run_id):
    """Params (including empty values) are stored; re-logging the same value is OK."""
    assert api.ok("POST", "runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "v"}) == {}
    api.ok("POST", "runs/log-parameter", json={"run_uuid": run_id, "key": "empty", "value": ""})
    api.ok("POST", "runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "v"})
    assert params_of(api.get_run(run_id)) == {"p": "v", "empty": ""}


def test_changing_param_value_rejected(api, run_id):
    """A different value for an existing param key is INVALID_PARAMETER_VALUE."""
    api.ok("POST", "runs/log-parameter", json={"run_id": run_id, "key": "depth", "value": "3"})
    resp = api("POST", "runs/log-parameter", json={"run_id": run_id, "key": "depth", "value": "5"})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    assert params_of(api.get_run(run_id)) == {"depth": "3"}


def test_log_param_validation(api, run_id):
    """Non-string run_id/key and unknown runs are rejected."""
    api.expect_error(
        api("POST", "runs/log-parameter", json={"run_id": 31, "key": "p", "value": "v"}), 400, "INVALID_PARAMETER_VALUE"
    )
    api.expect_error(
        api("POST", "runs/log-parameter", json={"run_id": run_id, "key": 31, "value": "v"}), 400, "INVALID_PARAMETER_VALUE"
    )
    api.expect_error(
        api("POST", "runs/log-parameter", json={"run_id": run_id, "value": "v"}), 400, "INVALID_PARAMETER_VALUE"
    )
    api.expect_error(
        api("POST", "runs/log-parameter", json={"run_id": "0" * 32, "key": "p", "value": "v"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert params_of(api.get_run(run_id)) == {}


def test_set_and_delete_tag(api, run_id):
    """set-tag adds/overwrites (also via run_uuid); delete-tag removes."""
    assert api.ok("POST", "runs/set-tag", json={"run_id": run_id, "key": "taggity", "value": "do-dah"}) == {}
    api.ok("POST", "runs/set-tag", json={"run_uuid": run_id, "key": "taggity", "value": "new"})
    api.ok("POST", "runs/set-tag", json={"run_id": run_id, "key": "empty", "value": ""})
    api.ok("POST", "runs/set-tag", json={"run_id": run_id, "key": "multi", "value": "a\nb"})
    tags = tags_of(api.get_run(run_id))
    assert tags["taggity"] == "new" and tags["empty"] == "" and tags["multi"] == "a\nb"
    assert api.ok("POST", "runs/delete-tag", json={"run_id": run_id, "key": "taggity"}) == {}
    assert "taggity" not in tags_of(api.get_run(run_id))


def test_tag_validation(api, run_id):
    """Bad set-tag/delete-tag requests are rejected with the right codes."""
    api.expect_error(
        api("POST", "runs/set-tag", json={"run_id": 31, "key": "t", "value": "v"}), 400, "INVALID_PARAMETER_VALUE"
    )
    api.expect_error(
        api("POST", "runs/set-tag", json={"run_id": run_id, "key": "t", "value": 41}), 400, "INVALID_PARAMETER_VALUE"
    )
    api.expect_error(
        api("POST", "runs/set-tag", json={"run_id": run_id, "value": "v"}), 400, "INVALID_PARAMETER_VALUE"
    )
    api.expect_error(
        api("POST", "runs/delete-tag", json={"run_id": run_id, "key": "fakeTag"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    api.expect_error(
        api("POST", "runs/delete-tag", json={"run_id": "0" * 32, "key": "t"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    # Tags of a deleted run cannot be deleted.
    api.ok("POST", "runs/set-tag", json={"run_id": run_id, "key": "t", "value": "v"})
    api.ok("POST", "runs/delete", json={"run_id": run_id})
    api.expect_error(
        api("POST", "runs/delete-tag", json={"run_id": run_id, "key": "t"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert tags_of(api.get_run(run_id))["t"] == "v"


# ---------------------------------------------------------------------------
# names and length limits
# ---------------------------------------------------------------------------

BAD_NAMES = ["a/../b", "/abs", "../up", "./x", "a//b", "bad!name", "semi;colon", "star*", "q?", "back\\slash", ""]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_invalid_names_rejected(api, run_id, name):
    """Metric/param/tag keys must be safe relative names of [A-Za-z0-9_ ./-]."""
    bodies = [
        ("runs/log-metric", {"run_id": run_id, "key": name, "value": 1.0, "timestamp": 1}),
        ("runs/log-parameter", {"run_id": run_id, "key": name, "value": "v"}),
        ("runs/set-tag", {"run_id": run_id, "key": name, "value": "v"}),
        ("runs/log-batch", {"run_id": run_id, "metrics": [{"key": name, "value": 1, "timestamp": 1}]}),
    ]
    for path, body in bodies:
        api.expect_error(api("POST", path, json=body), 400, "INVALID_PARAMETER_VALUE")
    run = api.get_run(run_id)
    assert metrics_of(run) == {} and params_of(run) == {}
    assert all(k.startswith("mlflow.") for k in tags_of(run))


def test_valid_unusual_names_accepted(api, run_id):
    """Names with slashes, dots, dashes and spaces are fine."""
    for key in ("a/b/c", "with space", "dots.and-dashes_1", "x.y"):
        log_metric(api, run_id, key, 1.0)
        api.ok("POST", "runs/log-parameter", json={"run_id": run_id, "key": key, "value": "v"})
    run = api.get_run(run_id)
    assert {"a/b/c", "with space", "dots.and-dashes_1", "x.y"} <= set(metrics_of(run))
    assert {"a/b/c", "with space", "dots.and-dashes_1", "x.y"} <= set(params_of(run))


def test_length_limits(api, run_id):
    """Keys > 250 chars, param values > 6000 and tag values > 8000 are rejected."""
    long_key = "k" * 251
    for path, body in [
        ("runs/log-metric", {"run_id": run_id, "key": long_key, "value": 1.0, "timestamp": 1}),
        ("runs/log-parameter", {"run_id": run_id, "key": long_key, "value": "v"}),
        ("runs/set-tag", {"run_id": run_id, "key": long_key, "value": "v"}),
        ("runs/log-parameter", {"run_id": run_id, "key": "p", "value": "x" * 6001}),
        ("runs/set-tag", {"run_id": run_id, "key": "t", "value": "x" * 8001}),
    ]:
        api.expect_error(api("POST", path, json=body), 400, "INVALID_PARAMETER_VALUE")
    run = api.get_run(run_id)
    assert params_of(run) == {} and "t" not in tags_of(run)
    # Exactly at the limits is fine.
    api.ok("POST", "runs/log-parameter", json={"run_id": run_id, "key": "k" * 250, "value": "x" * 6000})
    api.ok("POST", "runs/set-tag", json={"run_id": run_id, "key": "t", "value": "y" * 8000})
    run = api.get_run(run_id)
    assert params_of(run)["k" * 250] == "x" * 6000
    assert tags_of(run)["t"] == "y" * 8000
