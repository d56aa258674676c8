"""Loam's end-to-end demo, jobs part: a processing job, a script-mode training job, a tuning job.

The reference workflow prepares its data with a processing job and trains with an estimator;
here boto3's `s3` and `sagemaker` clients, pointed at Loam, do it directly. The raw shards of
scikit-learn's bundled diabetes dataset and the code go up through Loam's S3 API; the
processing job deals the shards across two instances (ShardedByS3Key), each writing train and
validation splits to s3://; the training job reads those as its `train` and `validation`
channels, runs `python/demo/training/train.py` from sourcedir.tar.gz, its metrics are parsed
from its log, the model is written as s3://.../model.tar.gz and downloaded with boto3, and each
job is recorded as an MLflow run. A tuning job then searches the script's learning rate and
epochs with 6 training jobs, 2 at a time, and prints the best one.
"""

import argparse
import io
import os
import tarfile
import time

import joblib
import requests
from sklearn.datasets import load_diabetes

from loam_clients import client

HERE = os.path.dirname(os.path.abspath(__file__))


BUCKET = "loam-demo"


def upload_raw_shards(s3, shards=4):
    """The raw data, uploaded through Loam's own S3 API as CSV shards."""
    frame = load_diabetes(as_frame=True).frame
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    for i in range(shards):
        s3.put_object(Bucket=BUCKET, Key=f"raw/part-{i}.csv", Body=frame.iloc[i::shards].to_csv(index=False))
    code = os.path.join(HERE, "processing", "preprocess.py")
    s3.upload_file(code, BUCKET, "code/preprocess.py")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="raw/")["Contents"]
    print(f"==> uploaded {len(listed)} raw shards to s3://{BUCKET}/raw/ (Loam's S3 API)")
    return f"s3://{BUCKET}/raw/"


def upload_source_dir(s3, source_dir):
    """The entry point's directory as sourcedir.tar.gz in S3, as the SageMaker SDK packs it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(source_dir, arcname=".")
    s3.put_object(Bucket=BUCKET, Key="code/sourcedir.tar.gz", Body=buffer.getvalue())
    return f"s3://{BUCKET}/code/sourcedir.tar.gz"


def preprocess(sm, s3):
    """A processing job as SKLearnProcessor.run sends it: two instances, sharded input."""
    raw = upload_raw_shards(s3)
    job = "diabetes-prep-" + time.strftime("%Y-%m-%d-%H-%M-%S-000", time.gmtime())
    outputs = {name: f"s3://{BUCKET}/{job}/{name}/" for name in ("train", "validation")}
    print(f"==> CreateProcessingJob {job} (2 instances, ShardedByS3Key)")
    sm.create_processing_job(
        ProcessingJobName=job,
        RoleArn="arn:aws:iam::000000000000:role/loam-demo",
        ProcessingResources={"ClusterConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.large",
                                               "VolumeSizeInGB": 5}},
        AppSpecification={
            "ImageUri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
            "ContainerArguments": ["--validation-ratio", "0.2"],
        },
        ProcessingInputs=[
            {"InputName": "raw", "S3Input": {"S3Uri": raw, "LocalPath": "/opt/ml/processing/input/raw",
                                             "S3DataType": "S3Prefix", "S3InputMode": "File",
                                             "S3DataDistributionType": "ShardedByS3Key"}},
            {"InputName": "code", "S3Input": {"S3Uri": f"s3://{BUCKET}/code/",
                                              "LocalPath": "/opt/ml/processing/input/code",
                                              "S3DataType": "S3Prefix", "S3InputMode": "File",
                                              "S3DataDistributionType": "FullyReplicated"}},
        ],
        ProcessingOutputConfig={"Outputs": [
            {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/output/{name}",
                                              "S3UploadMode": "EndOfJob"}}
            for name, uri in outputs.items()]},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        ExperimentConfig={"ExperimentName": "loam-demo-training"},
    )
    while (d := sm.describe_processing_job(ProcessingJobName=job))["ProcessingJobStatus"] not in (
            "Completed", "Failed", "Stopped"):
        time.sleep(0.5)
    if d["ProcessingJobStatus"] != "Completed":
        raise SystemExit(f"processing failed: {d.get('FailureReason')}")
    for name, uri in outputs.items():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=uri[len(f"s3://{BUCKET}/"):])["Contents"]]
        print(f"    {name}: {[k.rsplit('/', 1)[1] for k in keys]} under {uri}")
    for host in ("algo-1", "algo-2"):
        log = requests.get(f"{sm.meta.endpoint_url}/loam/v1/processing-jobs/{job}/logs",
                           params={"host": host}).text.strip()
        print(f"    {log}")
    return outputs


def tune(sm, channels, source_uri):
    """A small tuning job over the same script: 6 training jobs, 2 at a time, Bayesian search."""
    job = "diabetes-tune-" + time.strftime("%y%m%d-%H%M", time.gmtime())  # as the SageMaker SDK's tuner names it
    print(f"==> CreateHyperParameterTuningJob {job} (Bayesian, 6 jobs, 2 in parallel, early stopping)")
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=job,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "val_loss"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "learning-rate", "MinValue": "0.0001", "MaxValue": "0.05",
                                               "ScalingType": "Logarithmic"}],
                "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "5", "MaxValue": "30"}],
            },
            "TrainingJobEarlyStoppingType": "Auto",
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {
                "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "val_loss", "Regex": r"val_loss: ([0-9.eE+-]+)"}],
            },
            "StaticHyperParameters": {"sagemaker_program": '"train.py"',
                                      "sagemaker_submit_directory": f'"{source_uri}"'},
            "RoleArn": "arn:aws:iam::000000000000:role/loam-demo",
            "InputDataConfig": [
                {"ChannelName": name, "ContentType": "text/csv",
                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                                 "S3DataDistributionType": "FullyReplicated"}}}
                for name, uri in channels.items()
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    )
    while True:
        d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=job)
        if d["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(1)
    print(f"    status: {d['HyperParameterTuningJobStatus']}, training jobs {d['TrainingJobStatusCounters']}")
    for s in sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=job, SortBy="FinalObjectiveMetricValue", SortOrder="Ascending",
            MaxResults=10)["TrainingJobSummaries"]:
        value = s.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value", float("nan"))
        print(f"    {s['TrainingJobName']}: {s['TrainingJobStatus']:>9} val_loss={value:10.2f} "
              f"{s['TunedHyperParameters']}")
    best = d.get("BestTrainingJob")
    if not best:
        raise SystemExit(f"tuning found no model: {d.get('FailureReason')}")
    print(f"    best: {best['TrainingJobName']} val_loss="
          f"{best['FinalHyperParameterTuningJobObjectiveMetric']['Value']:.2f} {best['TunedHyperParameters']}")
    print(f"    MLflow: experiment 'diabetes-tune' holds the tuning job's run with its "
          f"{sum(d['TrainingJobStatusCounters'].values())} training runs as children")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()

    sm, s3 = client("sagemaker", args.endpoint), client("s3", args.endpoint)
    work = os.path.join(args.data_dir, "demo-training")
    channels = preprocess(sm, s3)
    job = "diabetes-sgd-" + time.strftime("%Y-%m-%d-%H-%M-%S-000", time.gmtime())
    source_uri = upload_source_dir(s3, os.path.join(HERE, "training"))
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
            "sagemaker_submit_directory": f'"{source_uri}"',
        },
        InputDataConfig=[
            {"ChannelName": name, "ContentType": "text/csv",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                             "S3DataDistributionType": "FullyReplicated"}}}
            for name, uri in channels.items()
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models"},
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

    local_model = os.path.join(work, "model.tar.gz")
    os.makedirs(work, exist_ok=True)
    s3.download_file(BUCKET, model_uri[len(f"s3://{BUCKET}/"):], local_model)  # through Loam's S3 API
    with tarfile.open(local_model) as tar:
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
    tune(sm, channels, source_uri)


if __name__ == "__main__":
    main()
