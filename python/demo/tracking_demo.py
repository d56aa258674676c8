"""Loam's end-to-end demo: the tracking part of the reference workflow.

Trains a regression model on scikit-learn's bundled diabetes dataset with the official
mlflow client pointed at Loam, logging parameters, per-epoch metrics, the dataset, plots
and the model; a small learning-rate sweep shows search; the best model is loaded back
from Loam and used to predict.
"""

import argparse
import json
import os
import tempfile

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_diabetes
from sklearn.linear_model import SGDRegressor
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def train_one(train_df, test_df, features, learning_rate, epochs, dataset):
    """One training run: an SGD regressor trained epoch by epoch, every epoch logged."""
    with mlflow.start_run(run_name=f"sgd-lr{learning_rate}") as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_params({"learning_rate": learning_rate, "epochs": epochs, "model": "SGDRegressor"})
        mlflow.set_tags({"workflow": "loam-demo", "stage": "prototype"})
        scaler = StandardScaler().fit(train_df[features])
        x_train, x_test = scaler.transform(train_df[features]), scaler.transform(test_df[features])
        y_train, y_test = train_df["target"].to_numpy(), test_df["target"].to_numpy()
        model = SGDRegressor(learning_rate="constant", eta0=learning_rate, random_state=7)
        for epoch in range(epochs):
            model.partial_fit(x_train, y_train)
            train_mse = mean_squared_error(y_train, model.predict(x_train))
            val_mse = mean_squared_error(y_test, model.predict(x_test))
            mlflow.log_metrics({"train_loss": train_mse, "val_loss": val_mse}, step=epoch)
        predictions = model.predict(x_test)
        mlflow.log_metrics({"val_rmse": float(np.sqrt(val_mse)), "val_r2": r2_score(y_test, predictions)})
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "report")
            os.makedirs(report)
            pd.DataFrame({"actual": y_test, "predicted": predictions}).to_csv(
                os.path.join(report, "predictions.csv"), index=False)
            with open(os.path.join(report, "summary.json"), "w") as f:
                json.dump({"val_rmse": float(np.sqrt(val_mse)), "epochs": epochs}, f)
            mlflow.log_artifacts(report, artifact_path="report")
        pipeline = make_pipeline(scaler, model)
        mlflow.sklearn.log_model(pipeline, artifact_path="model",
                                 input_example=test_df[features].head(3))
        return run.info.run_id


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--data-dir", default="")
    args = parser.parse_args()

    mlflow.set_tracking_uri(args.tracking_uri)
    experiment = mlflow.set_experiment("diabetes-regression")
    print(f"Loam tracking at {args.tracking_uri}; experiment '{experiment.name}' "
          f"(id {experiment.experiment_id})")

    data = load_diabetes(as_frame=True)
    frame = data.frame
    features = list(data.feature_names)
    train_df, test_df = train_test_split(frame, test_size=0.2, random_state=42)
    dataset = mlflow.data.from_pandas(train_df, name="diabetes-train", targets="target")

    for lr in (0.001, 0.01, 0.05):
        run_id = train_one(train_df, test_df, features, lr, epochs=30, dataset=dataset)
        print(f"  run {run_id}: learning_rate={lr}")

    best = mlflow.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string="tags.workflow = 'loam-demo' AND metrics.val_rmse < 1000",
        order_by=["metrics.val_rmse ASC"],
        max_results=1,
    ).iloc[0]
    print(f"Best run {best.run_id}: val_rmse={best['metrics.val_rmse']:.2f} "
          f"(learning_rate={best['params.learning_rate']})")

    client = MlflowClient()
    history = client.get_metric_history(best.run_id, "val_loss")
    print(f"  val_loss over {len(history)} epochs: {history[0].value:.1f} -> {history[-1].value:.1f}")
    artifacts = [a.path for a in client.list_artifacts(best.run_id)]
    print(f"  artifacts: {', '.join(artifacts)}")

    model = mlflow.pyfunc.load_model(f"runs:/{best.run_id}/model")
    sample = test_df[features].head(3)
    print(f"  model loaded back from Loam predicts {np.round(model.predict(sample), 1).tolist()} "
          f"for targets {test_df['target'].head(3).tolist()}")

    print("Where to look:")
    print(f"  runs:      curl -s -X POST {args.tracking_uri}/api/2.0/mlflow/runs/search "
          f"-d '{{\"experiment_ids\":[\"{experiment.experiment_id}\"]}}'")
    print(f"  metrics:   {args.tracking_uri}/metrics  (Prometheus)")
    if args.data_dir:
        print(f"  on disk:   {args.data_dir}/loam.db (SQLite), {args.data_dir}/artifacts/")


if __name__ == "__main__":
    main()
