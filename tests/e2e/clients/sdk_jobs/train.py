"""A SageMaker script-mode training script (as the SKLearn estimator runs it): fits a
scikit-learn regressor on the `train` channel, reports losses per epoch on stdout for the
estimator's metric_definitions, scores the `test` channel and saves the model in SM_MODEL_DIR.

The same file is the inference script of the model the estimator deploys or batch-transforms
(SAGEMAKER_PROGRAM): the model server imports it, so training runs only under ``__main__``, and
``model_fn`` loads the saved pipeline (SageMaker's scikit-learn container requires one; the
default ``input_fn`` / ``predict_fn`` / ``output_fn`` do the rest)."""

import argparse
import glob
import json
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import SGDRegressor
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def read_channel(path):
    files = sorted(glob.glob(os.path.join(path, "*.csv")))
    if not files:
        raise SystemExit(f"no CSV files in {path}")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def model_fn(model_dir):
    """The inference side: the pipeline (scaler + regressor) saved below."""
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--test", default=os.environ.get("SM_CHANNEL_TEST"))
    args = parser.parse_args()

    train = read_channel(args.train)
    test = read_channel(args.test) if args.test else train
    features = [c for c in train.columns if c != "target"]
    scaler = StandardScaler().fit(train[features])
    x_train, y_train = scaler.transform(train[features]), train["target"].to_numpy()
    x_test, y_test = scaler.transform(test[features]), test["target"].to_numpy()

    model = SGDRegressor(learning_rate="constant", eta0=args.learning_rate, random_state=7)
    for epoch in range(args.epochs):
        model.partial_fit(x_train, y_train)
        train_loss = mean_squared_error(y_train, model.predict(x_train))
        test_loss = mean_squared_error(y_test, model.predict(x_test))
        print(f"epoch {epoch}: train_loss: {train_loss:.6f} test_loss: {test_loss:.6f}")
    r2 = r2_score(y_test, model.predict(x_test))
    print(f"test_r2: {r2:.6f}")

    pipeline = make_pipeline(scaler, model)
    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump(pipeline, os.path.join(args.model_dir, "model.joblib"))
    with open(os.path.join(args.model_dir, "features.json"), "w") as f:
        json.dump({"features": features, "train_rows": len(train), "test_rows": len(test),
                   "hosts": json.loads(os.environ.get("SM_HOSTS", "[]"))}, f)
    print(f"TRAIN saved model for {features} ({len(train)} rows), test_rmse {np.sqrt(test_loss):.4f}")


if __name__ == "__main__":
    main()
