"""A custom SageMaker inference script (``inference.py``) for the hosting end-to-end tests.

Written against the sagemaker-inference contract, so it would run unchanged in SageMaker's
scikit-learn container: every handler takes the optional trailing ``context`` (MMS's Context).

- ``model_fn`` loads ``model.joblib`` from the model directory;
- ``input_fn`` reads a format no default handler knows, ``text/x-semicolon-rows`` (one row per
  line, values separated by ``;``), and plain JSON arrays;
- ``output_fn`` answers JSON ``{"handler": "custom-inference", "predictions": [...],
  "rows": N, "custom_attributes": <the request's CustomAttributes or null>}`` and echoes the
  CustomAttributes back as ``echo=<value>`` in the response's CustomAttributes.
"""

import json
import os

import joblib
import numpy as np

MARKER = "custom-inference"
SEMICOLON_ROWS = "text/x-semicolon-rows"
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"


def model_fn(model_dir, context=None):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, request_content_type, context=None):
    if isinstance(request_body, (bytes, bytearray)):
        request_body = request_body.decode("utf-8")
    if request_content_type == SEMICOLON_ROWS:
        rows = [line.split(";") for line in request_body.splitlines() if line.strip()]
        return np.array(rows, dtype=np.float64)
    if request_content_type == "application/json":
        return np.array(json.loads(request_body), dtype=np.float64)
    raise ValueError(f"custom input_fn cannot read {request_content_type!r}")


def predict_fn(input_data, model, context=None):
    return model.predict(input_data)


def output_fn(prediction, accept, context=None):
    attributes = context.get_request_header(0, CUSTOM_ATTRIBUTES) if context is not None else None
    if context is not None and attributes is not None:
        context.set_response_header(0, CUSTOM_ATTRIBUTES, f"echo={attributes}")
    return json.dumps({
        "handler": MARKER,
        "predictions": [float(v) for v in np.ravel(prediction)],
        "rows": int(np.shape(prediction)[0]),
        "custom_attributes": attributes,
    })
