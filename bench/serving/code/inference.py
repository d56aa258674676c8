# The serving benchmark's handler (bench/serving/bench_serving.py): no model, and every request's
# body comes back unchanged, so what is timed is the toolkit's HTTP server and handler chain (and,
# through Loam, the front end), not a model.


def model_fn(model_dir):
    return None


def transform_fn(model, data, content_type, accept):
    return data
