"""Loam's inference toolkit: the model server inside each endpoint worker process.

Run as ``python -m loam_inference`` (see docs/inference-toolkit.md).  It does for script mode
what SageMaker's inference toolkits do: load the model with the user's ``model_fn`` (or a
default for scikit-learn, XGBoost, PyTorch and MLflow models), then answer ``/invocations``
with ``input_fn`` → ``predict_fn`` → ``output_fn`` (or ``transform_fn``).

Importing this package needs only the standard library; numpy and the model libraries are
imported when the model or a content type needs them.  Inference scripts may import
``loam_inference.errors`` (statuses), ``loam_inference.codecs`` (the default decoders and
encoders) and ``default_input_fn``/``default_output_fn`` from ``loam_inference.handlers``.
"""

__version__ = "0.1.0"
