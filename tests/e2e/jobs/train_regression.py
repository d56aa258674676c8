"""Script-mode scikit-learn regression, written as for the SageMaker SKLearn estimator.

Hyperparameters arrive as command-line arguments (the training toolkit passes
``--epochs 8 --alpha 0.001 ...``):

  --epochs N         passes over the training data (default 10)
  --alpha X          L2 regularization strength of SGDRegressor (default 0.0001)
  --eta0 X           initial learning rate (default 0.01)
  --batch-size N     rows per partial_fit call (default 32)
  --penalty NAME     l2, l1 or elasticnet (default l2)
  --seed N           shuffling and initialization seed (default 0)

Channels: ``train`` (required; every ``*.csv`` below SM_CHANNEL_TRAIN, label column
``target``) and ``validation`` (optional; without it 20 % of train is held out).

Logs one line per epoch, ``epoch=N train_loss: X val_loss: Y`` (mean squared errors), then
``r2 = Z`` once, and one line on stderr. Writes ``model.joblib`` (scaler + regressor) to
SM_MODEL_DIR and ``metrics.json`` plus ``predictions.csv`` to SM_OUTPUT_DATA_DIR. The numbers
in metrics.json are exactly the printed ones, so a test can compare them with the metrics the
server parsed from the log.
"""

import argparse
import glob
import json
import os
import sys


def read_csvs(folder):
    import pandas as pd

    files = sorted(glob.glob(os.path.join(folder, "**", "*.csv"), recursive=True))
    if not files:
        raise FileNotFoundError(f"no CSV files under {folder}")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True), files


def printed(value):
    """The value as logged: six decimals."""
    return float(f"{value:.6f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--alpha", type=float, default=0.0001)
    parser.add_argument("--eta0", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--penalty", type=str, default="l2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-dir", type=str, default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", type=str, default=os.environ.get("SM_CHANNEL_VALIDATION"))
    parser.add_argument(
        "--output-data-dir", type=str, default=os.environ.get("SM_OUTPUT_DATA_DIR", "output")
    )
    args = parser.parse_args()

    import joblib
    import numpy as np
    from sklearn.linear_model import SGDRegressor
    from sklearn.metrics import mean_squared_error, r2_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if not args.train:
        parser.error("no training data: set SM_CHANNEL_TRAIN or pass --train")
    train, train_files = read_csvs(args.train)
    if args.validation:
        val, val_files = read_csvs(args.validation)
    else:
        cut = int(len(train) * 0.8)
        train, val, val_files = train.iloc[:cut], train.iloc[cut:], []
    x_train = train.drop(columns=["target"]).to_numpy()
    y_train = train["target"].to_numpy()
    x_val = val.drop(columns=["target"]).to_numpy()
    y_val = val["target"].to_numpy()
    print(f"train files: {len(train_files)}, rows: {len(y_train)}; validation rows: {len(y_val)}")
    print(f"hyperparameters: {json.dumps(vars(args), sort_keys=True)}", flush=True)
    print("stderr-check: training starts", file=sys.stderr, flush=True)

    scaler = StandardScaler().fit(x_train)
    xs_train, xs_val = scaler.transform(x_train), scaler.transform(x_val)
    model = SGDRegressor(
        alpha=args.alpha,
        eta0=args.eta0,
        penalty=args.penalty,
        learning_rate="invscaling",
        random_state=args.seed,
    )
    rng = np.random.RandomState(args.seed)
    history = {"epoch": [], "train_loss": [], "val_loss": []}
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(y_train))
        for start in range(0, len(order), args.batch_size):
            batch = order[start : start + args.batch_size]
            model.partial_fit(xs_train[batch], y_train[batch])
        train_loss = printed(mean_squared_error(y_train, model.predict(xs_train)))
        val_loss = printed(mean_squared_error(y_val, model.predict(xs_val)))
        history["epoch"].append(epoch)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        print(f"epoch={epoch} train_loss: {train_loss:.6f} val_loss: {val_loss:.6f}", flush=True)

    predictions = model.predict(xs_val)
    r2 = printed(r2_score(y_val, predictions))
    print(f"r2 = {r2:.6f}", flush=True)

    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump(Pipeline([("scaler", scaler), ("sgd", model)]), os.path.join(args.model_dir, "model.joblib"))
    os.makedirs(args.output_data_dir, exist_ok=True)
    summary = dict(history, r2=r2, n_train=int(len(y_train)), n_val=int(len(y_val)),
                   train_files=[os.path.relpath(f, args.train) for f in train_files],
                   val_files=[os.path.relpath(f, args.validation) for f in val_files])
    with open(os.path.join(args.output_data_dir, "metrics.json"), "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
    with open(os.path.join(args.output_data_dir, "predictions.csv"), "w") as f:
        f.write("target,prediction\n")
        for target, prediction in zip(y_val, predictions):
            f.write(f"{target},{prediction}\n")
    print(f"saved model to {args.model_dir}", flush=True)


if __name__ == "__main__":
    main()
