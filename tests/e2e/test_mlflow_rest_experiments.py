"""Raw REST tests for the experiments API (mirrors MLflow's test_rest_tracking.py)."""

import uuid


def uname(prefix="exp"):
    return f"{prefix}-{uuid.uuid4().hex}"


def tags_of(experiment):
    return {t["key"]: t["value"] for t in experiment.get("tags", [])}


def test_default_experiment_exists(api):
    """Experiment "0" named "Default" always exists and is active."""
    exp = api.get_experiment("0")
    assert exp["experiment_id"] == "0"
    assert exp["name"] == "Default"
    assert exp["lifecycle_stage"] == "active"
    by_name = api.ok("GET", "experiments/get-by-name", params={"experiment_name": "Default"})
    assert by_name["experiment"]["experiment_id"] == "0"


def test_create_and_get_experiment(api):
    """Create returns a numeric string id; get returns name, tags, times, artifact location."""
    name = uname()
    body = api.ok(
        "POST",
        "experiments/create",
        json={"name": name, "tags": [{"key": "k1", "value": "v1"}, {"key": "k2", "value": ""}]},
    )
    exp_id = body["experiment_id"]
    assert isinstance(exp_id, str) and exp_id.isdigit()
    exp = api.get_experiment(exp_id)
    assert exp["experiment_id"] == exp_id
    assert exp["name"] == name
    assert exp["lifecycle_stage"] == "active"
    assert exp["artifact_location"] == f"mlflow-artifacts:/{exp_id}"
    assert tags_of(exp) == {"k1": "v1", "k2": ""}
    assert isinstance(exp["creation_time"], int) and exp["creation_time"] > 0
    assert isinstance(exp["last_update_time"], int)
    assert exp["last_update_time"] >= exp["creation_time"]


def test_experiment_without_tags_omits_tags(api):
    """Unset/empty repeated fields are omitted from responses."""
    exp = api.get_experiment(api.create_experiment(uname()))
    assert "tags" not in exp


def test_experiment_ids_are_distinct_numeric_strings(api):
    """Each create yields a new numeric-string id, never the Default's "0"."""
    ids = [api.create_experiment() for _ in range(5)]
    assert len(set(ids)) == 5
    assert all(i.isdigit() and i != "0" for i in ids)


def test_create_experiment_with_artifact_location(api):
    """An explicit artifact_location is stored verbatim."""
    exp_id = api.create_experiment(uname(), artifact_location="mlflow-artifacts:/custom/place")
    assert api.get_experiment(exp_id)["artifact_location"] == "mlflow-artifacts:/custom/place"


def test_get_experiment_by_name(api):
    """get-by-name finds an experiment; unknown names are RESOURCE_DOES_NOT_EXIST (404)."""
    name = uname()
    exp_id = api.create_experiment(name)
    exp = api.ok("GET", "experiments/get-by-name", params={"experiment_name": name})["experiment"]
    assert exp["experiment_id"] == exp_id and exp["name"] == name
    resp = api("GET", "experiments/get-by-name", params={"experiment_name": uname("missing")})
    api.expect_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")


def test_create_duplicate_name_rejected(api):
    """A second experiment with the same name is RESOURCE_ALREADY_EXISTS (400)."""
    name = uname()
    api.create_experiment(name)
    resp = api("POST", "experiments/create", json={"name": name})
    api.expect_error(resp, 400, "RESOURCE_ALREADY_EXISTS")


def test_create_experiment_validation(api):
    """Missing / wrongly typed fields are INVALID_PARAMETER_VALUE, never 500."""
    resp = api("POST", "experiments/create", json={})
    body = api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")
    assert "name" in body["message"]

    resp = api("POST", "experiments/create", json={"name": ""})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")

    resp = api("POST", "experiments/create", json={"name": 123})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")

    resp = api(
        "POST", "experiments/create", json={"name": uname(), "artifact_location": 9.0}
    )
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")

    resp = api("POST", "experiments/create", json={"name": uname(), "tags": "5"})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_get_unknown_experiment(api):
    """Unknown experiment ids are RESOURCE_DOES_NOT_EXIST (404)."""
    resp = api("GET", "experiments/get", params={"experiment_id": "987654321"})
    api.expect_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")


def test_get_experiment_missing_id(api):
    """experiments/get without experiment_id is INVALID_PARAMETER_VALUE."""
    resp = api("GET", "experiments/get")
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_rename_experiment(api):
    """update with new_name renames; get-by-name follows the new name."""
    exp_id = api.create_experiment(uname("bad"))
    new_name = uname("good")
    assert api.ok("POST", "experiments/update", json={"experiment_id": exp_id, "new_name": new_name}) == {}
    assert api.get_experiment(exp_id)["name"] == new_name
    found = api.ok("GET", "experiments/get-by-name", params={"experiment_name": new_name})
    assert found["experiment"]["experiment_id"] == exp_id


def test_rename_to_existing_name_rejected(api):
    """Renaming onto another experiment's name fails with a 400 and changes nothing."""
    taken = uname()
    api.create_experiment(taken)
    exp_id = api.create_experiment(uname())
    original = api.get_experiment(exp_id)["name"]
    resp = api("POST", "experiments/update", json={"experiment_id": exp_id, "new_name": taken})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] in ("RESOURCE_ALREADY_EXISTS", "INVALID_PARAMETER_VALUE")
    assert api.get_experiment(exp_id)["name"] == original


def test_rename_unknown_experiment(api):
    """Renaming a nonexistent experiment is RESOURCE_DOES_NOT_EXIST."""
    resp = api("POST", "experiments/update", json={"experiment_id": "987654321", "new_name": uname()})
    api.expect_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")


def test_delete_and_restore_experiment(api):
    """delete flips lifecycle_stage to deleted; restore flips it back."""
    exp_id = api.create_experiment(uname())
    assert api.ok("POST", "experiments/delete", json={"experiment_id": exp_id}) == {}
    assert api.get_experiment(exp_id)["lifecycle_stage"] == "deleted"
    assert api.ok("POST", "experiments/restore", json={"experiment_id": exp_id}) == {}
    assert api.get_experiment(exp_id)["lifecycle_stage"] == "active"


def test_delete_unknown_experiment(api):
    """Deleting / restoring a nonexistent experiment is RESOURCE_DOES_NOT_EXIST."""
    for path in ("experiments/delete", "experiments/restore"):
        resp = api("POST", path, json={"experiment_id": "987654321"})
        api.expect_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")


def test_deleted_experiment_name_still_reserved(api):
    """A deleted experiment keeps its name: re-creating it is RESOURCE_ALREADY_EXISTS."""
    name = uname()
    exp_id = api.create_experiment(name)
    api.ok("POST", "experiments/delete", json={"experiment_id": exp_id})
    resp = api("POST", "experiments/create", json={"name": name})
    api.expect_error(resp, 400, "RESOURCE_ALREADY_EXISTS")
    found = api.ok("GET", "experiments/get-by-name", params={"experiment_name": name})
    assert found["experiment"]["lifecycle_stage"] == "deleted"


def test_create_run_in_deleted_experiment_rejected(api):
    """Runs cannot be created in a deleted experiment (INVALID_PARAMETER_VALUE)."""
    exp_id = api.create_experiment(uname())
    api.ok("POST", "experiments/delete", json={"experiment_id": exp_id})
    resp = api("POST", "runs/create", json={"experiment_id": exp_id})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_set_experiment_tag(api):
    """set-experiment-tag adds, overwrites, supports multi-line and empty values."""
    exp_id = api.create_experiment(uname())
    other_id = api.create_experiment(uname())

    def set_tag(eid, key, value):
        assert api.ok(
            "POST",
            "experiments/set-experiment-tag",
            json={"experiment_id": eid, "key": key, "value": value},
        ) == {}

    set_tag(exp_id, "dataset", "imagenet1K")
    assert tags_of(api.get_experiment(exp_id))["dataset"] == "imagenet1K"
    set_tag(exp_id, "dataset", "birdbike")
    set_tag(other_id, "dataset", "birds200")
    set_tag(exp_id, "multiline tag", "value2\nvalue2\nvalue2")
    set_tag(exp_id, "empty", "")
    assert tags_of(api.get_experiment(exp_id)) == {
        "dataset": "birdbike",
        "multiline tag": "value2\nvalue2\nvalue2",
        "empty": "",
    }
    assert tags_of(api.get_experiment(other_id)) == {"dataset": "birds200"}


def test_set_experiment_tag_validation(api):
    """Tag on unknown experiment -> 404; missing key -> 400."""
    resp = api(
        "POST",
        "experiments/set-experiment-tag",
        json={"experiment_id": "987654321", "key": "k", "value": "v"},
    )
    api.expect_error(resp, 404, "RESOURCE_DOES_NOT_EXIST")
    exp_id = api.create_experiment(uname())
    resp = api("POST", "experiments/set-experiment-tag", json={"experiment_id": exp_id, "value": "v"})
    api.expect_error(resp, 400, "INVALID_PARAMETER_VALUE")


def test_experiment_routes_via_ajax_api(api, ajax):
    """The same handlers are reachable under /ajax-api/2.0/mlflow/."""
    name = uname("ajax")
    exp_id = ajax.ok("POST", "experiments/create", json={"name": name})["experiment_id"]
    assert ajax.ok("GET", "experiments/get", params={"experiment_id": exp_id})["experiment"]["name"] == name
    assert api.get_experiment(exp_id)["name"] == name
    found = ajax.ok("POST", "experiments/search", json={"filter": f"name = '{name}'", "max_results": 10})
    assert [e["experiment_id"] for e in found["experiments"]] == [exp_id]


def test_experiment_name_and_tag_length_limits(api):
    """Experiment names up to 500 characters and experiment tag values up to 5000, as MLflow."""
    name = "n" * 500
    exp_id = api.ok("POST", "experiments/create", json={"name": name})["experiment_id"]
    api.expect_error(api("POST", "experiments/create", json={"name": "n" * 501}), 400, "INVALID_PARAMETER_VALUE")
    api.ok("POST", "experiments/set-experiment-tag", json={"experiment_id": exp_id, "key": "k", "value": "v" * 5000})
    err = api.expect_error(
        api("POST", "experiments/set-experiment-tag", json={"experiment_id": exp_id, "key": "k", "value": "v" * 5001}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "5000" in err["message"]
    exp = api.ok("GET", "experiments/get", params={"experiment_id": exp_id})["experiment"]
    assert exp["name"] == name
    assert tags_of(exp)["k"] == "v" * 5000
