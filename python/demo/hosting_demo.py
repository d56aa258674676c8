"""Loam's end-to-end demo, hosting part: the tuning job's best model behind a real-time endpoint.

Runs after training_demo.py, against the same server. The best training job of the latest
`diabetes-tune-*` tuning job (else the latest `diabetes-sgd-*` training job) gave a model.tar.gz
in Loam's S3 store; boto3's `sagemaker` client creates a Model from it (the job's own image, and
`inference.py` from the job's sourcedir.tar.gz, because train.py saves a scaler and a regressor
together, which the default handlers cannot call), an EndpointConfig and an Endpoint, as
`estimator.deploy()` does. Once the waiter sees it InService, `sagemaker-runtime` InvokeEndpoint
sends it a few held-out rows as CSV, the predictions are printed next to the true targets, and
the endpoint is deleted.
"""

import argparse
import io
import json
import time

import boto3
import pandas as pd


def best_training_job(sm):
    """(training job description, how it was chosen)."""
    tunings = sm.list_hyper_parameter_tuning_jobs(NameContains="diabetes-tune", SortBy="CreationTime",
                                                  SortOrder="Descending", MaxResults=1)
    for summary in tunings["HyperParameterTuningJobSummaries"]:
        tuning = sm.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=summary["HyperParameterTuningJobName"])
        best = tuning.get("BestTrainingJob")
        if best:
            metric = best["FinalHyperParameterTuningJobObjectiveMetric"]
            return (sm.describe_training_job(TrainingJobName=best["TrainingJobName"]),
                    f"best of tuning job {tuning['HyperParameterTuningJobName']} "
                    f"({metric['MetricName']}={metric['Value']:.2f})")
    jobs = sm.list_training_jobs(NameContains="diabetes-sgd", StatusEquals="Completed", SortBy="CreationTime",
                                 SortOrder="Descending", MaxResults=1)["TrainingJobSummaries"]
    if not jobs:
        raise SystemExit("no trained model found: run training_demo.py first")
    return sm.describe_training_job(TrainingJobName=jobs[0]["TrainingJobName"]), "the latest training job"


def held_out_rows(s3, job, count=5):
    """The first rows of the job's `validation` channel (the processing job's held-out split)."""
    uri = next(c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]
               if c["ChannelName"] == "validation")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    key = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
                 if o["Key"].endswith(".csv"))[0]
    frame = pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    return frame.head(count), f"s3://{bucket}/{key}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()
    clients = dict(endpoint_url=args.endpoint, region_name="us-east-1",
                   aws_access_key_id="loam", aws_secret_access_key="loam")
    sm = boto3.client("sagemaker", **clients)
    runtime = boto3.client("sagemaker-runtime", **clients)
    s3 = boto3.client("s3", **clients)

    job, why = best_training_job(sm)
    model_data = job["ModelArtifacts"]["S3ModelArtifacts"]
    source_dir = json.loads(job["HyperParameters"]["sagemaker_submit_directory"])
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
    model, config, endpoint = f"diabetes-sgd-{stamp}", f"diabetes-sgd-config-{stamp}", "diabetes-sgd-endpoint"
    print(f"==> CreateModel {model}: {job['TrainingJobName']}, {why}")
    print(f"    model data: {model_data}; handlers: inference.py from {source_dir}")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn="arn:aws:iam::000000000000:role/loam-demo",
        PrimaryContainer={
            "Image": job["AlgorithmSpecification"]["TrainingImage"],
            "ModelDataUrl": model_data,
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": source_dir},
        },
    )
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}])
    print(f"==> CreateEndpoint {endpoint} (config {config}: 1 x ml.m5.large)")
    started = time.monotonic()
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    try:
        sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint,
                                                  WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    except Exception:
        d = sm.describe_endpoint(EndpointName=endpoint)
        raise SystemExit(f"endpoint {d['EndpointStatus']}: {d.get('FailureReason')}")
    d = sm.describe_endpoint(EndpointName=endpoint)
    variant = d["ProductionVariants"][0]
    print(f"    {d['EndpointStatus']} in {time.monotonic() - started:.1f} s: {d['EndpointArn']}, variant "
          f"{variant['VariantName']} with {variant['CurrentInstanceCount']} instance(s)")

    rows, source = held_out_rows(s3, job)
    features = rows.drop(columns=["target"])
    print(f"==> InvokeEndpoint with {len(rows)} held-out rows of {source} (text/csv)")
    resp = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="application/json",
                                   Body=features.to_csv(header=False, index=False))
    predictions = json.loads(resp["Body"].read())
    print(f"    answered by variant {resp['InvokedProductionVariant']} ({resp['ContentType']})")
    print(f"    {'target':>8} {'predicted':>10} {'error':>8}")
    for target, predicted in zip(rows["target"], predictions):
        print(f"    {target:8.1f} {predicted:10.1f} {predicted - target:+8.1f}")
    print("    (any HTTP client works: curl -X POST -H 'Content-Type: text/csv' --data-binary "
          f"'{','.join(f'{v:.5f}' for v in features.iloc[0])}' {args.endpoint}/endpoints/{endpoint}/invocations)")

    print(f"==> DeleteEndpoint {endpoint}")
    sm.delete_endpoint(EndpointName=endpoint)
    sm.get_waiter("endpoint_deleted").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    print(f"    deleted; model {model} and endpoint config {config} remain (ListModels, ListEndpointConfigs)")


if __name__ == "__main__":
    main()
