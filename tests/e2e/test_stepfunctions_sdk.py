"""The AWS Step Functions Data Science SDK (``stepfunctions`` 2.3.0, on the SageMaker Python SDK
v2), end to end against a real Loam server, from ``.venv-sagemaker``.

``clients/stepfunctions_sdk_flow.py`` builds the SDK's ``TrainingPipeline`` over an ``SKLearn``
estimator, unchanged: the SDK writes the definition, creates the state machine, starts it and
follows it with ``get_output(wait=True)``; the training job, model, endpoint config and endpoint
it creates are Loam's real ones, and the endpoint answers a prediction through the SageMaker SDK.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemaker_helpers import run_sdk_flow_on_private_server

FLOW = Path(__file__).parent / "clients" / "stepfunctions_sdk_flow.py"

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """Runs the flow once against a private training server; returns its summary."""
    return run_sdk_flow_on_private_server(tmp_path_factory, "loam-sfn-sdk", FLOW, 280)[0]


def test_the_sdk_writes_the_training_pipeline_loam_accepts(flow):
    assert flow["stepfunctions"] == "2.3.0"
    assert flow["states"] == ["Training", "Create Model", "Configure Endpoint", "Deploy"]
    assert flow["resources"] == {
        "Training": "arn:aws:states:::sagemaker:createTrainingJob.sync",
        "Create Model": "arn:aws:states:::sagemaker:createModel",
        "Configure Endpoint": "arn:aws:states:::sagemaker:createEndpointConfig",
        "Deploy": "arn:aws:states:::sagemaker:createEndpoint",
    }
    assert flow["state_machine"].startswith("arn:aws:states:us-east-1:000000000000:stateMachine:training-pipeline-")


def test_the_execution_trains_and_deploys(flow):
    assert flow["execution"]["status"] == "SUCCEEDED"
    assert flow["output_keys"] == ["EndpointArn"]
    assert flow["task_resources"] == ["createTrainingJob.sync", "createModel", "createEndpointConfig", "createEndpoint"]
    types = flow["event_types"]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert types[1:7] == ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded",
                          "TaskStateExited"]
    training = flow["training"]
    assert training["status"] == "Completed"
    # The estimator's script-mode hyperparameters reached the job through $$.Execution.Input['Training'].
    assert training["hyperparameters"]["sagemaker_program"] == '"train.py"'
    assert training["hyperparameters"]["epochs"] == "10"
    assert training["model_data"].endswith(f"/{training['name']}/output/model.tar.gz")


def test_the_endpoint_it_deployed_answers_and_everything_is_listed_then_deleted(flow):
    assert flow["endpoint"]["status"] == "InService"
    prediction = flow["prediction"]
    assert len(prediction) == 2 and all(isinstance(v, float) for v in prediction)
    # The data is 50 rooms - 0.8 age - 3 distance + 100 plus noise (clients/sagemaker_sdk_flow.py).
    truth = [50 * 5.0 - 0.8 * 20.0 - 3 * 10.0 + 100, 50 * 3.0 - 0.8 * 60.0 - 3 * 25.0 + 100]
    assert prediction == pytest.approx(truth, abs=20)
    machine_name = flow["state_machine"].rsplit(":", 1)[1]
    assert machine_name in flow["workflows"]
    assert flow["executions"] == [flow["execution"]["name"]]
    assert machine_name not in flow["workflows_after_delete"]
