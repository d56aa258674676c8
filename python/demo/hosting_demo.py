"""Loam's end-to-end demo, hosting part: the tuning job's best model behind a real-time endpoint.

Runs after training_demo.py, against the same server. The best training job of the latest
`diabetes-tune-*` tuning job (else the latest `diabetes-sgd-*` training job) gave a model.tar.gz
in Loam's S3 store; boto3's `sagemaker` client creates a Model from it (the job's own image, and
`inference.py` from the job's sourcedir.tar.gz, because train.py saves a scaler and a regressor
together, which the default handlers cannot call), an EndpointConfig and an Endpoint, as
`estimator.deploy()` does. Once the waiter sees it InService, `sagemaker-runtime` InvokeEndpoint
sends it a few held-out rows as CSV, the predictions are printed next to the true targets, the
same rows go through the Open Inference Protocol's `/v2/models/<endpoint>/infer` (what KServe and
Triton clients send), the data capture the endpoint config asked for is read back from S3, and
the endpoint is deleted. Then a batch transform job runs the same model over the whole held-out
split (features only, one CSV object), SplitType Line and MultiRecord as `transformer.transform()`
sends them, and the `.out` object it writes is scored against the true targets.
"""

import argparse
import io
import json
import time

import pandas as pd
import requests

from loam_clients import client


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
    """The first `count` rows (None: all) of the job's `validation` channel (the processing job's
    held-out split)."""
    uri = next(c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]
               if c["ChannelName"] == "validation")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    key = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
                 if o["Key"].endswith(".csv"))[0]
    frame = pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    return (frame if count is None else frame.head(count)), f"s3://{bucket}/{key}"


def batch_transform(sm, s3, model, job, stamp):
    """CreateTransformJob over every held-out row; prints the RMSE of what it wrote."""
    rows, source = held_out_rows(s3, job, count=None)
    bucket = source[len("s3://"):].split("/", 1)[0]
    prefix = f"diabetes-transform-{stamp}"
    s3.put_object(Bucket=bucket, Key=f"{prefix}/input/validation.csv",
                  Body=rows.drop(columns=["target"]).to_csv(header=False, index=False).encode())
    name = f"diabetes-sgd-transform-{stamp}"
    print(f"==> CreateTransformJob {name}: {len(rows)} rows of {source}, SplitType Line, MultiRecord")
    started = time.monotonic()
    sm.create_transform_job(
        TransformJobName=name, ModelName=model, BatchStrategy="MultiRecord", MaxPayloadInMB=1,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                        "S3Uri": f"s3://{bucket}/{prefix}/input/"}},
                        "ContentType": "text/csv", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": f"s3://{bucket}/{prefix}/output/", "Accept": "text/csv",
                         "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1})
    try:
        sm.get_waiter("transform_job_completed_or_stopped").wait(
            TransformJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    except Exception:
        d = sm.describe_transform_job(TransformJobName=name)
        raise SystemExit(f"transform job {d['TransformJobStatus']}: {d.get('FailureReason')}")
    key = f"{prefix}/output/validation.csv.out"
    predicted = pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()), header=None)[0]
    rmse = float(((predicted.to_numpy() - rows["target"].to_numpy()) ** 2).mean() ** 0.5)
    print(f"    Completed in {time.monotonic() - started:.1f} s: s3://{bucket}/{key} holds {len(predicted)} "
          f"predictions, RMSE {rmse:.1f} against the true targets")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()
    sm = client("sagemaker", args.endpoint)
    runtime = client("sagemaker-runtime", args.endpoint)
    s3 = client("s3", args.endpoint)

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
    capture_bucket = model_data[len("s3://"):].split("/", 1)[0]
    capture_uri = f"s3://{capture_bucket}/diabetes-datacapture"
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": capture_uri,
                           "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                           "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"],
                                                        "JsonContentTypes": ["application/json"]}})
    print(f"==> CreateEndpoint {endpoint} (config {config}: 1 x ml.m5.large, data capture 100% to {capture_uri})")
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

    values = features.to_numpy(dtype=float)
    print(f"==> POST /v2/models/{endpoint}/infer (Open Inference Protocol, a {list(values.shape)} FP64 tensor)")
    v2 = requests.post(f"{args.endpoint}/v2/models/{endpoint}/infer", timeout=60, json={
        "id": "demo-1", "inputs": [{"name": "features", "shape": list(values.shape), "datatype": "FP64",
                                    "data": values.ravel().tolist()}]})
    v2.raise_for_status()
    output = v2.json()["outputs"][0]
    print(f"    {output['name']}: shape {output['shape']} {output['datatype']}, "
          f"data {[round(x, 1) for x in output['data']]}")

    print(f"==> Data capture under {capture_uri}/{endpoint}/AllTraffic/ (written every 5 s)")
    captured, deadline = [], time.monotonic() + 30
    while len(captured) < 2 and time.monotonic() < deadline:
        time.sleep(1)
        listing = s3.list_objects_v2(Bucket=capture_bucket, Prefix=f"diabetes-datacapture/{endpoint}/")
        captured = [line for obj in listing.get("Contents", [])
                    for line in s3.get_object(Bucket=capture_bucket, Key=obj["Key"])["Body"].read().splitlines()]
    for line in captured:
        record = json.loads(line)["captureData"]
        request, answer = record["endpointInput"], record["endpointOutput"]
        print(f"    {request['observedContentType']} in ({request['encoding']}, {len(request['data'])} chars) -> "
              f"{answer['observedContentType']} out: {answer['data'][:60]}")

    print(f"==> DeleteEndpoint {endpoint}")
    sm.delete_endpoint(EndpointName=endpoint)
    sm.get_waiter("endpoint_deleted").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    print(f"    deleted; model {model} and endpoint config {config} remain (ListModels, ListEndpointConfigs)")

    batch_transform(sm, s3, model, job, stamp)


if __name__ == "__main__":
    main()
