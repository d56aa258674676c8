"""A tuning job through the SageMaker Python SDK v2 (run in .venv-sagemaker): an SKLearn
estimator in script mode and a HyperparameterTuner, as a notebook written for SageMaker does it.

The SDK uploads the source directory through Loam's S3 API (AWS_ENDPOINT_URL_S3 points the
SDK's S3 client at Loam), creates the tuning job, waits with its own waiter, then reads the
best training job and the tuner's analytics. Exits non-zero on the first failed check; prints
one JSON summary line on success.
"""

import argparse
import json
import os

import boto3
from sagemaker.session import Session
from sagemaker.sklearn import SKLearn
from sagemaker.tuner import CategoricalParameter, ContinuousParameter, HyperparameterTuner, IntegerParameter

from checks import check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--bucket", required=True)
    args = parser.parse_args()
    os.environ["AWS_ENDPOINT_URL_S3"] = args.endpoint
    boto = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    boto.client("s3", endpoint_url=args.endpoint).create_bucket(Bucket=args.bucket)
    session = Session(boto_session=boto, sagemaker_client=boto.client("sagemaker", endpoint_url=args.endpoint),
                      default_bucket=args.bucket)
    estimator = SKLearn(entry_point="tune_regression.py", source_dir=args.source_dir, framework_version="1.2-1",
                        instance_type="ml.m5.large", instance_count=1, role="arn:aws:iam::123456789012:role/x",
                        sagemaker_session=session, hyperparameters={"epoch_seconds": 0.1},
                        output_path=f"s3://{args.bucket}/output")
    tuner = HyperparameterTuner(
        estimator, "val_loss",
        {"learning_rate": ContinuousParameter(0.0001, 0.3, scaling_type="Logarithmic"),
         "epochs": IntegerParameter(2, 4),
         "batch_size": CategoricalParameter([16, 32, 64])},
        metric_definitions=[{"Name": "val_loss", "Regex": r"val_loss=([0-9.eE+-]+)"}],
        objective_type="Minimize", max_jobs=4, max_parallel_jobs=2, base_tuning_job_name="sdk-tune")
    tuner.fit(wait=True, logs=False)
    name = tuner.latest_tuning_job.name
    desc = session.sagemaker_client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    check(desc["HyperParameterTuningJobStatus"] == "Completed", f"tuning job ended {desc}")
    frame = tuner.analytics().dataframe()
    check(len(frame) == 4, f"analytics has {len(frame)} rows")
    check(set(frame["TrainingJobStatus"]) == {"Completed"}, f"statuses {list(frame['TrainingJobStatus'])}")
    best = tuner.best_training_job()
    check(best == frame.sort_values("FinalObjectiveValue").iloc[0]["TrainingJobName"], f"best {best}")
    print(json.dumps({"tuning_job": name, "best": best, "values": sorted(frame["FinalObjectiveValue"])}))


if __name__ == "__main__":
    main()
