"""The official mlflow Python client (fluent API and MlflowClient) against Loam."""

import filecmp
import json
import math
import os
import uuid
from pathlib import Path

import pytest

import mlflow
import mlflow.artifacts
import mlflow.data
import mlflow.pyfunc
import mlflow.sklearn
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException


def uname(prefix="client"):
    return f"{prefix}-{uuid.uuid4().hex}"


def test_fluent_run_params_metrics_tags(tracking_uri, client):
    """start_run + log_param(s)/log_metric(s)/set_tag(s) land on the server."""
    exp_name = uname()
    exp = mlflow.set_experiment(exp_name)
    assert exp.name == exp_name and exp.experiment_id.isdigit()
    with mlflow.start_run(run_name="fluent") as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"beta": "b", "gamma": 3})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.75, "f1": 0.5}, step=2)
        mlflow.set_tag("team", "red")
        mlflow.set_tags({"env": "test", "empty": ""})
    run_id = run.info.run_id

    fetched = client.get_run(run_id)
    assert fetched.info.experiment_id == exp.experiment_id
    assert fetched.info.run_name == "fluent"
    assert fetched.info.status == "FINISHED"
    assert fetched.info.end_time is not None and fetched.info.end_time >= fetched.info.start_time
    assert fetched.data.params == {"alpha": "0.5", "beta": "b", "gamma": "3"}
    assert fetched.data.metrics == {"loss": 0.2, "acc": 0.75, "f1": 0.5}
    assert fetched.data.tags["team"] == "red"
    assert fetched.data.tags["env"] == "test"
    assert fetched.data.tags["empty"] == ""
    assert fetched.data.tags["mlflow.runName"] == "fluent"
    assert "mlflow.user" in fetched.data.tags

    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
        (s, 1.0 / (s + 1)) for s in range(5)
    ]


def test_special_metric_values(client):
    """NaN and +-inf survive the JSON round trip through the client."""
    exp_id = client.create_experiment(uname())
    run_id = client.create_run(exp_id).info.run_id
    client.log_metric(run_id, "metric", 123.456, timestamp=789, step=2)
    client.log_metric(run_id, "nan_metric", float("nan"))
    client.log_metric(run_id, "inf_metric", float("inf"))
    client.log_metric(run_id, "-inf_metric", -float("inf"))
    metrics = client.get_run(run_id).data.metrics
    assert metrics["metric"] == 123.456
    assert math.isnan(metrics["nan_metric"])
    assert metrics["inf_metric"] >= 1.7976931348623157e308
    assert metrics["-inf_metric"] <= -1.7976931348623157e308
    (m,) = client.get_metric_history(run_id, "metric")
    assert (m.key, m.value, m.timestamp, m.step) == ("metric", 123.456, 789, 2)
    assert client.get_metric_history(run_id, "a_test_accuracy") == []


def test_long_metric_history_pages_through_client(client):
    """get_metric_history returns every point even for long histories."""
    exp_id = client.create_experiment(uname())
    run_id = client.create_run(exp_id).info.run_id
    for start in range(0, 3000, 1000):
        client.log_batch(
            run_id, metrics=[Metric("m", float(i), 1000 + i, i) for i in range(start, start + 1000)]
        )
    history = client.get_metric_history(run_id, "m")
    assert sorted(m.step for m in history) == list(range(3000))
    assert client.get_run(run_id).data.metrics["m"] == 2999.0


def test_artifact_tree_roundtrip(tracking_uri, client, tmp_path):
    """log_artifact(s) of a nested tree, then list and download byte-identical copies."""
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "top.txt").write_text("top level\n")
    (src / "nested" / "data.bin").write_bytes(os.urandom(200_000))
    (src / "nested" / "deeper" / "leaf.json").write_text('{"leaf": true}')
    single = tmp_path / "single.txt"
    single.write_text("Hello, World!")

    mlflow.set_experiment(uname())
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifacts(str(src), artifact_path="tree")
        mlflow.log_dict({"lr": 0.1, "layers": [1, 2]}, "config/params.json")
        mlflow.log_text("some notes", "notes/readme.txt")
    run_id = run.info.run_id

    assert run.info.artifact_uri == f"mlflow-artifacts:/{run.info.experiment_id}/{run_id}/artifacts"
    assert {a.path for a in client.list_artifacts(run_id)} == {"single.txt", "tree", "config", "notes"}
    tree = {a.path: a for a in client.list_artifacts(run_id, "tree")}
    assert set(tree) == {"tree/top.txt", "tree/nested"}
    assert tree["tree/nested"].is_dir and not tree["tree/top.txt"].is_dir
    assert tree["tree/top.txt"].file_size == len("top level\n")

    dst = tmp_path / "dst"
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="tree", dst_path=str(dst))
    cmp = filecmp.dircmp(src, local)
    assert not cmp.left_only and not cmp.right_only and not cmp.diff_files
    for rel in ("nested/data.bin", "nested/deeper/leaf.json"):
        assert (Path(local) / rel).read_bytes() == (src / rel).read_bytes()

    everything = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "all"))
    assert (Path(everything) / "single.txt").read_text() == "Hello, World!"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config/params.json") == {"lr": 0.1, "layers": [1, 2]}
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/readme.txt") == "some notes"


def test_sklearn_model_log_and_load(tracking_uri, client):
    """mlflow.sklearn.log_model, then pyfunc.load_model('runs:/<id>/model').predict."""
    import numpy as np
    from sklearn.linear_model import LinearRegression

    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 2.0]])
    y = X @ np.array([2.0, -1.0]) + 0.5
    model = LinearRegression().fit(X, y)

    mlflow.set_experiment(uname())
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, "model", pip_requirements=["scikit-learn", "numpy"])
    run_id = run.info.run_id

    history = json.loads(client.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert [m["artifact_path"] for m in history] == ["model"]
    assert "sklearn" in history[0]["flavors"] and history[0]["run_id"] == run_id
    assert {a.path for a in client.list_artifacts(run_id, "model")} >= {"model/MLmodel", "model/model.pkl"}

    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))


def test_search_runs_dataframe(tracking_uri):
    """mlflow.search_runs returns a DataFrame honouring filter_string and order_by."""
    exp = mlflow.set_experiment(uname())
    ids = {}
    for name, acc, model in (("a", 0.9, "lr"), ("b", 0.4, "rf"), ("c", 0.7, "lr")):
        with mlflow.start_run(run_name=name) as run:
            mlflow.log_metric("acc", acc)
            mlflow.log_param("model", model)
            mlflow.set_tag("name", name)
        ids[run.info.run_id] = name

    df = mlflow.search_runs(
        experiment_ids=[exp.experiment_id],
        filter_string="params.model = 'lr'",
        order_by=["metrics.acc DESC"],
    )
    assert list(df["run_id"].map(ids)) == ["a", "c"]
    assert list(df["metrics.acc"]) == [0.9, 0.7]
    assert set(df["params.model"]) == {"lr"}
    assert list(df["tags.name"]) == ["a", "c"]
    assert set(df["status"]) == {"FINISHED"}

    df = mlflow.search_runs(experiment_names=[exp.name], filter_string="metrics.acc < 0.8", order_by=["metrics.acc"])
    assert list(df["run_id"].map(ids)) == ["b", "c"]


def test_client_experiment_lifecycle(client):
    """create/get/get_by_name/rename/delete/restore/search via MlflowClient."""
    name = uname()
    exp_id = client.create_experiment(name, tags={"key1": "val1", "key2": "val2"})
    exp = client.get_experiment(exp_id)
    assert exp.name == name and exp.lifecycle_stage == "active"
    assert exp.tags == {"key1": "val1", "key2": "val2"}
    assert exp.artifact_location == f"mlflow-artifacts:/{exp_id}"
    assert client.get_experiment_by_name(name).experiment_id == exp_id
    assert client.get_experiment_by_name(uname("idontexist")) is None

    new_name = uname("renamed")
    client.rename_experiment(exp_id, new_name)
    assert client.get_experiment(exp_id).name == new_name
    client.set_experiment_tag(exp_id, "dataset", "imagenet1K")
    assert client.get_experiment(exp_id).tags["dataset"] == "imagenet1K"

    found = client.search_experiments(filter_string=f"name = '{new_name}'")
    assert [e.experiment_id for e in found] == [exp_id]

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert client.search_experiments(filter_string=f"name = '{new_name}'") == []
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{new_name}'")
    assert [e.experiment_id for e in deleted] == [exp_id]
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"

    with pytest.raises(MlflowException) as err:
        client.create_experiment(new_name)
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_client_search_experiments_paginated(client):
    """search_experiments pages with max_results/page_token."""
    prefix = uname("pg")
    ids = [client.create_experiment(f"{prefix}-{i}") for i in range(3)]
    first = client.search_experiments(max_results=2, filter_string=f"name LIKE '{prefix}%'", order_by=["name ASC"])
    assert len(first) == 2 and first.token
    second = client.search_experiments(
        max_results=2, filter_string=f"name LIKE '{prefix}%'", order_by=["name ASC"], page_token=first.token
    )
    assert [e.experiment_id for e in list(first) + list(second)] == ids
    assert second.token is None


def test_client_run_lifecycle(client):
    """create_run/set_terminated/update_run/delete_run/restore_run/search_runs."""
    exp_id = client.create_experiment(uname())
    run = client.create_run(exp_id, start_time=456, run_name="my name", tags={"my": "tag"})
    run_id = run.info.run_id
    assert run.info.run_uuid == run_id
    assert run.info.user_id == "unknown"
    fetched = client.get_run(run_id)
    assert fetched.info.status == "RUNNING" and fetched.info.end_time is None
    assert fetched.info.start_time == 456 and fetched.info.run_name == "my name"
    assert fetched.data.tags["my"] == "tag"
    assert [r.info for r in client.search_runs([exp_id])] == [fetched.info]

    client.set_terminated(run_id, "FAILED")
    info = client.get_run(run_id).info
    assert info.status == "FAILED" and info.end_time is not None
    client.update_run(run_id, name="name_abc")
    info = client.get_run(run_id).info
    assert info.run_name == "name_abc" and info.status == "FAILED"

    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([exp_id]) == []
    assert [r.info.run_id for r in client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)] == [run_id]
    with pytest.raises(MlflowException, match=f"The run {run_id} must be in"):
        client.delete_tag(run_id, "my")
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"

    with pytest.raises(MlflowException) as err:
        client.get_run("0" * 32)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_client_log_batch_and_tags(client):
    """log_batch with entities, delete_tag, and param immutability."""
    exp_id = client.create_experiment(uname())
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("metric", 123.456, 789, 3), Metric("metric", 1.0, 790, 4)],
        params=[Param("param", "value"), Param("empty", "")],
        tags=[RunTag("taggity", "do-dah"), RunTag("tag_key", "")],
    )
    run = client.get_run(run_id)
    assert run.data.metrics["metric"] == 1.0
    assert run.data.params == {"param": "value", "empty": ""}
    assert run.data.tags["taggity"] == "do-dah" and run.data.tags["tag_key"] == ""
    assert sorted(m.step for m in client.get_metric_history(run_id, "metric")) == [3, 4]

    client.delete_tag(run_id, "taggity")
    assert "taggity" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException, match="No tag with name: fakeTag"):
        client.delete_tag(run_id, "fakeTag")

    client.log_param(run_id, "param", "value")  # same value: fine
    with pytest.raises(MlflowException) as err:
        client.log_param(run_id, "param", "other")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_client_log_inputs(client):
    """log_inputs stores datasets with tags, readable through get_run().inputs."""
    exp_id = client.create_experiment(uname())
    run_id = client.create_run(exp_id).info.run_id
    dataset = Dataset(name="name1", digest="digest1", source_type="source_type1", source="source1")
    client.log_inputs(run_id, [DatasetInput(dataset=dataset, tags=[InputTag(key="tag1", value="value1")])])
    inputs = client.get_run(run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    d = inputs[0].dataset
    assert (d.name, d.digest, d.source_type, d.source) == ("name1", "digest1", "source_type1", "source1")
    assert [(t.key, t.value) for t in inputs[0].tags] == [("tag1", "value1")]


def test_fluent_log_input_pandas_dataset(tracking_uri, client, tmp_path):
    """mlflow.log_input(from_pandas(df)) records name, digest, source, schema, profile."""
    import pandas as pd

    df = pd.DataFrame([[1, 2, 3], [1, 2, 3]], columns=["a", "b", "c"])
    path = tmp_path / "temp.csv"
    df.to_csv(path)
    dataset = mlflow.data.from_pandas(df, source=str(path))

    mlflow.set_experiment(uname())
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, "train", {"foo": "baz"})

    (inp,) = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert inp.dataset.name == dataset.name
    assert inp.dataset.digest == dataset.digest
    assert inp.dataset.source_type == "local"
    assert json.loads(inp.dataset.source) == {"uri": str(path)}
    assert json.loads(inp.dataset.schema) == {
        "mlflow_colspec": [
            {"name": "a", "type": "long", "required": True},
            {"name": "b", "type": "long", "required": True},
            {"name": "c", "type": "long", "required": True},
        ]
    }
    assert json.loads(inp.dataset.profile) == {"num_rows": 2, "num_elements": 6}
    assert {(t.key, t.value) for t in inp.tags} == {("foo", "baz"), ("mlflow.data.context", "train")}


def test_nested_runs(tracking_uri, client):
    """A nested run carries mlflow.parentRunId and is searchable by it."""
    exp = mlflow.set_experiment(uname())
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("m", 1.0)
        with mlflow.start_run(run_name="child2", nested=True) as child2:
            pass
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    found = client.search_runs(
        [exp.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert {r.info.run_id for r in found} == {child.info.run_id, child2.info.run_id}
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


def test_failed_run_status(tracking_uri, client):
    """An exception inside start_run marks the run FAILED."""
    mlflow.set_experiment(uname())
    with pytest.raises(RuntimeError):
        with mlflow.start_run() as run:
            raise RuntimeError("boom")
    assert client.get_run(run.info.run_id).info.status == "FAILED"
