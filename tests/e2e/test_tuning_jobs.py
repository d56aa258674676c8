"""SageMaker hyperparameter tuning jobs through the real boto3 client.

The reference search (15 training jobs, 5 at a time, Bayesian over learning rate, epochs and
batch size, minimising ``val_loss`` parsed from the logs of ``jobs/tune_regression.py``), early
stopping, warm start, completion criteria, StopHyperParameterTuningJob, validation errors and
a SIGKILL of the server in the middle of a search.

Timing is asserted only through the jobs' own timestamps (how many ran at once), never
through how long anything took.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import types
import uuid
from pathlib import Path

import pytest

from conftest import training_server_args
from sagemaker_helpers import (
    JOBS_DIR,
    ROLE_ARN,
    SKLEARN_IMAGE,
    expect_client_error,
    file_uri,
    metric_history,
    poll_until,
    sagemaker_client,
    sdk_hyperparameters,
)

pytestmark = pytest.mark.timeout(240)

PROGRAM = "tune_regression.py"
METRIC_REGEX = r"val_loss=([0-9.eE+-]+)"
TUNING_TERMINAL = ("Completed", "Failed", "Stopped")
TRAINING_TERMINAL = ("Completed", "Failed", "Stopped")


def tuning_name(prefix: str = "tune") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def ranges(lr=("0.0001", "0.3"), epochs=("2", "4"), batch_sizes=("16", "32", "64")) -> dict:
    out = {}
    if lr:
        out["ContinuousParameterRanges"] = [
            {"Name": "learning_rate", "MinValue": lr[0], "MaxValue": lr[1], "ScalingType": "Logarithmic"}
        ]
    if epochs:
        out["IntegerParameterRanges"] = [{"Name": "epochs", "MinValue": epochs[0], "MaxValue": epochs[1]}]
    if batch_sizes:
        out["CategoricalParameterRanges"] = [{"Name": "batch_size", "Values": list(batch_sizes)}]
    return out


def definition(output_dir, static: dict | None = None, metric: str = "val_loss") -> dict:
    return {
        "StaticHyperParameters": sdk_hyperparameters(PROGRAM, JOBS_DIR, user=static or {}),
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": metric, "Regex": METRIC_REGEX}],
        },
        "RoleArn": ROLE_ARN,
        "OutputDataConfig": {"S3OutputPath": file_uri(output_dir)},
        "ResourceConfig": {"InstanceType": "local", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def tuning_request(name, output_dir, *, strategy="Bayesian", max_jobs=15, max_parallel=5, parameter_ranges=None,
                   static=None, early_stopping="Off", completion=None, warm_start=None, objective_type="Minimize",
                   random_seed=None, tags=None) -> dict:
    config = {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": objective_type, "MetricName": "val_loss"},
        "ResourceLimits": {"MaxParallelTrainingJobs": max_parallel},
        "ParameterRanges": parameter_ranges if parameter_ranges is not None else ranges(),
        "TrainingJobEarlyStoppingType": early_stopping,
    }
    if max_jobs is not None:
        config["ResourceLimits"]["MaxNumberOfTrainingJobs"] = max_jobs
    if completion:
        config["TuningJobCompletionCriteria"] = completion
    if random_seed is not None:
        config["RandomSeed"] = random_seed
    request = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": definition(output_dir, static),
    }
    if warm_start:
        request["WarmStartConfig"] = warm_start
    if tags:
        request["Tags"] = tags
    return request


class Tuning:
    """Creates and follows tuning jobs on one server."""

    def __init__(self, server, client, output_dir):
        self.server = server
        self.client = client
        self.output_dir = output_dir

    def create(self, name=None, **kwargs) -> str:
        name = name or tuning_name()
        resp = self.client.create_hyper_parameter_tuning_job(**tuning_request(name, self.output_dir, **kwargs))
        assert re.fullmatch(
            rf"arn:aws:sagemaker:us-east-1:\d{{12}}:hyper-parameter-tuning-job/{name}", resp["HyperParameterTuningJobArn"]
        ), resp
        return name

    def describe(self, name) -> dict:
        return self.client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)

    def children(self, name, **kwargs) -> list[dict]:
        out, token = [], None
        while True:
            args = dict(HyperParameterTuningJobName=name, MaxResults=100, **kwargs)
            if token:
                args["NextToken"] = token
            page = self.client.list_training_jobs_for_hyper_parameter_tuning_job(**args)
            out += page["TrainingJobSummaries"]
            token = page.get("NextToken")
            if not token:
                return out

    def diagnostics(self, name) -> str:
        desc = self.describe(name)
        keep = {k: desc.get(k) for k in ("HyperParameterTuningJobStatus", "TrainingJobStatusCounters",
                                         "ObjectiveStatusCounters", "FailureReason", "BestTrainingJob")}
        kids = [(c["TrainingJobName"], c["TrainingJobStatus"], c.get("FailureReason")) for c in self.children(name)]
        return f"{keep}\nchildren: {kids}\n--- server log ---\n{self.server.log_tail(3000)}"

    def wait_for(self, name, predicate, what, timeout=150.0) -> dict:
        return poll_until(
            lambda: self.describe(name), predicate,
            lambda: f"tuning job {name} not {what} within {timeout:.0f}s\n{self.diagnostics(name)}", timeout, 0.2)

    def wait_terminal(self, name, timeout=150.0) -> dict:
        return self.wait_for(name, lambda d: d["HyperParameterTuningJobStatus"] in TUNING_TERMINAL, "finished",
                             timeout)


def max_concurrency(descs) -> int:
    events = []
    for d in descs:
        events.append((d["TrainingStartTime"].timestamp(), 1))
        events.append((d["TrainingEndTime"].timestamp(), -1))
    events.sort(key=lambda e: (e[0], e[1]))  # an end at the same instant as a start frees the slot first
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


def total(counters: dict) -> int:
    return sum(counters.values())


def objective(summary: dict) -> float:
    return summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]


def trial_number(summary: dict) -> int:
    return int(summary["TrainingJobName"].split("-")[-2])


def last_val_loss(tuned: dict, tmp_dir: Path) -> float:
    """Runs jobs/tune_regression.py here, in this process, with ``tuned`` as its arguments (and no
    sleeping), and returns the last val_loss it prints: what the job reports when it saw them."""
    spec = importlib.util.spec_from_file_location("tune_regression_local", JOBS_DIR / PROGRAM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = [PROGRAM, "--epoch_seconds", "0"] + [a for k, v in sorted(tuned.items()) for a in (f"--{k}", v)]
    out = io.StringIO()
    saved_argv, saved_dir = sys.argv, os.environ.get("SM_MODEL_DIR")
    sys.argv, os.environ["SM_MODEL_DIR"] = argv, str(tmp_dir)
    try:
        with contextlib.redirect_stdout(out):
            module.main()
    finally:
        sys.argv = saved_argv
        if saved_dir is None:
            os.environ.pop("SM_MODEL_DIR", None)
        else:
            os.environ["SM_MODEL_DIR"] = saved_dir
    return float(re.findall(METRIC_REGEX, out.getvalue())[-1])


@pytest.fixture(scope="module")
def tuning(training_server, tmp_path_factory):
    return Tuning(training_server, sagemaker_client(training_server.url), tmp_path_factory.mktemp("tuning-output"))


@pytest.fixture(scope="module")
def reference(tuning):
    """The reference search: 15 training jobs, 5 at a time, Bayesian."""
    name = tuning.create(tuning_name("ref"), static={"epoch_seconds": 0.1},
                         tags=[{"Key": "team", "Value": "ml"}])
    first = tuning.describe(name)
    desc = tuning.wait_terminal(name)
    children = tuning.children(name)
    child_descs = {c["TrainingJobName"]: tuning.client.describe_training_job(TrainingJobName=c["TrainingJobName"])
                   for c in children}
    return types.SimpleNamespace(name=name, first=first, desc=desc, children=children, child_descs=child_descs)


# ---------------------------------------------------------------------------
# The reference search
# ---------------------------------------------------------------------------


def test_reference_search_runs_15_jobs_5_at_a_time(reference, tuning):
    desc = reference.desc
    assert reference.first["HyperParameterTuningJobStatus"] == "InProgress"
    assert desc["HyperParameterTuningJobStatus"] == "Completed", tuning.diagnostics(reference.name)
    assert len(reference.children) == 15
    assert desc["TrainingJobStatusCounters"] == {
        "Completed": 15, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
    assert desc["ObjectiveStatusCounters"] == {"Succeeded": 15, "Pending": 0, "Failed": 0}
    peak = max_concurrency(reference.child_descs.values())
    # At most 5 at once, and more than one: a search run one job at a time would pass "<= 5" too.
    assert 2 <= peak <= 5, f"{peak} training jobs ran at once"


def test_children_names_hyperparameters_and_tuning_job_arn(reference, tmp_path):
    name, desc = reference.name, reference.desc
    pattern = re.compile(rf"{re.escape(name)}-(\d{{3}})-[0-9a-f]{{8}}")
    numbers = sorted(int(pattern.fullmatch(c["TrainingJobName"]).group(1)) for c in reference.children)
    assert numbers == list(range(1, 16))
    for child in reference.children:
        d = reference.child_descs[child["TrainingJobName"]]
        assert d["TuningJobArn"] == desc["HyperParameterTuningJobArn"]
        hps = d["HyperParameters"]
        tuned = child["TunedHyperParameters"]
        assert set(tuned) == {"learning_rate", "epochs", "batch_size"}
        assert 0.0001 <= float(tuned["learning_rate"]) <= 0.3
        assert 2 <= int(tuned["epochs"]) <= 4 and tuned["epochs"] == str(int(tuned["epochs"]))
        assert tuned["batch_size"] in ("16", "32", "64")
        for key, value in tuned.items():
            assert hps[key] == value
        assert hps["_tuning_objective_metric"] == "val_loss"
        assert hps["sagemaker_program"] == '"tune_regression.py"'
        assert hps["epoch_seconds"] == "0.1"
        assert child["TuningJobName"] == name
        assert child["ObjectiveStatus"] == "Succeeded"
        final = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
        assert child["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "val_loss"
        assert child["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(final["val_loss"])
        # The script saw the tuned values (not _tuning_objective_metric) as arguments: its argparse
        # refuses unknown arguments (so it completed), and the loss it reported is the one these
        # values give (the script is deterministic).
        assert d["TrainingJobStatus"] == "Completed"
        assert final["val_loss"] == pytest.approx(last_val_loss(tuned, tmp_path / "model"), rel=1e-9, abs=1e-9), (
            child["TrainingJobName"], tuned)


def test_best_training_job_is_the_minimum(reference):
    best = reference.desc["BestTrainingJob"]
    values = {c["TrainingJobName"]: c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
              for c in reference.children}
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(min(values.values()))
    assert values[best["TrainingJobName"]] == pytest.approx(min(values.values()))
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Type"] == "Minimize"
    assert "OverallBestTrainingJob" not in reference.desc
    assert best["TunedHyperParameters"] == next(
        c["TunedHyperParameters"] for c in reference.children if c["TrainingJobName"] == best["TrainingJobName"])


def test_describe_echoes_the_request_and_times(reference):
    desc = reference.desc
    config = desc["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 15, "MaxParallelTrainingJobs": 5}
    assert config["TrainingJobEarlyStoppingType"] == "Off"
    assert desc["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"][0]["Regex"] == METRIC_REGEX
    assert desc["CreationTime"] <= desc["HyperParameterTuningEndTime"] <= desc["LastModifiedTime"]
    elapsed = (desc["HyperParameterTuningEndTime"] - desc["CreationTime"]).total_seconds()
    assert elapsed >= 1  # fifteen training jobs, five at a time, take seconds
    assert abs(desc["ConsumedResources"]["RuntimeInSeconds"] - elapsed) <= 1
    # How many jobs, in the order they ended, came after the last improvement of the best value
    # (computed here from the children, not read back from the same Describe).
    ended = sorted(reference.children,
                   key=lambda c: (reference.child_descs[c["TrainingJobName"]]["TrainingEndTime"], trial_number(c)))
    best, not_improving = None, 0
    for child in ended:
        if best is None or objective(child) < best:
            best, not_improving = objective(child), 0
        else:
            not_improving += 1
    assert desc["TuningJobCompletionDetails"]["NumberOfTrainingJobsObjectiveNotImproving"] == not_improving, (
        desc["TuningJobCompletionDetails"], [(c["TrainingJobName"], objective(c)) for c in ended])


def test_list_training_jobs_for_tuning_job_sorting_filters_paging(reference, tuning):
    name = reference.name
    by_value = tuning.children(name, SortBy="FinalObjectiveMetricValue", SortOrder="Ascending")
    values = [c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for c in by_value]
    assert values == sorted(values)
    assert by_value[0]["TrainingJobName"] == reference.desc["BestTrainingJob"]["TrainingJobName"]
    by_name = tuning.children(name, SortBy="Name", SortOrder="Descending")
    names = [c["TrainingJobName"] for c in by_name]
    assert names == sorted(names, reverse=True)
    assert tuning.children(name, StatusEquals="Failed") == []
    assert len(tuning.children(name, StatusEquals="Completed")) == 15
    page = tuning.client.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name,
                                                                           MaxResults=4)
    assert len(page["TrainingJobSummaries"]) == 4 and page["NextToken"]
    collected = tuning.children(name, SortBy="CreationTime", SortOrder="Ascending")
    assert sorted(c["TrainingJobName"] for c in collected) == sorted(names)


def test_list_tuning_jobs_and_tags(reference, tuning):
    listed = tuning.client.list_hyper_parameter_tuning_jobs(NameContains=reference.name)
    [summary] = listed["HyperParameterTuningJobSummaries"]
    assert summary["HyperParameterTuningJobName"] == reference.name
    assert summary["HyperParameterTuningJobStatus"] == "Completed"
    assert summary["Strategy"] == "Bayesian"
    assert summary["TrainingJobStatusCounters"]["Completed"] == 15
    assert summary["ResourceLimits"]["MaxParallelTrainingJobs"] == 5
    done = tuning.client.list_hyper_parameter_tuning_jobs(StatusEquals="Completed", MaxResults=100,
                                                          SortBy="CreationTime", SortOrder="Descending")
    assert reference.name in [s["HyperParameterTuningJobName"] for s in done["HyperParameterTuningJobSummaries"]]
    tags = tuning.client.list_tags(ResourceArn=reference.desc["HyperParameterTuningJobArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]


def test_mlflow_parent_run_with_child_runs(reference, training_server):
    api = training_server.api
    experiment = api.ok("GET", "experiments/get-by-name", params={"experiment_name": reference.name})["experiment"]
    runs = api.search_runs([experiment["experiment_id"]], max_results=100)["runs"]
    parent = [r for r in runs if r["info"]["run_name"] == reference.name]
    assert len(parent) == 1, [r["info"]["run_name"] for r in runs]
    parent = parent[0]
    assert parent["info"]["status"] == "FINISHED"
    parent_id = parent["info"]["run_id"]
    children = [r for r in runs if r is not parent]
    assert len(children) == 15
    for run in children:
        tags = {t["key"]: t["value"] for t in run["data"].get("tags", [])}
        assert tags["mlflow.parentRunId"] == parent_id
        assert tags["sagemaker.training_job_name"] in reference.child_descs
    history = metric_history(api, parent_id, "best_val_loss")
    assert sorted(m["step"] for m in history) == list(range(1, 16))
    best = reference.desc["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert min(m["value"] for m in history) == pytest.approx(best)


def test_warm_start_from_the_reference_search(reference, tuning):
    name = tuning.create(
        tuning_name("warm"), strategy="Random", max_jobs=2, max_parallel=2, static={"epoch_seconds": 0},
        warm_start={"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": reference.name}],
                    "WarmStartType": "IdenticalDataAndAlgorithm"})
    desc = tuning.wait_terminal(name)
    assert desc["HyperParameterTuningJobStatus"] == "Completed", tuning.diagnostics(name)
    assert desc["WarmStartConfig"]["ParentHyperParameterTuningJobs"] == [
        {"HyperParameterTuningJobName": reference.name}]
    children = tuning.children(name)
    assert len(children) == 2
    # The bests come from each job's children, not from the Describe being checked.
    own_best = min(objective(c) for c in children)
    parent_best = min(objective(c) for c in reference.children)
    assert objective(desc["BestTrainingJob"]) == pytest.approx(own_best)
    overall = desc["OverallBestTrainingJob"]
    assert objective(overall) == pytest.approx(min(own_best, parent_best))
    expected_owner, pool = (name, children) if own_best < parent_best else (reference.name, reference.children)
    assert overall["TuningJobName"] == expected_owner
    assert overall["TrainingJobName"] in [c["TrainingJobName"] for c in pool if objective(c) == min(own_best, parent_best)]


# ---------------------------------------------------------------------------
# Early stopping, completion criteria, Stop
# ---------------------------------------------------------------------------


def test_early_stopping_stops_clearly_bad_jobs(tuning):
    # Grid runs the values in order: three good learning rates first (they complete), then two
    # that barely move the loss; the median rule must stop those once the good ones have ended.
    name = tuning.create(
        strategy="Grid", max_jobs=None, max_parallel=3, early_stopping="Auto",
        parameter_ranges={"CategoricalParameterRanges": [
            {"Name": "learning_rate", "Values": ["0.1", "0.2", "0.3", "0.0001", "0.0002"]}]},
        static={"epochs": 12, "epoch_seconds": 0.35, "batch_size": 32})
    desc = tuning.wait_terminal(name)
    assert desc["HyperParameterTuningJobStatus"] == "Completed", tuning.diagnostics(name)
    children = {c["TunedHyperParameters"]["learning_rate"]: c for c in tuning.children(name)}
    assert len(children) == 5
    for lr in ("0.1", "0.2", "0.3"):
        assert children[lr]["TrainingJobStatus"] == "Completed", tuning.diagnostics(name)
    for lr in ("0.0001", "0.0002"):
        child = children[lr]
        assert child["TrainingJobStatus"] == "Stopped", tuning.diagnostics(name)
        assert child["ObjectiveStatus"] == "Succeeded"
        assert child["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] > 1.0
        d = tuning.client.describe_training_job(TrainingJobName=child["TrainingJobName"])
        history = d["FinalMetricDataList"]
        assert history and d["SecondaryStatus"] == "Stopped"
    assert desc["TrainingJobStatusCounters"]["Stopped"] == 2
    assert desc["TrainingJobStatusCounters"]["Completed"] == 3
    assert desc["ObjectiveStatusCounters"]["Succeeded"] == 5
    assert desc["BestTrainingJob"]["TunedHyperParameters"]["learning_rate"] in ("0.1", "0.2", "0.3")


def test_hyperband_stops_jobs_at_rungs(tuning):
    # MinResource 1, MaxResource 9, eta 3: brackets 0 (rungs at 1 and 3 epochs), 1 (rung at 3) and
    # 2 (no rung); trials take turns: 1, 4 in bracket 0, 2, 5 in bracket 1, 3, 6 in bracket 2. The
    # rung rule itself is unit-tested; here: the job runs, and only jobs with rungs may stop early.
    name = tuning_name("hb")
    request = tuning_request(name, tuning.output_dir, strategy="Hyperband", max_jobs=6, max_parallel=3,
                             parameter_ranges=ranges(epochs=None, batch_sizes=None),
                             static={"epochs": 9, "epoch_seconds": 0.3}, random_seed=7)
    request["HyperParameterTuningJobConfig"]["StrategyConfig"] = {
        "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}}
    tuning.client.create_hyper_parameter_tuning_job(**request)
    desc = tuning.wait_terminal(name)
    assert desc["HyperParameterTuningJobStatus"] == "Completed", tuning.diagnostics(name)
    assert desc["HyperParameterTuningJobConfig"]["StrategyConfig"]["HyperbandStrategyConfig"]["MaxResource"] == 9
    children = tuning.children(name)
    assert len(children) == 6
    assert all(c["TrainingJobStatus"] in ("Completed", "Stopped") for c in children), tuning.diagnostics(name)
    assert all(c["ObjectiveStatus"] == "Succeeded" for c in children)
    # RandomSeed fixes the configurations; with them a bracket-1 job is clearly worse at its rung.
    assert desc["TrainingJobStatusCounters"]["Stopped"] >= 1, tuning.diagnostics(name)
    for child in children:
        number = int(child["TrainingJobName"].split("-")[-2])
        if (number - 1) % 3 == 2:  # the last bracket never stops a job
            assert child["TrainingJobStatus"] == "Completed", tuning.diagnostics(name)


def test_target_objective_value_ends_the_job_early(tuning):
    name = tuning.create(strategy="Random", max_jobs=8, max_parallel=2, static={"epoch_seconds": 0.2},
                         parameter_ranges=ranges(lr=("0.05", "0.3")),
                         completion={"TargetObjectiveMetricValue": 5.0})
    desc = tuning.wait_terminal(name)
    assert desc["HyperParameterTuningJobStatus"] == "Completed", tuning.diagnostics(name)
    children = tuning.children(name)
    assert 1 <= len(children) < 8
    assert desc["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] <= 5.0
    assert all(c["TrainingJobStatus"] in TRAINING_TERMINAL for c in children)


def test_stop_stops_running_children(tuning):
    name = tuning.create(strategy="Random", max_jobs=6, max_parallel=2, parameter_ranges=ranges(epochs=None),
                         static={"epochs": 100, "epoch_seconds": 0.5})
    tuning.wait_for(name, lambda d: d["TrainingJobStatusCounters"]["InProgress"] == 2, "running two jobs")
    tuning.client.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert tuning.describe(name)["HyperParameterTuningJobStatus"] in ("Stopping", "Stopped")
    desc = tuning.wait_terminal(name)
    assert desc["HyperParameterTuningJobStatus"] == "Stopped", tuning.diagnostics(name)
    children = tuning.children(name)
    assert len(children) == 2
    assert all(c["TrainingJobStatus"] == "Stopped" for c in children), tuning.diagnostics(name)
    assert desc["TrainingJobStatusCounters"]["Stopped"] == 2
    expect_client_error(tuning.client.stop_hyper_parameter_tuning_job, "ValidationException",
                        HyperParameterTuningJobName=name)


def test_failed_children_count_and_the_job_goes_on(tuning):
    # Learning rates above 0.1 make the script exit with an error.
    name = tuning.create(strategy="Grid", max_jobs=None, max_parallel=3,
                         parameter_ranges={"CategoricalParameterRanges": [
                             {"Name": "learning_rate", "Values": ["0.05", "0.2", "0.3"]}]},
                         static={"fail_above": 0.1})
    desc = tuning.wait_terminal(name)
    assert desc["HyperParameterTuningJobStatus"] == "Completed", tuning.diagnostics(name)
    assert desc["TrainingJobStatusCounters"]["NonRetryableError"] == 2
    assert desc["TrainingJobStatusCounters"]["Completed"] == 1
    assert desc["ObjectiveStatusCounters"] == {"Succeeded": 1, "Pending": 0, "Failed": 2}
    assert desc["BestTrainingJob"]["TunedHyperParameters"] == {"learning_rate": "0.05"}
    failed = tuning.children(name, StatusEquals="Failed")
    assert len(failed) == 2 and all(c["ObjectiveStatus"] == "Failed" and c.get("FailureReason") for c in failed)


def test_several_training_job_definitions(tuning):
    name = tuning_name("multi")
    fast = definition(tuning.output_dir, {"epochs": 2})
    fast.update(DefinitionName="fast", HyperParameterRanges=ranges(epochs=None, batch_sizes=None),
                TuningObjective={"Type": "Minimize", "MetricName": "val_loss"})
    slow = definition(tuning.output_dir, {"learning_rate": 0.05})
    slow.update(DefinitionName="slow", HyperParameterRanges=ranges(lr=None),
                TuningObjective={"Type": "Minimize", "MetricName": "val_loss"})
    request = tuning_request(name, tuning.output_dir, strategy="Random", max_jobs=4, max_parallel=2)
    del request["TrainingJobDefinition"], request["HyperParameterTuningJobConfig"]["ParameterRanges"]
    request["TrainingJobDefinitions"] = [fast, slow]
    tuning.client.create_hyper_parameter_tuning_job(**request)
    desc = tuning.wait_terminal(name)
    assert desc["HyperParameterTuningJobStatus"] == "Completed", tuning.diagnostics(name)
    children = sorted(tuning.children(name), key=lambda c: c["TrainingJobName"])
    assert [c["TrainingJobDefinitionName"] for c in children] == ["fast", "slow", "fast", "slow"]
    for child in children:
        expected = {"learning_rate"} if child["TrainingJobDefinitionName"] == "fast" else {"epochs", "batch_size"}
        assert set(child["TunedHyperParameters"]) == expected
    # Every child is "fast" or "slow": the best must be the child with the lowest value, and carry its definition.
    best_child = min(children, key=objective)
    assert desc["BestTrainingJob"]["TrainingJobName"] == best_child["TrainingJobName"], (desc["BestTrainingJob"], children)
    assert desc["BestTrainingJob"]["TrainingJobDefinitionName"] == best_child["TrainingJobDefinitionName"]
    assert [d["DefinitionName"] for d in desc["TrainingJobDefinitions"]] == ["fast", "slow"]


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _invalid(mutate):
    def build(output_dir):
        request = tuning_request(tuning_name("bad"), output_dir)
        mutate(request)
        return request
    return build


def _set_range(field, **values):
    def mutate(r):
        r["HyperParameterTuningJobConfig"]["ParameterRanges"][field][0].update(values)
    return mutate


INVALID = {
    "hyperband_without_max_resource": (
        _invalid(lambda r: r["HyperParameterTuningJobConfig"].update(Strategy="Hyperband")),
        "The Hyperband strategy needs StrategyConfig.HyperbandStrategyConfig.MaxResource"),
    "min_not_below_max": (_invalid(_set_range("ContinuousParameterRanges", MinValue="0.5", MaxValue="0.1")),
                          "must be less than its MaxValue"),
    "log_min_zero": (_invalid(_set_range("ContinuousParameterRanges", MinValue="0", MaxValue="1")),
                     "Logarithmic scaling"),
    "integer_not_integer": (_invalid(_set_range("IntegerParameterRanges", MinValue="1.5")), "must be integers"),
    "grid_continuous": (_invalid(lambda r: r["HyperParameterTuningJobConfig"].update(Strategy="Grid")),
                        "Grid strategy does not support ContinuousParameterRanges"),
    "metric_not_defined": (_invalid(lambda r: r["HyperParameterTuningJobConfig"][
        "HyperParameterTuningJobObjective"].update(MetricName="accuracy")), "not defined in the MetricDefinitions"),
    "static_and_tuned": (_invalid(lambda r: r["TrainingJobDefinition"]["StaticHyperParameters"].update(
        epochs="3")), "both a static hyperparameter and a tunable"),
    "missing_parent": (_invalid(lambda r: r.update(WarmStartConfig={
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "no-such-parent"}],
        "WarmStartType": "TransferLearning"})), "does not exist"),
    "no_definition": (_invalid(lambda r: r.pop("TrainingJobDefinition")), "TrainingJobDefinition"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_create_validation_errors(tuning, case):
    build, message = INVALID[case]
    request = build(tuning.output_dir)
    err = expect_client_error(tuning.client.create_hyper_parameter_tuning_job, "ValidationException", **request)
    assert message in err.response["Error"]["Message"]
    expect_client_error(tuning.client.describe_hyper_parameter_tuning_job, "ResourceNotFound",
                        HyperParameterTuningJobName=request["HyperParameterTuningJobName"])


def test_model_validation_and_missing_jobs(tuning):
    unvalidated = sagemaker_client(tuning.server.url, validate=False)
    request = tuning_request(tuning_name("bad"), tuning.output_dir)
    request["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxParallelTrainingJobs"] = 0
    expect_client_error(unvalidated.create_hyper_parameter_tuning_job, "ValidationException", **request)
    err = expect_client_error(tuning.client.describe_hyper_parameter_tuning_job, "ResourceNotFound",
                              HyperParameterTuningJobName="no-such-tuning-job")
    assert "no-such-tuning-job" in err.response["Error"]["Message"]
    expect_client_error(tuning.client.list_training_jobs_for_hyper_parameter_tuning_job, "ResourceNotFound",
                        HyperParameterTuningJobName="no-such-tuning-job")
    expect_client_error(tuning.client.stop_hyper_parameter_tuning_job, "ResourceNotFound",
                        HyperParameterTuningJobName="no-such-tuning-job")


def test_duplicate_name_is_resource_in_use(reference, tuning):
    err = expect_client_error(tuning.client.create_hyper_parameter_tuning_job, "ResourceInUse",
                              **tuning_request(reference.name, tuning.output_dir))
    assert reference.desc["HyperParameterTuningJobArn"] in err.response["Error"]["Message"]


# ---------------------------------------------------------------------------
# The SageMaker Python SDK
# ---------------------------------------------------------------------------

SDK_PYTHON = Path(__file__).resolve().parents[2] / ".venv-sagemaker" / "bin" / "python"


def test_sagemaker_sdk_hyperparameter_tuner(training_server):
    # As test_sagemaker_sdk.py: a missing SDK virtualenv is a failure, not a skip that hides one.
    assert SDK_PYTHON.exists(), "no .venv-sagemaker: run scripts/setup.sh (it creates it with the SageMaker Python SDK v2)"
    proc = subprocess.run(
        [str(SDK_PYTHON), str(Path(__file__).parent / "clients" / "sagemaker_sdk_tuner.py"),
         "--endpoint", training_server.url, "--source-dir", str(JOBS_DIR),
         "--bucket", f"sdk-{uuid.uuid4().hex[:12]}"],
        capture_output=True, text=True, timeout=200, env={**os.environ, "SAGEMAKER_SUPPRESS_V2_WARNING": "1"})
    assert proc.returncode == 0, f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["tuning_job"].startswith("sdk-tune-") and len(summary["values"]) == 4


# ---------------------------------------------------------------------------
# Restart
# ---------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_restart_mid_search_creates_no_duplicates(loam_server_factory, tmp_path):
    srv = loam_server_factory(*training_server_args())
    tuning = Tuning(srv, sagemaker_client(srv.url), tmp_path / "output")
    name = tuning.create(strategy="Random", max_jobs=6, max_parallel=2, parameter_ranges=ranges(epochs=None),
                         static={"epochs": 4, "epoch_seconds": 0.4})
    tuning.wait_for(name, lambda d: d["TrainingJobStatusCounters"]["Completed"] >= 1
                    and d["TrainingJobStatusCounters"]["InProgress"] >= 1, "half way")
    srv.kill9()
    srv.start()
    tuning.client = sagemaker_client(srv.url)
    desc = tuning.wait_terminal(name, timeout=200)
    assert desc["HyperParameterTuningJobStatus"] == "Completed", tuning.diagnostics(name)
    children = tuning.children(name)
    numbers = sorted(int(c["TrainingJobName"].split("-")[-2]) for c in children)
    assert numbers == list(range(1, 7)), [c["TrainingJobName"] for c in children]
    assert total(desc["TrainingJobStatusCounters"]) == 6
    listed = tuning.client.list_training_jobs(NameContains=name, MaxResults=100)["TrainingJobSummaries"]
    assert len(listed) == 6
    # A child that was running when the server died re-attached or failed; either way it ended.
    assert all(c["TrainingJobStatus"] in TRAINING_TERMINAL for c in children)
