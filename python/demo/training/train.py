"""A SageMaker script-mode training script (unchanged from what runs on SageMaker).

Fits a regression model on the CSV files of the `train` channel, reports `train_loss` and
`val_loss` per epoch on stdout (SageMaker's MetricDefinitions parse them), and saves the
model to SM_MODEL_DIR. When MLflow is reachable (Loam hands every job MLFLOW_TRACKING_URI
and MLFLOW_RUN_ID), it also logs the fitted model into the job's run.
"""

import argparse
import glob
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import SGDRegressor
from sklearn.metrics import mean_squared_error
from sklearn.preprocessing import StandardScaler


def read_channel(path):
    files = sorted(glob.glob(os.path.join(path, "*.csv")))
    if not files:
        raise SystemExit(f"no CSV files in {path}")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--alpha", type=float, default=0.0001)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    args = parser.parse_args()

    train = read_channel(args.train)
    validation = read_channel(args.validation) if args.validation else train
    features = [c for c in train.columns if c != "target"]
    scaler = StandardScaler().fit(train[features])
    x_train, y_train = scaler.transform(train[features]), train["target"].to_numpy()
    x_val, y_val = scaler.transform(validation[features]), validation["target"].to_numpy()

    model = SGDRegressor(learning_rate="constant", eta0=args.learning_rate, alpha=args.alpha, random_state=7)
    for epoch in range(args.epochs):
        model.partial_fit(x_train, y_train)
        train_loss = mean_squared_error(y_train, model.predict(x_train))
        val_loss = mean_squared_error(y_val, model.predict(x_val))
        print(f"epoch {epoch}: train_loss: {train_loss:.4f} val_loss: {val_loss:.4f}")
    print(f"val_rmse: {np.sqrt(val_loss):.4f}")

    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump({"scaler": scaler, "model": model, "features": features},
                os.path.join(args.model_dir, "model.joblib"))

    run_id = os.environ.get("MLFLOW_RUN_ID")
    if run_id:
        try:
            import mlflow
            from sklearn.pipeline import make_pipeline

            with mlflow.start_run(run_id=run_id):
                mlflow.sklearn.log_model(make_pipeline(scaler, model), artifact_path="model")
            print("logged the model to MLflow run", run_id)
        except Exception as e:  # tracking is a bonus here: training already succeeded
            print("could not log the model to MLflow:", e)


if __name__ == "__main__":
    main()
