"""Loam's end-to-end demo, workflow part: periodic retraining as a Step Functions state machine.

Runs after training_demo.py, against the same server. boto3's `stepfunctions` client creates
the Data Science SDK's TrainingPipeline with a quality gate, in both of the States Language's
query languages: a `createTrainingJob.sync` task in JSONata retrains the model with the latest
training job's settings and picks `val_rmse` out of the job's FinalMetricDataList into a
workflow variable, a JSONata Choice state deploys only a model under the threshold (JSONPath
states then run createModel -> createEndpointConfig -> createEndpoint, and
`aws-sdk:sagemaker:describeEndpoint` until InService), and a second execution with an
impossible threshold stops at the gate, whose Fail state words the cause with JSONata. The execution history is printed as a table, the
deployed endpoint answers a row, and everything the workflow created is deleted again.
"""

import argparse
import json
import time

from loam_clients import client

ROLE = "arn:aws:iam::000000000000:role/loam-demo"


def pipeline(job, source_dir):
    """The state machine: names come from the execution input."""
    train = {k: job[k] for k in ("AlgorithmSpecification", "RoleArn", "HyperParameters", "InputDataConfig",
                                 "OutputDataConfig", "ResourceConfig", "StoppingCondition")}
    train["AlgorithmSpecification"] = {k: v for k, v in train["AlgorithmSpecification"].items()
                                       if k in ("TrainingImage", "TrainingInputMode", "MetricDefinitions")}
    train["TrainingJobName"] = "{% $states.input.TrainingJobName %}"
    return {
        "Comment": "Retrain, gate on validation RMSE, deploy",
        "StartAt": "Train",
        "States": {
            "Train": {
                "Type": "Task", "QueryLanguage": "JSONata",
                "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                "Arguments": train,
                "Assign": {"rmse": "{% $states.result.FinalMetricDataList[MetricName = 'val_rmse'].Value %}"},
                "Output": "{% $merge([$states.input, {'trained': {"
                          "'rmse': $states.result.FinalMetricDataList[MetricName = 'val_rmse'].Value,"
                          "'model': $states.result.ModelArtifacts.S3ModelArtifacts,"
                          "'image': $states.result.AlgorithmSpecification.TrainingImage}}]) %}",
                "Next": "Quality gate"},
            "Quality gate": {
                "Type": "Choice", "QueryLanguage": "JSONata",
                "Choices": [{"Condition": "{% $rmse <= $states.input.MaxRmse %}", "Next": "Create model"}],
                "Default": "Keep the current model"},
            "Keep the current model": {
                "Type": "Fail", "QueryLanguage": "JSONata", "Error": "QualityGateFailed",
                "Cause": "{% 'val_rmse ' & $formatNumber($rmse, '0.00') & ' is above the threshold of '"
                         " & $string($states.input.MaxRmse) %}"},
            "Create model": {
                "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createModel",
                "Parameters": {
                    "ModelName.$": "$.TrainingJobName", "ExecutionRoleArn": ROLE,
                    "PrimaryContainer": {"Image.$": "$.trained.image", "ModelDataUrl.$": "$.trained.model",
                                         "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                                                         "SAGEMAKER_SUBMIT_DIRECTORY": source_dir}}},
                "ResultPath": None, "Next": "Configure endpoint"},
            "Configure endpoint": {
                "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createEndpointConfig",
                "Parameters": {"EndpointConfigName.$": "$.TrainingJobName", "ProductionVariants": [
                    {"VariantName": "AllTraffic", "ModelName.$": "$.TrainingJobName", "InitialInstanceCount": 1,
                     "InstanceType": "ml.m5.large"}]},
                "ResultPath": None, "Next": "Deploy"},
            "Deploy": {
                "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createEndpoint",
                "Parameters": {"EndpointName.$": "$.EndpointName", "EndpointConfigName.$": "$.TrainingJobName"},
                "ResultPath": None, "Next": "Endpoint status"},
            "Endpoint status": {
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                "Parameters": {"EndpointName.$": "$.EndpointName"},
                "ResultSelector": {"status.$": "$.EndpointStatus"}, "ResultPath": "$.endpoint",
                "Next": "In service?"},
            "In service?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.endpoint.status", "StringEquals": "InService", "Next": "Deployed"},
                            {"Variable": "$.endpoint.status", "StringEquals": "Failed", "Next": "Deployment failed"}],
                "Default": "Wait"},
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Endpoint status"},
            "Deployment failed": {"Type": "Fail", "Error": "EndpointFailed"},
            "Deployed": {"Type": "Succeed"},
        },
    }


def run(sfn, machine, name, payload):
    arn = sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))["executionArn"]
    while (d := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.5)
    return arn, d


def print_history(sfn, arn):
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    start = events[0]["timestamp"]
    print(f"    {'id':>3} {'after':>7}  {'event':<24} state / detail")
    for e in events:
        if e["type"].endswith("StateExited") or e["type"] in ("TaskScheduled", "TaskStarted"):
            continue  # the table keeps what a reader follows: states entered, job and call results
        details = next((v for k, v in e.items() if k.endswith("EventDetails")), {})
        what = details.get("name") or details.get("resource") or details.get("error") or ""
        if e["type"] == "TaskSubmitted":
            what += " -> " + ", ".join(f"{k}" for k in json.loads(details["output"]))
        print(f"    {e['id']:>3} {(e['timestamp'] - start).total_seconds():6.1f}s  {e['type']:<24} {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()
    sm, sfn = client("sagemaker", args.endpoint), client("stepfunctions", args.endpoint)
    runtime = client("sagemaker-runtime", args.endpoint)

    latest = sm.list_training_jobs(NameContains="diabetes-sgd-2", StatusEquals="Completed", SortBy="CreationTime",
                                   SortOrder="Descending", MaxResults=1)["TrainingJobSummaries"]
    if not latest:
        raise SystemExit("no training job found: run training_demo.py first")
    job = sm.describe_training_job(TrainingJobName=latest[0]["TrainingJobName"])
    source_dir = json.loads(job["HyperParameters"]["sagemaker_submit_directory"])
    rmse = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}["val_rmse"]
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
    machine = sfn.create_state_machine(
        name=f"diabetes-retraining-{stamp}", roleArn="arn:aws:iam::000000000000:role/loam-demo-workflows",
        definition=json.dumps(pipeline(job, source_dir)))["stateMachineArn"]
    print(f"==> CreateStateMachine {machine.rsplit(':', 1)[1]}: Train (.sync, JSONata) -> Quality gate (JSONata) -> "
          "Create model -> Configure endpoint -> Deploy -> poll describeEndpoint")
    refs = sfn.describe_state_machine(stateMachineArn=machine).get("variableReferences", {})
    print(f"    variables the states read (DescribeStateMachine variableReferences): {refs}")

    threshold = round(rmse * 1.2, 1)
    endpoint = "diabetes-retrained"
    retrain = f"diabetes-retrain-{stamp}"
    print(f"==> StartExecution retrain-{stamp}: deploy if val_rmse <= {threshold} (the last model had {rmse:.1f})")
    started = time.monotonic()
    arn, d = run(sfn, machine, f"retrain-{stamp}",
                 {"TrainingJobName": retrain, "EndpointName": endpoint, "MaxRmse": threshold})
    print(f"    {d['status']} in {time.monotonic() - started:.1f} s")
    print_history(sfn, arn)
    if d["status"] != "SUCCEEDED":
        raise SystemExit(f"the retraining workflow ended {d['status']}: {d.get('error')} {d.get('cause')}")
    output = json.loads(d["output"])
    print(f"    retrained val_rmse {output['trained']['rmse']:.1f}; endpoint {endpoint} is {output['endpoint']['status']}")
    row = "0.0381,0.0507,0.0617,0.0219,-0.0442,-0.0348,-0.0434,-0.0026,0.0199,-0.0176"
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="application/json", Body=row)
    print(f"    InvokeEndpoint {endpoint}: {json.loads(answer['Body'].read())}")

    strict = f"diabetes-retrain-strict-{stamp}"
    print(f"==> StartExecution strict-{stamp}: the same workflow with an impossible threshold (val_rmse <= 1)")
    arn, d = run(sfn, machine, f"strict-{stamp}", {"TrainingJobName": strict, "EndpointName": "unused", "MaxRmse": 1})
    print(f"    {d['status']}: {d.get('error')} ({d.get('cause')}); the model was not deployed: "
          f"{sm.list_models(NameContains=strict)['Models'] == []}")

    for call in (lambda: sm.delete_endpoint(EndpointName=endpoint),
                 lambda: sm.delete_endpoint_config(EndpointConfigName=retrain),
                 lambda: sm.delete_model(ModelName=retrain)):
        call()
    print(f"    deleted endpoint {endpoint}; executions stay listed: "
          f"{len(sfn.list_executions(stateMachineArn=machine)['executions'])} (ListExecutions)")


if __name__ == "__main__":
    main()
