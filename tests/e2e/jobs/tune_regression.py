"""A tiny, deterministic script-mode training job for tuning-job tests and the demo.

Fits a linear model to a fixed synthetic regression problem (numpy only, no data channel)
with mini-batch SGD and prints one line per epoch, ``epoch=N val_loss=V``, which a
MetricDefinitions regex such as ``val_loss=([0-9.eE+-]+)`` turns into the metric. The same
hyperparameters always give the same losses.

Hyperparameters (``--name value`` arguments, as SageMaker script mode passes them):
  --learning_rate X   SGD step size (default 0.05); below ~1e-3 the loss barely moves
  --epochs N          passes over the training rows (default 5)
  --batch_size N      rows per step (default 32)
  --epoch_seconds X   sleep after each epoch, so that a test can watch a job run (default 0)
  --fail_above X      exit with an error when learning_rate > X (default: never)

Writes ``model.npy`` (the weights) to SM_MODEL_DIR.
"""

import argparse
import os
import sys
import time

import numpy as np


def data():
    rng = np.random.default_rng(0)
    w = np.array([1.5, -2.0, 0.5, 1.0])
    x = rng.normal(size=(320, 4))
    y = x @ w + 0.1 * rng.normal(size=320)
    return x[:256], y[:256], x[256:], y[256:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--learning_rate", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--epoch_seconds", type=float, default=0.0)
    parser.add_argument("--fail_above", type=float, default=None)
    args = parser.parse_args()
    if args.fail_above is not None and args.learning_rate > args.fail_above:
        print(f"learning_rate {args.learning_rate} is above {args.fail_above}", file=sys.stderr)
        sys.exit(3)

    x_train, y_train, x_val, y_val = data()
    order = np.random.default_rng(1)
    w = np.zeros(4)
    for epoch in range(args.epochs):
        idx = order.permutation(len(x_train))
        for start in range(0, len(idx), args.batch_size):
            b = idx[start:start + args.batch_size]
            grad = 2.0 * x_train[b].T @ (x_train[b] @ w - y_train[b]) / len(b)
            w = w - args.learning_rate * grad
        val_loss = float(np.mean((x_val @ w - y_val) ** 2))
        print(f"epoch={epoch} val_loss={val_loss:.6f}", flush=True)
        if args.epoch_seconds > 0:
            time.sleep(args.epoch_seconds)

    model_dir = os.environ.get("SM_MODEL_DIR", "model")
    os.makedirs(model_dir, exist_ok=True)
    np.save(os.path.join(model_dir, "model.npy"), w)


if __name__ == "__main__":
    main()
