"""The CloudWatch Logs subset the SageMaker Python SDK reads to follow jobs (`logs=True`),
through the real boto3 `logs` client: DescribeLogStreams and GetLogEvents over the job logs
Loam keeps, for training and processing jobs."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from sagemaker_helpers import TrainingJobs

pytestmark = pytest.mark.timeout(240)

TRAINING_GROUP = "/aws/sagemaker/TrainingJobs"


@pytest.fixture
def jobs(training_server, sagemaker, tmp_path):
    helper = TrainingJobs(training_server, sagemaker, tmp_path / "s3-output")
    yield helper
    helper.stop_unfinished()


@pytest.fixture
def logs(training_server):
    return boto3.client("logs", endpoint_url=training_server.url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")


def test_streams_and_events_of_a_two_instance_job(jobs, logs):
    name = jobs.create("noop.py", instance_count=2)
    jobs.wait_completed(name)
    streams = logs.describe_log_streams(logGroupName=TRAINING_GROUP, logStreamNamePrefix=name + "/",
                                        orderBy="LogStreamName")["logStreams"]
    names = [s["logStreamName"] for s in streams]
    assert [n.rsplit("-", 1)[0] for n in names] == [f"{name}/algo-1", f"{name}/algo-2"]
    assert all(n.rsplit("-", 1)[1].isdigit() for n in names)

    for stream, host in zip(names, ("algo-1", "algo-2")):
        expected = [line for line in jobs.logs(name, host).split("\n") if line]
        first = logs.get_log_events(logGroupName=TRAINING_GROUP, logStreamName=stream, startFromHead=True)
        assert [e["message"] for e in first["events"]] == expected
        assert all(e["timestamp"] > 0 for e in first["events"])
        # The SDK stops following a stream when the forward token no longer moves.
        again = logs.get_log_events(logGroupName=TRAINING_GROUP, logStreamName=stream, startFromHead=True,
                                    nextToken=first["nextForwardToken"])
        assert again["events"] == []
        assert again["nextForwardToken"] == first["nextForwardToken"]
        latest = logs.get_log_events(logGroupName=TRAINING_GROUP, logStreamName=stream, limit=1)
        assert [e["message"] for e in latest["events"]] == expected[-1:]


def test_prefix_without_a_slash_and_unknown_names(jobs, logs):
    name = jobs.create("noop.py")
    jobs.wait_completed(name)
    streams = logs.describe_log_streams(logGroupName=TRAINING_GROUP, logStreamNamePrefix=name[:-2])["logStreams"]
    assert any(s["logStreamName"].startswith(name + "/algo-1-") for s in streams)
    assert logs.describe_log_streams(logGroupName=TRAINING_GROUP,
                                     logStreamNamePrefix="no-such-job/")["logStreams"] == []
    for call in (lambda: logs.describe_log_streams(logGroupName="/aws/sagemaker/Nope"),
                 lambda: logs.get_log_events(logGroupName=TRAINING_GROUP, logStreamName="no-such-job/algo-1-1"),
                 lambda: logs.get_log_events(logGroupName=TRAINING_GROUP, logStreamName=f"{name}/algo-9-1")):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_processing_job_streams(training_server, sagemaker, logs, tmp_path):
    from test_processing_jobs import processing_request, unique, wait_terminal
    from sagemaker_helpers import file_uri, write_diabetes_csv

    raw = tmp_path / "raw"
    write_diabetes_csv(raw, shards=2)
    name = unique("prep-logs")
    sagemaker.create_processing_job(**processing_request(name, file_uri(raw), tmp_path / "out"))
    assert wait_terminal(sagemaker, name)["ProcessingJobStatus"] == "Completed"
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs",
                                        logStreamNamePrefix=name + "/")["logStreams"]
    assert len(streams) == 1
    events = logs.get_log_events(logGroupName="/aws/sagemaker/ProcessingJobs",
                                 logStreamName=streams[0]["logStreamName"], startFromHead=True)["events"]
    assert any(e["message"].startswith("host algo-1") for e in events)
