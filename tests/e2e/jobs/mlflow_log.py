"""Logs into the job's own MLflow run from inside the training script.

Uses only what the server puts in the environment: MLFLOW_TRACKING_URI and MLFLOW_RUN_ID.
Logs the metric ``script_metric`` (steps 0..2, values 0.5, 1.0, 1.5), the param
``script_param=from-script`` and the tag ``logged_by=mlflow_log.py``.
"""

import os

os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")


def main():
    from mlflow import MlflowClient

    uri = os.environ["MLFLOW_TRACKING_URI"]
    run_id = os.environ["MLFLOW_RUN_ID"]
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    print(f"mlflow_log.py: run {run_id} in experiment {run.info.experiment_id} at {uri}", flush=True)
    for step in range(3):
        client.log_metric(run_id, "script_metric", 0.5 * (step + 1), step=step)
    client.log_param(run_id, "script_param", "from-script")
    client.set_tag(run_id, "logged_by", "mlflow_log.py")
    print("mlflow_log.py: done", flush=True)


if __name__ == "__main__":
    main()
