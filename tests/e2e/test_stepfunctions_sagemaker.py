"""Step Functions workflows whose Task states run Loam's real SageMaker jobs, driven with boto3.

The Data Science SDK's TrainingPipeline shape (train .sync -> create model -> endpoint config ->
endpoint, then describeEndpoint until InService) with a quality gate on the training job's
final metric, StopExecution stopping the training job it waits for, and a server killed while
an execution waits for its training job: the resumed execution polls the same job instead of
creating it again.
"""

from __future__ import annotations

import io
import json
import time

import joblib
import pytest

from conftest import training_server_args
from sfn_helpers import create_machine, history, sfn_client, types_of, unique, wait_done, wait_for_event
from sagemaker_helpers import (
    ROLE_ARN,
    SKLEARN_IMAGE,
    channel,
    read_tarball,
    sagemaker_client,
    sagemaker_runtime_client,
    training_job_request,
    uri_to_path,
    write_diabetes_csv,
)

pytestmark = pytest.mark.timeout(300)

R2_METRIC = [{"Name": "validation:r2", "Regex": r"r2 = (-?[0-9.]+)"}]
TIMEOUT_S = 240.0


def name(label: str) -> str:
    return unique(f"sfn-{label}")


def wait_execution(sfn, arn: str, server) -> dict:
    return wait_done(sfn, arn, timeout=TIMEOUT_S, server=server)


def history_types(sfn, arn: str) -> list[str]:
    return types_of(history(sfn, arn))


def train_parameters(job_request: dict) -> dict:
    """A createTrainingJob task's Parameters: the request, its name taken from the input."""
    params = {k: v for k, v in job_request.items() if k != "TrainingJobName"}
    params["TrainingJobName.$"] = "$.TrainingJobName"
    return params


def training_pipeline(job_request: dict) -> dict:
    """The Data Science SDK's TrainingPipeline with a quality gate: names come from the input
    ($.TrainingJobName, $.ModelName, $.EndpointName, $.MinR2)."""
    return {
        "Comment": "train -> quality gate -> model -> endpoint config -> endpoint",
        "StartAt": "Training",
        "States": {
            "Training": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                "Parameters": train_parameters(job_request),
                "ResultSelector": {
                    "ModelArtifacts.$": "$.ModelArtifacts.S3ModelArtifacts",
                    "R2.$": "$.FinalMetricDataList[0].Value",
                    "Status.$": "$.TrainingJobStatus",
                },
                "ResultPath": "$.Training",
                "Next": "Good enough?",
            },
            "Good enough?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.Training.R2", "NumericGreaterThanEqualsPath": "$.MinR2",
                             "Next": "Create Model"}],
                "Default": "Model too weak",
            },
            "Model too weak": {"Type": "Fail", "Error": "QualityGateFailed", "Cause": "r2 below the threshold"},
            "Create Model": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createModel",
                "Parameters": {
                    "ModelName.$": "$$.Execution.Input['ModelName']",
                    "ExecutionRoleArn": ROLE_ARN,
                    "PrimaryContainer": {"Image": SKLEARN_IMAGE, "ModelDataUrl.$": "$.Training.ModelArtifacts"},
                },
                "ResultPath": "$.Model",
                "Next": "Configure Endpoint",
            },
            "Configure Endpoint": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createEndpointConfig",
                "Parameters": {
                    "EndpointConfigName.$": "$.EndpointName",
                    "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName.$": "$.ModelName",
                                            "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
                },
                "ResultPath": None,
                "Next": "Deploy",
            },
            "Deploy": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createEndpoint",
                "Parameters": {"EndpointName.$": "$.EndpointName", "EndpointConfigName.$": "$.EndpointName"},
                "ResultPath": "$.Endpoint",
                "Next": "Endpoint status",
            },
            "Endpoint status": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                "Parameters": {"EndpointName.$": "$.EndpointName"},
                "ResultSelector": {"Status.$": "$.EndpointStatus"},
                "ResultPath": "$.EndpointStatus",
                "Next": "In service?",
            },
            "In service?": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.EndpointStatus.Status", "StringEquals": "InService", "Next": "Deployed"},
                    {"Variable": "$.EndpointStatus.Status", "StringEquals": "Failed", "Next": "Deployment failed"},
                ],
                "Default": "Wait for endpoint",
            },
            "Wait for endpoint": {"Type": "Wait", "Seconds": 1, "Next": "Endpoint status"},
            "Deployment failed": {"Type": "Fail", "Error": "EndpointFailed"},
            "Deployed": {"Type": "Succeed"},
        },
    }


@pytest.fixture(scope="module")
def sfn(training_server):
    return sfn_client(training_server.url)


@pytest.fixture(scope="module")
def sm(training_server):
    return sagemaker_client(training_server.url)


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    base = tmp_path_factory.mktemp("sfn-diabetes")
    write_diabetes_csv(base / "train", split="train")
    write_diabetes_csv(base / "validation", split="validation")
    return base


def regression_request(diabetes, output_dir) -> dict:
    return training_job_request("placeholder", "train_regression.py", output_dir,
                                channels=[channel("train", diabetes / "train"),
                                          channel("validation", diabetes / "validation")],
                                hyperparameters={"epochs": 5}, metric_definitions=R2_METRIC)


def test_training_pipeline_deploys_a_model_that_passes_the_quality_gate(training_server, sfn, sm, diabetes, tmp_path):
    machine = create_machine(sfn, "pipeline", training_pipeline(regression_request(diabetes, tmp_path / "out")))
    job, model, endpoint = name("train"), name("model"), name("ep")
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(
        {"TrainingJobName": job, "ModelName": model, "EndpointName": endpoint, "MinR2": -100}))["executionArn"]
    try:
        desc = wait_execution(sfn, execution, training_server)
        assert desc["status"] == "SUCCEEDED", (desc, history_types(sfn, execution))
        output = json.loads(desc["output"])
        trained = sm.describe_training_job(TrainingJobName=job)
        assert trained["TrainingJobStatus"] == "Completed"
        assert output["Training"]["ModelArtifacts"] == trained["ModelArtifacts"]["S3ModelArtifacts"]
        r2 = {m["MetricName"]: m["Value"] for m in trained["FinalMetricDataList"]}["validation:r2"]
        assert output["Training"]["R2"] == pytest.approx(r2)
        assert output["Model"]["ModelArn"] == sm.describe_model(ModelName=model)["ModelArn"]
        assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"

        # The history of the .sync task is the one Step Functions records.
        events = history(sfn, execution)
        task_events = [e["type"] for e in events if e["type"].startswith("Task") and e["type"] != "TaskStateExited"]
        assert task_events[:5] == ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
        submitted = next(e for e in events if e["type"] == "TaskSubmitted")["taskSubmittedEventDetails"]
        assert submitted["resourceType"] == "sagemaker" and submitted["resource"] == "createTrainingJob.sync"
        assert json.loads(submitted["output"])["TrainingJobArn"] == trained["TrainingJobArn"]
        succeeded = next(e for e in events if e["type"] == "TaskSucceeded")["taskSucceededEventDetails"]
        assert json.loads(succeeded["output"])["TrainingJobStatus"] == "Completed"
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))

        # The deployed endpoint serves the trained model's own predictions.
        pipeline = joblib.load(io.BytesIO(read_tarball(uri_to_path(trained["ModelArtifacts"]["S3ModelArtifacts"]))
                                          ["model.joblib"]))
        row = [0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, -0.002, 0.02, -0.02]
        runtime = sagemaker_runtime_client(training_server.url)
        answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="application/json",
                                         Body=",".join(map(str, row)))
        predicted = json.loads(answer["Body"].read())
        assert predicted == pytest.approx(pipeline.predict([row]).tolist())
    finally:
        for call in (lambda: sm.delete_endpoint(EndpointName=endpoint),
                     lambda: sm.delete_endpoint_config(EndpointConfigName=endpoint),
                     lambda: sm.delete_model(ModelName=model)):
            try:
                call()
            except Exception:  # noqa: BLE001 - what the failed run never created
                pass


def test_quality_gate_refuses_a_weak_model_and_creates_nothing(training_server, sfn, sm, diabetes, tmp_path):
    machine = create_machine(sfn, "gate", training_pipeline(regression_request(diabetes, tmp_path / "out")))
    job, model = name("train"), name("model")
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(
        {"TrainingJobName": job, "ModelName": model, "EndpointName": name("ep"), "MinR2": 2}))["executionArn"]
    desc = wait_execution(sfn, execution, training_server)
    assert desc["status"] == "FAILED"
    assert (desc["error"], desc["cause"]) == ("QualityGateFailed", "r2 below the threshold")
    assert sm.describe_training_job(TrainingJobName=job)["TrainingJobStatus"] == "Completed"
    assert sm.list_models(NameContains=model)["Models"] == []
    types = history_types(sfn, execution)
    assert types[-3:] == ["ChoiceStateExited", "FailStateEntered", "ExecutionFailed"]


def test_failed_training_job_fails_the_task_with_its_describe_output(training_server, sfn, sm, tmp_path):
    request = training_job_request("placeholder", "fail.py", tmp_path / "out")
    definition = {"StartAt": "Train", "States": {
        "Train": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                  "Parameters": train_parameters(request),
                  "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Report"}],
                  "End": True},
        "Report": {"Type": "Pass", "End": True}}}
    machine = create_machine(sfn, "failjob", definition)
    job = name("fail")
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"TrainingJobName": job}))["executionArn"]
    desc = wait_execution(sfn, execution, training_server)
    assert desc["status"] == "SUCCEEDED", desc
    error = json.loads(desc["output"])["error"]
    assert error["Error"] == "States.TaskFailed"
    cause = json.loads(error["Cause"])
    assert cause["TrainingJobName"] == job and cause["TrainingJobStatus"] == "Failed"
    assert cause["FailureReason"] == sm.describe_training_job(TrainingJobName=job)["FailureReason"]
    assert "TaskFailed" in history_types(sfn, execution)


def test_invalid_training_request_fails_the_task_with_sagemakers_error(training_server, sfn, tmp_path):
    definition = {"StartAt": "Train", "States": {
        "Train": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                  "Parameters": {"TrainingJobName": "bad name!", "RoleArn": ROLE_ARN}, "End": True}}}
    machine = create_machine(sfn, "badreq", definition)
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    desc = wait_execution(sfn, execution, training_server)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "SageMaker.AmazonSageMakerException"
    assert "ValidationException" in desc["cause"]
    failed = [e for e in history(sfn, execution) if e["type"] == "TaskFailed"]
    assert len(failed) == 1 and failed[0]["taskFailedEventDetails"]["error"] == "SageMaker.AmazonSageMakerException"


def sleep_machine(sfn, tmp_path, seconds: int, label: str) -> str:
    request = training_job_request("placeholder", "sleep.py", tmp_path / "out", hyperparameters={"seconds": seconds})
    return create_machine(sfn, label, {"StartAt": "Train", "States": {
        "Train": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                  "Parameters": train_parameters(request), "End": True}}})


def test_stop_execution_stops_the_training_job_it_waits_for(training_server, sfn, sm, tmp_path):
    machine = sleep_machine(sfn, tmp_path, 0, "stop")
    job = name("sleep")
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"TrainingJobName": job}))["executionArn"]
    wait_for_event(sfn, execution, "TaskSubmitted", server=training_server)
    sfn.stop_execution(executionArn=execution, error="Operator", cause="no longer needed")
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    assert history_types(sfn, execution)[-1] == "ExecutionAborted"
    deadline = time.monotonic() + 60
    while sm.describe_training_job(TrainingJobName=job)["TrainingJobStatus"] != "Stopped":
        assert time.monotonic() < deadline, sm.describe_training_job(TrainingJobName=job)
        time.sleep(0.3)


def test_restart_resumes_the_execution_without_creating_the_job_again(loam_server_factory, tmp_path):
    srv = loam_server_factory(*training_server_args())
    sfn, sm = sfn_client(srv.url), sagemaker_client(srv.url)
    machine = sleep_machine(sfn, tmp_path, 4, "restart")
    job = name("sleep")
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"TrainingJobName": job}))["executionArn"]
    wait_for_event(sfn, execution, "TaskSubmitted", server=srv)
    before = history(sfn, execution)
    srv.kill9()
    srv.start()
    sfn, sm = sfn_client(srv.url), sagemaker_client(srv.url)
    desc = wait_execution(sfn, execution, srv)
    assert desc["status"] == "SUCCEEDED", (desc, history_types(sfn, execution), srv.log_tail(3000))
    assert json.loads(desc["output"])["TrainingJobName"] == job
    events = history(sfn, execution)
    assert events[:len(before)] == before
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events].count("TaskSubmitted") == 1
    assert [j["TrainingJobName"] for j in sm.list_training_jobs(NameContains=job)["TrainingJobSummaries"]] == [job]
