"""An inference script whose ``predict_fn`` always raises: every invocation is a ModelError."""

import os

import joblib

MESSAGE = "deliberate failure in predict_fn"


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def predict_fn(input_data, model):
    raise ValueError(f"{MESSAGE} ({len(input_data)} rows)")
