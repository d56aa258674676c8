"""An inference script that takes its time: each request sleeps SLOW_SECONDS (env, default 0.5)
before predicting, so a transform job over it is still running when a test stops it."""

import os
import time

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def predict_fn(input_data, model):
    time.sleep(float(os.environ.get("SLOW_SECONDS", "0.5")))
    return model.predict(input_data)
