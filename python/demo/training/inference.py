"""Inference handlers for the model train.py saves (SageMaker's inference.py contract).

train.py stores a dict ``{"scaler", "model", "features"}`` in model.joblib, which the default
handlers cannot call ``predict`` on: ``model_fn`` loads it and ``predict_fn`` scales the rows
before predicting. Requests are rows of the features in ``features`` order, in any format the
default ``input_fn`` reads (CSV without a header, JSON, NPY); answers use the default
``output_fn`` (JSON or CSV, as the Accept header asks).
"""

import os

import joblib
import numpy as np
import pandas as pd


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def predict_fn(input_data, bundle):
    features = bundle["features"]
    rows = pd.DataFrame(np.asarray(input_data, dtype=np.float64).reshape(-1, len(features)), columns=features)
    return bundle["model"].predict(bundle["scaler"].transform(rows))
