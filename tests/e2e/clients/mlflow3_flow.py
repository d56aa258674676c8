"""The tracking workflow with the current mlflow client (3.x), run in .venv-mlflow3.

Exercises what mlflow 3 added on the wire: logged models (create, params, tags, finalize,
search, get, delete), run outputs, and loading a model through runs:/ and models:/ URIs.
Exits non-zero on the first failed check; prints one JSON summary line on success.
"""

import argparse
import json
import uuid

import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LinearRegression

from checks import check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracking-uri", required=True)
    args = parser.parse_args()
    mlflow.set_tracking_uri(args.tracking_uri)
    client = MlflowClient()
    experiment = mlflow.set_experiment(f"mlflow3-{uuid.uuid4().hex[:8]}")

    x = np.arange(20, dtype=float).reshape(-1, 1)
    y = 3 * x.ravel() + 1
    with mlflow.start_run() as run:
        mlflow.log_params({"fit_intercept": True, "alpha": 0.5})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        model = LinearRegression().fit(x, y)
        info = mlflow.sklearn.log_model(model, name="model", input_example=x[:2])

    check(info.model_id.startswith("m-"), f"model id {info.model_id}")
    logged = client.get_logged_model(info.model_id)
    check(logged.status.to_int() == 2, f"logged model READY, got {logged.status}")
    check(logged.source_run_id == run.info.run_id, "model links back to its run")
    check(logged.experiment_id == experiment.experiment_id, "model in the run's experiment")
    check(logged.artifact_location.endswith(f"/models/{info.model_id}/artifacts"), logged.artifact_location)

    got_run = client.get_run(run.info.run_id)
    outputs = [o.model_id for o in got_run.outputs.model_outputs]
    check(info.model_id in outputs, f"run outputs {outputs}")
    history = client.get_metric_history(run.info.run_id, "loss")
    check(len(history) == 5, f"loss history has {len(history)} points")

    for uri in (f"runs:/{run.info.run_id}/model", f"models:/{info.model_id}"):
        loaded = mlflow.pyfunc.load_model(uri)
        prediction = loaded.predict(np.array([[10.0]]))
        check(abs(float(np.ravel(prediction)[0]) - 31.0) < 1e-6, f"prediction through {uri}: {prediction}")

    client.set_logged_model_tags(info.model_id, {"stage": "candidate"})
    found = mlflow.search_logged_models(
        experiment_ids=[experiment.experiment_id],
        filter_string="name = 'model' AND tags.stage = 'candidate'",
        output_format="list",
    )
    check([m.model_id for m in found] == [info.model_id], f"search found {[m.model_id for m in found]}")
    client.delete_logged_model_tag(info.model_id, "stage")
    check("stage" not in client.get_logged_model(info.model_id).tags, "tag deleted")

    extra = client.create_logged_model(experiment_id=experiment.experiment_id, name="extra",
                                       params={"depth": "3"}, model_type="tree")
    check(extra.params == {"depth": "3"}, f"params {extra.params}")
    client.delete_logged_model(extra.model_id)
    remaining = mlflow.search_logged_models(experiment_ids=[experiment.experiment_id], output_format="list")
    check([m.model_id for m in remaining] == [info.model_id], "deleted model no longer searchable")

    print(json.dumps({"mlflow": mlflow.__version__, "model_id": info.model_id, "run_id": run.info.run_id}))


if __name__ == "__main__":
    main()
