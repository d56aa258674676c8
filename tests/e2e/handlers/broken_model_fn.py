"""An inference script whose ``model_fn`` raises: the endpoint can never come InService."""

MESSAGE = "deliberate model_fn failure: this model cannot be loaded"


def model_fn(model_dir):
    raise RuntimeError(MESSAGE)
