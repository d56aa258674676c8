"""The AWS Step Functions Data Science SDK against Loam, run under .venv-sagemaker by
test_stepfunctions_sdk.py.

    AWS_ENDPOINT_URL=http://127.0.0.1:7070 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
    AWS_DEFAULT_REGION=us-east-1 python stepfunctions_sdk_flow.py --work-dir /tmp/flow

The SDK's TrainingPipeline template over a SageMaker SDK SKLearn estimator, unchanged: it writes
the Amazon States Language definition (train .sync -> create model -> endpoint config ->
endpoint, names read from `$$.Execution.Input['...']`), pipeline.create() makes the state
machine, pipeline.execute() starts it, execution.get_output(wait=True) follows it. Then the
endpoint it deployed answers a prediction, the SDK reads the execution's events and lists the
workflows and executions, and everything is deleted again. The last line printed is one JSON
summary.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from sagemaker_sdk_flow import ROLE, start_flow, write_raw_data  # noqa: E402

JOBS = HERE / "sdk_jobs"
WORKFLOW_ROLE = "arn:aws:iam::000000000000:role/StepFunctionsWorkflowExecutionRole"


def main() -> int:
    args = start_flow("sfn-sdk-flow")
    work = args.work_dir

    import boto3
    import sagemaker
    import stepfunctions
    from sagemaker.deserializers import JSONDeserializer
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import CSVSerializer
    from sagemaker.sklearn.estimator import SKLearn
    from stepfunctions.template.pipeline import TrainingPipeline
    from stepfunctions.workflow import Workflow

    summary: dict = {"stepfunctions": stepfunctions.__version__, "sagemaker": sagemaker.__version__}

    session = sagemaker.Session()
    bucket = session.default_bucket()
    write_raw_data(work / "raw")
    train_uri = session.upload_data(str(work / "raw"), bucket=bucket, key_prefix=f"{args.prefix}/train")

    estimator = SKLearn(
        entry_point=str(JOBS / "train.py"), framework_version="1.2-1", py_version="py3",
        instance_type="ml.m5.large", instance_count=1, role=ROLE, sagemaker_session=session,
        hyperparameters={"epochs": 10, "learning-rate": 0.02},
        metric_definitions=[{"Name": "test:r2", "Regex": r"test_r2: (-?[0-9.]+)"}],
    )
    sfn = boto3.client("stepfunctions")  # AWS_ENDPOINT_URL points it at Loam
    pipeline = TrainingPipeline(estimator=estimator, role=WORKFLOW_ROLE, inputs={"train": train_uri},
                                s3_bucket=bucket, client=sfn)
    definition = json.loads(pipeline.workflow.definition.to_json())
    summary["states"] = list(definition["States"])
    summary["resources"] = {name: s.get("Resource") for name, s in definition["States"].items()}

    machine = pipeline.create()
    summary["state_machine"] = machine
    execution = pipeline.execute()
    output = execution.get_output(wait=True)
    described = execution.describe()
    summary["execution"] = {"status": described["status"], "name": described["name"]}
    if described["status"] != "SUCCEEDED":
        print(json.dumps(described, default=str), file=sys.stderr)
        return 1
    summary["output_keys"] = sorted(output)
    events = execution.list_events(max_items=1000)
    summary["event_types"] = [e["type"] for e in events]
    summary["task_resources"] = [e["taskScheduledEventDetails"]["resource"] for e in events
                                 if e["type"] == "TaskScheduled"]

    endpoint_name = output["EndpointArn"].rsplit("/", 1)[1]
    sm = session.sagemaker_client
    sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    training_job = sm.list_training_jobs(NameContains="estimator-training-pipeline", SortBy="CreationTime",
                                         SortOrder="Descending", MaxResults=1)["TrainingJobSummaries"][0]
    described_job = sm.describe_training_job(TrainingJobName=training_job["TrainingJobName"])
    summary["training"] = {"name": described_job["TrainingJobName"], "status": described_job["TrainingJobStatus"],
                           "model_data": described_job["ModelArtifacts"]["S3ModelArtifacts"],
                           "hyperparameters": described_job["HyperParameters"]}
    summary["endpoint"] = {"name": endpoint_name,
                           "status": sm.describe_endpoint(EndpointName=endpoint_name)["EndpointStatus"]}
    predictor = Predictor(endpoint_name, sagemaker_session=session, serializer=CSVSerializer(),
                          deserializer=JSONDeserializer())
    summary["prediction"] = predictor.predict([[5.0, 20.0, 10.0], [3.0, 60.0, 25.0]])

    summary["workflows"] = [w["name"] for w in Workflow.list_workflows(client=sfn)]
    summary["executions"] = [e.name for e in pipeline.workflow.list_executions()]

    config = sm.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    model_name = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]["ModelName"]
    summary["model"] = model_name
    predictor.delete_endpoint(delete_endpoint_config=True)
    sm.delete_model(ModelName=model_name)
    pipeline.workflow.delete()
    time.sleep(0.2)
    summary["workflows_after_delete"] = [w["name"] for w in Workflow.list_workflows(client=sfn)]
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
