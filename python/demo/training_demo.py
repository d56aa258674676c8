"""Loam's end-to-end demo, training part: a SageMaker script-mode training job.

The reference workflow trains a regression model with an estimator; here boto3's `sagemaker`
client, pointed at Loam, creates the training job directly: scikit-learn's bundled diabetes
dataset as `train` and `validation` channels, `python/demo/training/train.py` as the entry
point, metrics parsed from its log, the model packed as model.tar.gz, and the whole job
recorded as an MLflow run.
"""

import argparse
import os
import tarfile
import time

import boto3
import joblib
import requests
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))


def write_channels(root):
    frame = load_diabetes(as_frame=True).frame
    train, validation = train_test_split(frame, test_size=0.2, random_state=7)
    for name, part in (("train", train), ("validation", validation)):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        part.to_csv(os.path.join(root, name, f"{name}.csv"), index=False)
    return {name: f"file://{os.path.join(root, name)}" for name in ("train", "validation")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()

    sm = boto3.client("sagemaker", endpoint_url=args.endpoint, region_name="us-east-1",
                      aws_access_key_id="loam", aws_secret_access_key="loam")
    work = os.path.join(args.data_dir, "demo-training")
    channels = write_channels(os.path.join(work, "data"))
    job = "diabetes-sgd-" + time.strftime("%Y-%m-%d-%H-%M-%S-000", time.gmtime())
    print(f"==> CreateTrainingJob {job} (scikit-learn script mode)")
    sm.create_training_job(
        TrainingJobName=job,
        RoleArn="arn:aws:iam::000000000000:role/loam-demo",
        AlgorithmSpecification={
            "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            "TrainingInputMode": "File",
            "MetricDefinitions": [
                {"Name": "train_loss", "Regex": r"train_loss: ([0-9.eE+-]+)"},
                {"Name": "val_loss", "Regex": r"val_loss: ([0-9.eE+-]+)"},
                {"Name": "val_rmse", "Regex": r"val_rmse: ([0-9.eE+-]+)"},
            ],
        },
        # JSON-encoded, as the SageMaker Python SDK sends them.
        HyperParameters={
            "epochs": "30",
            "learning-rate": "0.005",
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"file://{os.path.join(HERE, "training")}"',
        },
        InputDataConfig=[
            {"ChannelName": name, "ContentType": "text/csv",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                             "S3DataDistributionType": "FullyReplicated"}}}
            for name, uri in channels.items()
        ],
        OutputDataConfig={"S3OutputPath": f"file://{os.path.join(work, 'output')}"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        ExperimentConfig={"ExperimentName": "loam-demo-training"},
        Tags=[{"Key": "project", "Value": "loam-demo"}],
    )
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=job, WaiterConfig={"Delay": 1})
    d = sm.describe_training_job(TrainingJobName=job)
    print(f"    status: {d['TrainingJobStatus']} ({d['TrainingTimeInSeconds']} s)")
    if d["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"training failed: {d.get('FailureReason')}")
    print("    transitions: " + " -> ".join(t["Status"] for t in d["SecondaryStatusTransitions"]))
    for m in d["FinalMetricDataList"]:
        print(f"    {m['MetricName']:>10} = {m['Value']:.4f}")
    model_uri = d["ModelArtifacts"]["S3ModelArtifacts"]
    print(f"    model: {model_uri}")

    with tarfile.open(model_uri[len("file://"):]) as tar:
        tar.extractall(os.path.join(work, "model"), filter="data")
    bundle = joblib.load(os.path.join(work, "model", "model.joblib"))
    print(f"    model.tar.gz holds a {type(bundle['model']).__name__} over {len(bundle['features'])} features")

    runs = requests.post(f"{args.endpoint}/api/2.0/mlflow/runs/search", json={
        "experiment_ids": [requests.get(f"{args.endpoint}/api/2.0/mlflow/experiments/get-by-name",
                                        params={"experiment_name": "loam-demo-training"}).json()
                           ["experiment"]["experiment_id"]],
        "filter": f"tags.`sagemaker.training_job_name` = '{job}'"}).json()["runs"]
    run = runs[0]
    history = requests.get(f"{args.endpoint}/api/2.0/mlflow/metrics/get-history",
                           params={"run_id": run["info"]["run_id"], "metric_key": "val_loss"}).json()["metrics"]
    artifacts = requests.get(f"{args.endpoint}/api/2.0/mlflow/artifacts/list",
                             params={"run_id": run["info"]["run_id"]}).json().get("files", [])
    print(f"    MLflow run {run['info']['run_id']} ({run['info']['status']}): "
          f"{len(history)} val_loss points, params {sorted(p['key'] for p in run['data']['params'])}, "
          f"artifacts {[a['path'] for a in artifacts]} (the script logged its model into the job's run)")
    print(f"    logs: build/loam logs {job} --endpoint {args.endpoint}")


if __name__ == "__main__":
    main()
