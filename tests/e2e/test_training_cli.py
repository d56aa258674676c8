"""Training jobs beyond the API calls themselves: `loam train -f job.yaml` and `loam logs`,
checkpoints restored into a later job, and channels recorded as the run's input datasets."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
import requests

from conftest import loam_binary
from sagemaker_helpers import JOBS_DIR, TrainingJobs, channel, file_uri, find_job_run, write_diabetes_csv

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def jobs(training_server, sagemaker, tmp_path):
    helper = TrainingJobs(training_server, sagemaker, tmp_path / "s3-output")
    yield helper
    helper.stop_unfinished()


def run_cli(*args, timeout=180):
    return subprocess.run([str(loam_binary()), *args], capture_output=True, text=True, timeout=timeout)


def test_checkpoints_come_back_in_the_next_job(jobs, tmp_path):
    saved = tmp_path / "checkpoints"
    first = jobs.request("checkpoint.py")
    first["CheckpointConfig"] = {"S3Uri": file_uri(saved)}
    jobs.wait_completed(jobs.create_from(first))
    assert (saved / "state.txt").read_text() == "10"

    second = jobs.request("checkpoint.py")
    second["CheckpointConfig"] = {"S3Uri": file_uri(saved)}
    name = jobs.create_from(second)
    jobs.wait_completed(name)
    assert "resumed from step 10" in jobs.logs(name)
    assert (saved / "state.txt").read_text() == "20"


def test_channels_are_the_runs_input_datasets(jobs, tmp_path):
    train = tmp_path / "train"
    write_diabetes_csv(train)
    name = jobs.create("noop.py", channels=[channel("train", train)])
    jobs.wait_completed(name)
    run = find_job_run(jobs.server.api, name)
    inputs = run["inputs"]["dataset_inputs"]
    assert [i["dataset"]["name"] for i in inputs] == ["train"]
    dataset = inputs[0]["dataset"]
    assert dataset["source_type"] == "local"
    assert file_uri(train) in dataset["source"]
    assert {"key": "mlflow.data.context", "value": "train"} in inputs[0]["tags"]


def test_loam_train_from_a_yaml_file_and_loam_logs(training_server, tmp_path):
    data = tmp_path / "data"
    write_diabetes_csv(data)
    job_file = tmp_path / "job.yaml"
    job_file.write_text(textwrap.dedent(f"""\
        TrainingJobName: cli-regression-1
        entry_point: train_regression.py
        source_dir: {JOBS_DIR}
        HyperParameters:
          epochs: 3
          alpha: 0.001
        AlgorithmSpecification:
          MetricDefinitions:
            - {{Name: val_loss, Regex: "val_loss: ([0-9.]+)"}}
        InputDataConfig:
          - ChannelName: train
            DataSource: {{S3DataSource: {{S3DataType: S3Prefix, S3Uri: data}}}}
        OutputDataConfig: {{S3OutputPath: out}}
        """))
    done = run_cli("train", "-f", str(job_file), "--endpoint", training_server.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "val_loss" in done.stdout  # the job's own output, streamed
    assert "cli-regression-1 Completed" in done.stderr
    assert "metric val_loss" in done.stderr
    model = tmp_path / "out" / "cli-regression-1" / "output" / "model.tar.gz"
    assert model.is_file(), done.stderr  # relative paths resolved against the job file

    logs = run_cli("logs", "cli-regression-1", "--endpoint", training_server.url)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout == requests.get(
        f"{training_server.url}/loam/v1/training-jobs/cli-regression-1/logs", timeout=30).text

    again = run_cli("train", "-f", str(job_file), "--endpoint", training_server.url)
    assert again.returncode == 1
    assert "ResourceInUse" in again.stderr

    missing = run_cli("logs", "no-such-job", "--endpoint", training_server.url)
    assert missing.returncode == 1
    assert "Requested resource not found" in missing.stderr


def test_loam_train_reports_a_failed_job(training_server, tmp_path):
    job_file = tmp_path / "fail.yaml"
    job_file.write_text(f"entry_point: fail.py\nsource_dir: {JOBS_DIR}\nOutputDataConfig: {{S3OutputPath: out}}\n")
    done = run_cli("train", "-f", str(job_file), "--endpoint", training_server.url)
    assert done.returncode == 1
    assert "Failed" in done.stderr and "FailureReason" in done.stderr


def test_loam_train_rejects_a_bad_job_file(training_server, tmp_path):
    job_file = tmp_path / "bad.yaml"
    job_file.write_text("entry_point: [unclosed\n")
    done = run_cli("train", "-f", str(job_file), "--endpoint", training_server.url)
    assert done.returncode == 2
    assert "bad.yaml" in done.stderr
