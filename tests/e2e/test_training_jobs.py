"""SageMaker training jobs through the real boto3 client: script mode, artifacts, metrics,
MLflow tracking, failure, stop, timeout, validation, listing and tags.

Everything here runs on the shared ``training_server`` (``--python <venv python>
--job-cpus 8 --sandbox auto``). Jobs are created the way the SageMaker Python SDK creates
them for an ``SKLearn`` estimator in script mode, with ``file://`` URIs in place of S3.
Waits poll with generous limits; no assertion depends on how long anything took.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import time
import types
import uuid

import pytest
import requests
from botocore.exceptions import ClientError, WaiterError

from conftest import job_python
from sagemaker_helpers import (
    CODE_BUNDLE_DIR,
    SECONDARY_ORDER,
    TrainingJobs,
    assert_transitions_well_formed,
    bwrap_works,
    channel,
    copy_tree,
    default_experiment_name,
    expect_client_error,
    experiment_by_name,
    file_hashes,
    file_uri,
    final_metrics,
    find_job_run,
    make_tarball,
    metric_history,
    python_prefix,
    runs_of_job,
    sagemaker_client,
    sdk_job_name,
    summary,
    training_job_arn_pattern,
    transition,
    transition_statuses,
    unique_name,
    write_diabetes_csv,
)

pytestmark = pytest.mark.timeout(240)

METRIC_DEFINITIONS = [
    {"Name": "train_loss", "Regex": r"train_loss: ([0-9\.]+)"},
    {"Name": "val_loss", "Regex": r"val_loss: ([0-9\.]+)"},
    {"Name": "r2", "Regex": r"r2 = (-?[0-9\.]+)"},
    {"Name": "never_logged", "Regex": r"this line is never printed: ([0-9\.]+)"},
]
REGRESSION_HPS = {"epochs": 6, "alpha": 0.001, "eta0": 0.01, "batch-size": 32, "penalty": "l2", "seed": 7}

# Sent exactly as the SDK encodes them; the script must see the decoded values.
ENV_RAW_HPS = {
    "epochs": "10",
    "lr": "0.05",
    "name": '"abc"',
    "max-iter": "50",
    "message": json.dumps("it's a $HOME test; echo pwned"),
}
ENV_DECODED_HPS = {
    "epochs": 10,
    "lr": 0.05,
    "name": "abc",
    "max-iter": 50,
    "message": "it's a $HOME test; echo pwned",
}
ENV_EXPECTED_ARGV = [
    "--epochs", "10",
    "--lr", "0.05",
    "--max-iter", "50",
    "--message", "it's a $HOME test; echo pwned",
    "--name", "abc",
]


def sandboxed() -> bool:
    """Whether the shared server (--sandbox auto) is expected to run jobs under bubblewrap."""
    return bwrap_works()


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture
def jobs(training_server, sagemaker, tmp_path):
    helper = TrainingJobs(training_server, sagemaker, tmp_path / "s3-output")
    yield helper
    helper.stop_unfinished()


@pytest.fixture(scope="module")
def module_jobs(training_server, sagemaker, tmp_path_factory):
    helper = TrainingJobs(training_server, sagemaker, tmp_path_factory.mktemp("s3-output"))
    yield helper
    helper.stop_unfinished()


@pytest.fixture(scope="module")
def unvalidated(training_server):
    """A boto3 client without client-side validation: invalid requests reach the server."""
    return sagemaker_client(training_server.url, validate=False)


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    """train/ (two CSV shards, one in a sub-directory) and validation/ (one CSV)."""
    base = tmp_path_factory.mktemp("diabetes")
    write_diabetes_csv(base / "train", "train", shards=2, nested=True)
    write_diabetes_csv(base / "validation", "validation")
    return types.SimpleNamespace(train=base / "train", validation=base / "validation")


def wait_or_fail(helper: TrainingJobs, name: str) -> dict:
    """Waits with boto3's waiter; turns a WaiterError into a failure with diagnostics."""
    try:
        helper.wait_with_waiter(name)
    except WaiterError as e:
        pytest.fail(f"waiter failed for {name}: {e}\n{helper.diagnostics(name)}", pytrace=False)
    return helper.describe(name)


@pytest.fixture(scope="module")
def regression_job(module_jobs, diabetes):
    """The happy path: the scikit-learn regression script, SDK-style name, two channels."""
    base = unique_name("e2e-reg")
    name = sdk_job_name(base)
    request = module_jobs.request(
        "train_regression.py",
        name,
        hyperparameters=REGRESSION_HPS,
        channels=[
            channel("train", diabetes.train),  # file:// URI
            channel("validation", diabetes.validation, uri_style="path"),  # plain path
        ],
        instance_type="ml.m5.large",
        metric_definitions=METRIC_DEFINITIONS,
    )
    created = module_jobs.client.create_training_job(**request)
    module_jobs.created.append(name)
    first = module_jobs.describe(name)
    desc = wait_or_fail(module_jobs, name)
    outputs = module_jobs.output_files(desc)
    return types.SimpleNamespace(
        name=name,
        base=base,
        request=request,
        created=created,
        first=first,
        desc=desc,
        metrics=json.loads(outputs["metrics.json"]),
        outputs=outputs,
    )


@pytest.fixture(scope="module")
def env_job(module_jobs, diabetes):
    """env_dump.py with SDK-encoded hyperparameters, two channels (File and FastFile),
    an explicit ExperimentConfig and an Environment entry."""
    name = unique_name("e2e-env")
    experiment = unique_name("e2e-env-exp")
    request = module_jobs.request(
        "env_dump.py",
        name,
        raw_hyperparameters=ENV_RAW_HPS,
        channels=[
            channel("train", diabetes.train),
            channel("validation", diabetes.validation, uri_style="path", input_mode="FastFile"),
        ],
        experiment_name=experiment,
        environment={"LOAM_E2E_FLAG": "from-environment"},
    )
    module_jobs.create_from(request)
    desc = module_jobs.wait_completed(name)
    model = module_jobs.model_files(desc)
    assert "env-algo-1.json" in model, f"model.tar.gz members: {sorted(model)}"
    record = json.loads(model["env-algo-1.json"])
    return types.SimpleNamespace(
        name=name, experiment=experiment, request=request, desc=desc, record=record,
        env=record["env"], outputs=module_jobs.output_files(desc),
    )


@pytest.fixture(scope="module")
def failed_job(module_jobs):
    """fail.py writing /opt/ml/output/failure (a message with spaces and punctuation)."""
    name = unique_name("e2e-fail")
    message = f"Custom failure: label column missing (token {uuid.uuid4().hex[:8]})"
    module_jobs.create("fail.py", name, hyperparameters={"mode": "failure_file", "message": message})
    desc = module_jobs.wait_terminal(name)
    return types.SimpleNamespace(name=name, message=message, desc=desc)


@pytest.fixture(scope="module")
def stopped_job(module_jobs):
    """sleep.py (forever) stopped with StopTrainingJob once its process runs."""
    name = unique_name("e2e-stop")
    module_jobs.create("sleep.py", name)
    module_jobs.wait_log(name, "sleep.py started")
    running = module_jobs.describe(name)
    module_jobs.client.stop_training_job(TrainingJobName=name)
    after_stop = module_jobs.describe(name)
    desc = wait_or_fail(module_jobs, name)
    return types.SimpleNamespace(name=name, running=running, after_stop=after_stop, desc=desc)


# ---------------------------------------------------------------------------
# Happy path: the regression script
# ---------------------------------------------------------------------------


def test_create_returns_arn_and_job_is_in_progress(regression_job):
    job = regression_job
    assert training_job_arn_pattern(job.name).fullmatch(job.created["TrainingJobArn"]), job.created
    assert job.first["TrainingJobArn"] == job.created["TrainingJobArn"]
    # CreateTrainingJob must not block until the job ends.
    assert job.first["TrainingJobStatus"] == "InProgress", summary(job.first)
    assert job.first["SecondaryStatus"] in SECONDARY_ORDER, summary(job.first)


def test_completed_job_describe(regression_job):
    desc = regression_job.desc
    assert desc["TrainingJobName"] == regression_job.name
    assert desc["TrainingJobArn"] == regression_job.created["TrainingJobArn"]
    assert desc["TrainingJobStatus"] == "Completed", summary(desc)
    assert desc["SecondaryStatus"] == "Completed", summary(desc)
    assert not desc.get("FailureReason"), summary(desc)
    assert transition_statuses(desc) == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert_transitions_well_formed(desc)
    assert desc["CreationTime"] <= desc["TrainingStartTime"] <= desc["TrainingEndTime"], summary(desc)
    assert desc["LastModifiedTime"] >= desc["CreationTime"]
    training = transition(desc, "Training")
    assert training["StartTime"] >= desc["CreationTime"]


def test_describe_echoes_the_request(regression_job):
    desc, request = regression_job.desc, regression_job.request
    assert desc["HyperParameters"] == request["HyperParameters"]
    algorithm = desc["AlgorithmSpecification"]
    assert algorithm["TrainingImage"] == request["AlgorithmSpecification"]["TrainingImage"]
    assert algorithm["TrainingInputMode"] == "File"
    assert algorithm["MetricDefinitions"] == METRIC_DEFINITIONS
    assert desc["RoleArn"] == request["RoleArn"]
    assert [c["ChannelName"] for c in desc["InputDataConfig"]] == ["train", "validation"]
    assert [c["DataSource"]["S3DataSource"]["S3Uri"] for c in desc["InputDataConfig"]] == [
        c["DataSource"]["S3DataSource"]["S3Uri"] for c in request["InputDataConfig"]
    ]
    assert desc["OutputDataConfig"]["S3OutputPath"] == request["OutputDataConfig"]["S3OutputPath"]
    resources = desc["ResourceConfig"]
    assert (resources["InstanceType"], resources["InstanceCount"], resources["VolumeSizeInGB"]) == (
        "ml.m5.large", 1, 30,
    )
    assert desc["StoppingCondition"]["MaxRuntimeInSeconds"] == 600


def test_final_metric_data_list_holds_last_values(regression_job):
    desc, metrics = regression_job.desc, regression_job.metrics
    final = final_metrics(desc)
    # A definition whose regex never matched yields no entry.
    assert set(final) == {"train_loss", "val_loss", "r2"}, desc.get("FinalMetricDataList")
    assert final["train_loss"] == pytest.approx(metrics["train_loss"][-1], rel=1e-9)
    assert final["val_loss"] == pytest.approx(metrics["val_loss"][-1], rel=1e-9)
    assert final["r2"] == pytest.approx(metrics["r2"], rel=1e-9, abs=1e-9)
    # The first epoch's loss differs from the last: "last value", not "first match".
    assert metrics["train_loss"][0] != metrics["train_loss"][-1]


def test_model_tarball_holds_the_trained_model(regression_job, module_jobs, diabetes):
    import joblib
    import pandas as pd
    from sklearn.metrics import mean_squared_error

    files = module_jobs.model_files(regression_job.desc)
    assert set(files) == {"model.joblib"}, sorted(files)
    model = joblib.load(io.BytesIO(files["model.joblib"]))
    val = pd.concat([pd.read_csv(p) for p in sorted(diabetes.validation.rglob("*.csv"))])
    mse = mean_squared_error(val["target"], model.predict(val.drop(columns=["target"]).to_numpy()))
    # Rounded to six decimals in the log; MSE here is in the thousands.
    assert mse == pytest.approx(regression_job.metrics["val_loss"][-1], rel=1e-6)


def test_output_tarball_and_channel_delivery(regression_job, diabetes):
    outputs, metrics = regression_job.outputs, regression_job.metrics
    assert {"metrics.json", "predictions.csv"} <= set(outputs), sorted(outputs)
    assert metrics["epoch"] == list(range(1, REGRESSION_HPS["epochs"] + 1))
    # S3Prefix semantics: the whole tree under the prefix, sub-directories included.
    assert sorted(metrics["train_files"]) == sorted(file_hashes(diabetes.train))
    assert sorted(metrics["val_files"]) == sorted(file_hashes(diabetes.validation))
    assert metrics["n_train"] == 353 and metrics["n_val"] == 89
    assert outputs["predictions.csv"].decode().count("\n") == 1 + metrics["n_val"]


def test_logs_endpoint_returns_stdout_and_stderr(regression_job, module_jobs):
    text = module_jobs.logs(regression_job.name, "algo-1")
    lines = re.findall(r"epoch=(\d+) train_loss: ([0-9.]+) val_loss: ([0-9.]+)", text)
    expected = [
        (str(e), f"{t:.6f}", f"{v:.6f}")
        for e, t, v in zip(
            regression_job.metrics["epoch"],
            regression_job.metrics["train_loss"],
            regression_job.metrics["val_loss"],
        )
    ]
    assert lines == expected, text[-3000:]
    assert "stderr-check: training starts" in text, "stderr is not captured"
    assert "saved model to" in text
    missing = module_jobs.logs_response(unique_name("no-such-job"))
    assert 400 <= missing.status_code < 500, (missing.status_code, missing.text[:500])
    no_host = module_jobs.logs_response(regression_job.name, "algo-2")  # a one-instance job
    assert 400 <= no_host.status_code < 500, (no_host.status_code, no_host.text[:500])


def test_logs_endpoint_offsets(regression_job, training_server):
    url = f"{training_server.url}/loam/v1/training-jobs/{regression_job.name}/logs"
    full = requests.get(url, params={"host": "algo-1"}, timeout=30)
    assert full.status_code == 200
    data = full.content
    assert int(full.headers["X-Loam-Next-Offset"]) == len(data)
    part = requests.get(url, params={"host": "algo-1", "offset": 10}, timeout=30)
    assert part.status_code == 200 and part.content == data[10:]
    assert int(part.headers["X-Loam-Next-Offset"]) == len(data)
    end = requests.get(url, params={"host": "algo-1", "offset": len(data)}, timeout=30)
    assert end.status_code == 200 and end.content == b""


def test_mlflow_run_params_and_tags(regression_job, training_server):
    # Job name carries the SDK timestamp suffix: the experiment is the base name.
    assert default_experiment_name(regression_job.name) == regression_job.base
    run = find_job_run(training_server.api, regression_job.name, regression_job.base)
    params = {p["key"]: p["value"] for p in run["data"].get("params", [])}
    assert params == {
        "epochs": "6", "alpha": "0.001", "eta0": "0.01", "batch-size": "32", "penalty": "l2", "seed": "7",
    }
    tags = {t["key"]: t["value"] for t in run["data"].get("tags", [])}
    assert tags.get("sagemaker.training_job_name") == regression_job.name
    assert tags.get("sagemaker.training_job_arn") == regression_job.desc["TrainingJobArn"]


def test_mlflow_metric_history_from_log_lines(regression_job, training_server):
    api = training_server.api
    run = find_job_run(api, regression_job.name, regression_job.base)
    run_id = run["info"]["run_id"]
    for key in ("train_loss", "val_loss"):
        history = sorted(metric_history(api, run_id, key), key=lambda m: (m["step"], m["timestamp"]))
        steps = [int(m["step"]) for m in history]
        assert steps == sorted(set(steps)), f"{key}: steps not strictly increasing: {steps}"
        assert [m["value"] for m in history] == pytest.approx(regression_job.metrics[key], rel=1e-9), key
    r2 = metric_history(api, run_id, "r2")
    assert [m["value"] for m in r2] == pytest.approx([regression_job.metrics["r2"]], rel=1e-9, abs=1e-9)
    assert metric_history(api, run_id, "never_logged") == []
    latest = {m["key"]: m["value"] for m in run["data"].get("metrics", [])}
    assert latest.get("val_loss") == pytest.approx(regression_job.metrics["val_loss"][-1], rel=1e-9)


def test_waiter_on_a_completed_job_returns(regression_job, module_jobs):
    module_jobs.wait_with_waiter(regression_job.name, max_attempts=2)


# ---------------------------------------------------------------------------
# Script-mode contract: arguments and environment
# ---------------------------------------------------------------------------


def test_script_arguments_are_decoded_hyperparameters_sorted_by_key(env_job):
    assert env_job.record["argv"] == ENV_EXPECTED_ARGV
    assert json.loads(env_job.env["SM_USER_ARGS"]) == ENV_EXPECTED_ARGV
    assert env_job.record["argv0"].endswith("env_dump.py")


def test_sm_hps_and_sm_hp_variables(env_job):
    env = env_job.env
    assert json.loads(env["SM_HPS"]) == ENV_DECODED_HPS
    assert env.get("SM_HP_EPOCHS") == "10"
    assert env.get("SM_HP_LR") == "0.05"
    assert env.get("SM_HP_NAME") == "abc"
    assert env.get("SM_HP_MAX-ITER") == "50"
    assert env.get("SM_HP_MESSAGE") == "it's a $HOME test; echo pwned"


def test_channel_environment_and_content(env_job, diabetes):
    env, channels = env_job.env, env_job.record["channels"]
    assert sorted(json.loads(env["SM_CHANNELS"])) == ["train", "validation"]
    for name, source in (("train", diabetes.train), ("validation", diabetes.validation)):
        path = env[f"SM_CHANNEL_{name.upper()}"]
        if sandboxed():
            assert path == f"/opt/ml/input/data/{name}"
        else:
            assert path.endswith(f"/input/data/{name}"), path
        assert channels[name]["path"] == path
        # Same tree, same bytes (File mode copies, FastFile links: both read the same).
        assert channels[name]["files"] == file_hashes(source), name


def test_hosts_and_resources_environment(env_job):
    env = env_job.env
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert int(env["SM_NUM_CPUS"]) >= 1
    assert int(env["SM_NUM_GPUS"]) >= 0


def test_model_and_output_directories(env_job):
    env = env_job.env
    if sandboxed():
        assert env["SM_MODEL_DIR"] == "/opt/ml/model"
        assert env["SM_OUTPUT_DATA_DIR"] == "/opt/ml/output/data"
    else:
        assert env["SM_MODEL_DIR"].endswith("/model") and env["SM_MODEL_DIR"] != "/opt/ml/model"
        assert env["SM_OUTPUT_DATA_DIR"].endswith("/output/data")
    # The same record went to the model dir and the output data dir.
    assert json.loads(env_job.outputs["env-algo-1.json"]) == env_job.record


def test_training_env_json(env_job):
    env = env_job.env
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert isinstance(training_env, dict)
    assert training_env.get("job_name") == env_job.name
    assert training_env.get("hosts") == ["algo-1"]
    assert training_env.get("current_host") == "algo-1"
    assert training_env.get("hyperparameters") == ENV_DECODED_HPS
    assert sorted(training_env.get("channel_input_dirs") or {}) == ["train", "validation"]
    assert training_env.get("model_dir") == env["SM_MODEL_DIR"]


def test_mlflow_environment_points_at_the_job_run(env_job, training_server):
    env = env_job.env
    run = find_job_run(training_server.api, env_job.name, env_job.experiment)
    assert env["MLFLOW_RUN_ID"] == run["info"]["run_id"]
    uri = env["MLFLOW_TRACKING_URI"].rstrip("/")
    assert uri.startswith("http://") or uri.startswith("https://"), uri
    resp = requests.get(f"{uri}/api/2.0/mlflow/runs/get", params={"run_id": env["MLFLOW_RUN_ID"]}, timeout=30)
    assert resp.status_code == 200, resp.text
    tags = {t["key"]: t["value"] for t in resp.json()["run"]["data"].get("tags", [])}
    assert tags.get("sagemaker.training_job_name") == env_job.name
    # ExperimentConfig wins over the name-derived default experiment.
    default = experiment_by_name(training_server.api, default_experiment_name(env_job.name))
    if default is not None:
        assert runs_of_job(training_server.api, default["experiment_id"], env_job.name) == []


def test_job_runs_with_the_python_flag_interpreter(env_job):
    assert env_job.record["sys_prefix"] == python_prefix(job_python())


def test_environment_field_reaches_the_script(env_job):
    assert env_job.env.get("LOAM_E2E_FLAG") == "from-environment"


def test_training_job_name_and_arn_in_the_environment(env_job):
    assert env_job.env.get("TRAINING_JOB_NAME") == env_job.name
    assert env_job.env.get("TRAINING_JOB_ARN") == env_job.desc["TrainingJobArn"]


def test_input_config_files(env_job):
    config = env_job.record["input_config"]
    assert {"hyperparameters.json", "resourceconfig.json", "inputdataconfig.json"} <= set(config), sorted(config)
    # As SageMaker writes it: the request's string map, sagemaker_* entries included.
    assert config["hyperparameters.json"] == env_job.request["HyperParameters"]
    resource = config["resourceconfig.json"]
    assert resource.get("current_host") == "algo-1" and resource.get("hosts") == ["algo-1"], resource
    assert sorted(config["inputdataconfig.json"]) == ["train", "validation"]


def test_hyperparameter_that_is_not_json_is_passed_verbatim(jobs):
    # boto3 users (not the SDK) often send plain strings; SageMaker keeps them as they are.
    name = jobs.create("env_dump.py", raw_hyperparameters={"plain": "not-json at all"})
    desc = jobs.wait_completed(name)
    record = json.loads(jobs.model_files(desc)["env-algo-1.json"])
    assert record["argv"] == ["--plain", "not-json at all"]
    assert json.loads(record["env"]["SM_HPS"]) == {"plain": "not-json at all"}


def test_multi_instance_job_runs_every_host(jobs, diabetes, tmp_path):
    shards = tmp_path / "shards"
    shards.mkdir()
    for i in range(4):
        (shards / f"shard-{i}.csv").write_text(f"target,x\n{i},{i}\n")
    sharded = channel("shards", shards)
    sharded["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    name = jobs.create(
        "env_dump.py",
        instance_type="ml.m5.large",
        instance_count=2,
        channels=[channel("train", diabetes.train), sharded],
        raw_hyperparameters={"epochs": "3"},
    )
    desc = jobs.wait_completed(name)
    assert desc["ResourceConfig"]["InstanceCount"] == 2
    seen = {}
    for host in ("algo-1", "algo-2"):
        text = jobs.logs(name, host)
        dumps = [json.loads(line.split("ENV_DUMP ", 1)[1]) for line in text.splitlines() if "ENV_DUMP " in line]
        assert len(dumps) == 1, f"{host} log:\n{text[-3000:]}"
        seen[host] = dumps[0]
    for host, dump in seen.items():
        assert dump["host"] == host, dump
        assert dump["hosts"] == ["algo-1", "algo-2"], dump
        assert dump["argv"] == ["--epochs", "3"]
        # FullyReplicated: every host gets the whole channel.
        assert dump["files"]["train"] == sorted(file_hashes(diabetes.train)), dump
    # ShardedByS3Key: the files are dealt across the hosts, each exactly once.
    dealt = [seen[h]["files"]["shards"] for h in ("algo-1", "algo-2")]
    assert all(dealt), dealt
    assert sorted(dealt[0] + dealt[1]) == sorted(file_hashes(shards)), dealt
    members = jobs.model_files(desc)
    assert any(m.endswith("env-algo-1.json") for m in members), sorted(members)


# ---------------------------------------------------------------------------
# Submit directory forms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["dir", "dir-file-uri", "tar-gz", "tar-gz-file-uri"])
def test_submit_directory_forms(jobs, tmp_path, form):
    code = copy_tree(CODE_BUNDLE_DIR, tmp_path / "code")
    if form == "dir":
        submit = str(code)
    elif form == "dir-file-uri":
        submit = file_uri(code)
    elif form == "tar-gz":
        submit = str(make_tarball(code, tmp_path / "sourcedir.tar.gz"))
    else:
        submit = file_uri(make_tarball(code, tmp_path / "sourcedir.tar.gz"))
    name = jobs.create("main.py", submit_dir=submit, hyperparameters={"who": f"loam {form}"})
    desc = jobs.wait_completed(name)
    bundle = json.loads(jobs.model_files(desc)["bundle.json"])
    assert bundle == {
        "greeting": f"hello, loam {form}",
        "message": "the whole submit directory arrived",
        "argv": ["--who", f"loam {form}"],
    }


# ---------------------------------------------------------------------------
# Failure, stop, timeout
# ---------------------------------------------------------------------------


def test_failure_file_sets_failure_reason(failed_job, module_jobs):
    desc = failed_job.desc
    assert desc["TrainingJobStatus"] == "Failed", summary(desc)
    assert desc["SecondaryStatus"] == "Failed", summary(desc)
    assert failed_job.message in (desc.get("FailureReason") or ""), summary(desc)
    assert len(desc["FailureReason"]) <= 1024
    assert transition_statuses(desc)[-1] == "Failed"
    assert "Training" in transition_statuses(desc)
    assert_transitions_well_formed(desc)
    assert desc.get("TrainingEndTime") is not None
    with pytest.raises(WaiterError, match="Failed"):
        module_jobs.wait_with_waiter(failed_job.name, max_attempts=2)


def test_failure_reason_from_exception_keeps_the_log_tail(jobs):
    token = f"boom-{uuid.uuid4().hex[:8]}"
    name = jobs.create("fail.py", hyperparameters={"mode": "exception", "message": token, "noise-lines": 40})
    desc = jobs.wait_terminal(name)
    reason = desc.get("FailureReason") or ""
    assert desc["TrainingJobStatus"] == "Failed", summary(desc)
    assert token in reason, f"the last log lines are missing from FailureReason: {reason!r}"
    assert re.search(r"exit", reason, re.IGNORECASE), reason
    assert len(reason) <= 1024, len(reason)


def test_failure_reason_from_exit_code(jobs):
    token = uuid.uuid4().hex[:8]
    name = jobs.create("fail.py", hyperparameters={"mode": "exit", "code": 3, "message": token})
    desc = jobs.wait_terminal(name)
    reason = desc.get("FailureReason") or ""
    assert desc["TrainingJobStatus"] == "Failed", summary(desc)
    assert re.search(r"\b3\b", reason), reason
    assert f"last words: {token}" in reason, reason


def test_stop_training_job(stopped_job, module_jobs):
    assert stopped_job.running["TrainingJobStatus"] == "InProgress"
    assert stopped_job.after_stop["TrainingJobStatus"] in ("Stopping", "Stopped"), summary(stopped_job.after_stop)
    desc = stopped_job.desc
    assert desc["TrainingJobStatus"] == "Stopped", summary(desc)
    assert desc["SecondaryStatus"] == "Stopped", summary(desc)
    assert "Training" in transition_statuses(desc)
    assert_transitions_well_formed(desc)
    assert desc.get("TrainingEndTime") is not None
    text = module_jobs.logs(stopped_job.name)
    assert "sleep.py started" in text and "sleep.py done" not in text, text[-2000:]
    # As SageMaker does, a stopped job's model directory is still uploaded.
    assert "started.json" in module_jobs.model_files(desc)


def test_stop_a_finished_job_leaves_it_finished(jobs):
    name = jobs.create("noop.py")
    jobs.wait_completed(name)
    try:
        jobs.client.stop_training_job(TrainingJobName=name)
    except ClientError as e:  # SageMaker refuses with ValidationException; a no-op is fine too
        assert e.response["Error"]["Code"] == "ValidationException", e.response
    assert jobs.describe(name)["TrainingJobStatus"] == "Completed"


@pytest.mark.timeout(180)
def test_max_runtime_exceeded_stops_the_job(jobs):
    name = jobs.create("sleep.py", max_runtime=2)
    desc = jobs.wait_terminal(name, timeout=120)
    assert desc["TrainingJobStatus"] == "Stopped", summary(desc)
    assert desc["SecondaryStatus"] == "MaxRuntimeExceeded", summary(desc)
    assert transition_statuses(desc)[-1] == "MaxRuntimeExceeded"
    assert "Training" in transition_statuses(desc)
    assert_transitions_well_formed(desc)
    # Not stopped before its time (a lower bound only; timestamps may be whole seconds).
    assert (desc["TrainingEndTime"] - desc["CreationTime"]).total_seconds() >= 1.0, summary(desc)
    text = jobs.logs(name)
    assert "sleep.py started" in text and "sleep.py done" not in text
    assert "started.json" in jobs.model_files(desc)
    jobs.wait_with_waiter(name, max_attempts=2)  # Stopped counts as success for the waiter


def test_mlflow_run_status_follows_the_job(regression_job, failed_job, stopped_job, training_server):
    api = training_server.api
    expected = {
        regression_job.name: (regression_job.base, "FINISHED"),
        failed_job.name: (None, "FAILED"),
        stopped_job.name: (None, "KILLED"),
    }
    for name, (experiment, status) in expected.items():
        run = find_job_run(api, name, experiment)
        assert run["info"]["status"] == status, (name, run["info"])
        assert run["info"].get("end_time"), (name, run["info"])


# ---------------------------------------------------------------------------
# Validation and errors
# ---------------------------------------------------------------------------


def _set(path, value):
    def mutate(request):
        target = request
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _drop(key):
    return lambda request: request.pop(key)


INVALID_CREATE = [
    # (id, mutation, field named in the message, the job name itself is invalid)
    ("name-underscore", _set(["TrainingJobName"], "bad_name_here"), "trainingjobname", True),
    ("name-leading-dash", _set(["TrainingJobName"], "-leading-dash"), "trainingjobname", True),
    ("name-64-chars", _set(["TrainingJobName"], "a" * 64), "trainingjobname", True),
    ("missing-role", _drop("RoleArn"), "rolearn", False),
    ("missing-output", _drop("OutputDataConfig"), "outputdataconfig", False),
    ("bad-role-arn", _set(["RoleArn"], "not-a-role-arn-at-all"), "rolearn", False),
    ("bad-input-mode", _set(["AlgorithmSpecification", "TrainingInputMode"], "Bogus"), "traininginputmode", False),
    ("bad-instance-type", _set(["ResourceConfig", "InstanceType"], "ml.bogus.large"), "instancetype", False),
    ("zero-max-runtime", _set(["StoppingCondition", "MaxRuntimeInSeconds"], 0), "maxruntimeinseconds", False),
    ("bad-channel-name", _set(["InputDataConfig", 0, "ChannelName"], "bad channel!"), "channelname", False),
    ("bad-s3-data-type", _set(["InputDataConfig", 0, "DataSource", "S3DataSource", "S3DataType"], "Bogus"),
     "s3datatype", False),
    ("pipe-mode", _set(["AlgorithmSpecification", "TrainingInputMode"], "Pipe"), "pipe", False),
    ("manifest-file", _set(["InputDataConfig", 0, "DataSource", "S3DataSource", "S3DataType"], "ManifestFile"),
     "manifestfile", False),
    ("101-hyperparameters", lambda r: r["HyperParameters"].update({f"k{i}": "1" for i in range(101)}),
     "hyperparameters", False),
]


@pytest.mark.parametrize(
    "mutate,field,name_invalid", [c[1:] for c in INVALID_CREATE], ids=[c[0] for c in INVALID_CREATE]
)
def test_create_validation_errors(jobs, unvalidated, tmp_path, mutate, field, name_invalid):
    request = jobs.request("noop.py", channels=[channel("train", tmp_path)])
    mutate(request)
    err = expect_client_error(unvalidated.create_training_job, "ValidationException", **request)
    message = re.sub(r"[^a-z0-9]", "", err.response["Error"]["Message"].lower())
    assert field in message, f"message does not name {field}: {err.response['Error']['Message']!r}"
    if not name_invalid:  # nothing was created
        expect_client_error(
            jobs.client.describe_training_job, "ValidationException", TrainingJobName=request["TrainingJobName"]
        )


def test_wrong_json_type_is_serialization_exception(jobs, unvalidated, tmp_path):
    request = jobs.request("noop.py")
    request["ResourceConfig"]["InstanceCount"] = "two"
    expect_client_error(unvalidated.create_training_job, "SerializationException", **request)
    expect_client_error(
        jobs.client.describe_training_job, "ValidationException", TrainingJobName=request["TrainingJobName"]
    )


@pytest.mark.parametrize("what", ["channel", "submit-directory"])
def test_missing_local_source_fails_clearly(jobs, tmp_path, what):
    """Refused at creation or failed while downloading, either way naming the path."""
    missing = tmp_path / f"no-such-{what}"
    kwargs = {"channels": [channel("train", missing)]} if what == "channel" else {"submit_dir": str(missing)}
    request = jobs.request("noop.py", **kwargs)
    try:
        jobs.create_from(request)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ValidationException", e.response
        assert str(missing) in e.response["Error"]["Message"], e.response["Error"]
        return
    desc = jobs.wait_terminal(request["TrainingJobName"])
    assert desc["TrainingJobStatus"] == "Failed", summary(desc)
    assert str(missing) in (desc.get("FailureReason") or ""), summary(desc)
    assert "Training" not in transition_statuses(desc)


def test_longest_valid_name_is_accepted(jobs):
    name = "a" + uuid.uuid4().hex[:30] + "b" * 32
    assert len(name) == 63
    jobs.create("noop.py", name)
    jobs.wait_completed(name)


def test_instance_type_local_is_accepted(jobs):
    name = jobs.create("noop.py", instance_type="local")
    assert jobs.wait_completed(name)["ResourceConfig"]["InstanceType"] == "local"


def test_duplicate_name_is_resource_in_use(jobs):
    name = jobs.create("noop.py", hyperparameters={"attempt": "first"})
    again = jobs.request("noop.py", name, hyperparameters={"attempt": "second"})
    expect_client_error(jobs.client.create_training_job, "ResourceInUse", **again)
    jobs.wait_completed(name)
    expect_client_error(jobs.client.create_training_job, "ResourceInUse", **again)
    assert jobs.describe(name)["HyperParameters"]["attempt"] == '"first"'


def test_missing_job_is_validation_exception(sagemaker):
    name = unique_name("never-created")
    for call in (sagemaker.describe_training_job, sagemaker.stop_training_job):
        err = expect_client_error(call, "ValidationException", TrainingJobName=name)
        assert "Requested resource not found" in err.response["Error"]["Message"]


def test_missing_job_error_has_the_aws_json_shape(training_server):
    resp = requests.post(
        training_server.url + "/",
        data=json.dumps({"TrainingJobName": unique_name("never-created")}),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "SageMaker.DescribeTrainingJob",
        },
        timeout=30,
    )
    assert resp.status_code == 400, resp.text
    body = resp.json()
    code = (body.get("__type") or resp.headers.get("x-amzn-ErrorType") or "").split("#")[-1].split(":")[0]
    assert code == "ValidationException", (resp.headers, body)
    message = body.get("message") or body.get("Message")
    assert message and "Requested resource not found" in message, body


def test_waiter_fails_on_missing_job(sagemaker):
    waiter = sagemaker.get_waiter("training_job_completed_or_stopped")
    with pytest.raises(WaiterError):
        waiter.wait(TrainingJobName=unique_name("never-created"), WaiterConfig={"Delay": 1, "MaxAttempts": 2})


# ---------------------------------------------------------------------------
# ListTrainingJobs
# ---------------------------------------------------------------------------


def _sleep_past_whole_second() -> dt.datetime:
    """Sleeps into the next whole second and returns that boundary.

    boto3 sends CreationTimeAfter/Before as whole epoch seconds, so jobs on either side of
    a filter boundary must be created on either side of a whole second.
    """
    boundary = math.floor(time.time()) + 1
    while time.time() < boundary + 0.05:
        time.sleep(0.02)
    return dt.datetime.fromtimestamp(boundary, tz=dt.timezone.utc)


@pytest.fixture(scope="module")
def listed_jobs(module_jobs):
    """Five jobs under one prefix, created in three groups separated by whole seconds.

    Creation order k, c | x, a | p differs from name order a, c, k, p, x; c and p fail.
    """
    prefix = unique_name("lst")
    groups = [[("k", "noop"), ("c", "fail")], [("x", "noop"), ("a", "noop")], [("p", "fail")]]
    boundaries, created, group_of = [], [], {}
    for index, group in enumerate(groups):
        if index:
            boundaries.append(_sleep_past_whole_second())
        for suffix, kind in group:
            name = f"{prefix}-{suffix}"
            if kind == "noop":
                module_jobs.create("noop.py", name)
            else:
                module_jobs.create("fail.py", name, hyperparameters={"mode": "exit", "code": 2})
            created.append(name)
            group_of[name] = index
    descs = {name: module_jobs.wait_terminal(name) for name in created}
    for name in created:
        expected = "Failed" if name.endswith(("-c", "-p")) else "Completed"
        assert descs[name]["TrainingJobStatus"] == expected, module_jobs.diagnostics(name)
    return types.SimpleNamespace(
        prefix=prefix, names=created, descs=descs, group_of=group_of, boundaries=boundaries,
        n=lambda *suffixes: {f"{prefix}-{s}" for s in suffixes},
    )


def _list(client, **kwargs) -> list[dict]:
    resp = client.list_training_jobs(MaxResults=100, **kwargs)
    assert not resp.get("NextToken"), "unexpected NextToken with MaxResults=100"
    return resp["TrainingJobSummaries"]


def test_list_name_contains_and_summaries(listed_jobs, sagemaker):
    summaries = _list(sagemaker, NameContains=listed_jobs.prefix)
    assert {s["TrainingJobName"] for s in summaries} == set(listed_jobs.names)
    assert len(summaries) == len(listed_jobs.names)
    for s in summaries:
        desc = listed_jobs.descs[s["TrainingJobName"]]
        assert s["TrainingJobArn"] == desc["TrainingJobArn"]
        assert s["TrainingJobStatus"] == desc["TrainingJobStatus"]
        assert s["CreationTime"] == desc["CreationTime"]
        if "SecondaryStatus" in s:
            assert s["SecondaryStatus"] == desc["SecondaryStatus"]
    middle = listed_jobs.prefix.split("-", 1)[1][2:8]  # a fragment from inside the name
    assert {s["TrainingJobName"] for s in _list(sagemaker, NameContains=middle)} >= set(listed_jobs.names)


def test_list_sort_by_name_creation_time_and_status(listed_jobs, sagemaker):
    prefix = listed_jobs.prefix

    def names(**kw):
        return [s["TrainingJobName"] for s in _list(sagemaker, NameContains=prefix, **kw)]

    assert names(SortBy="Name", SortOrder="Ascending") == sorted(listed_jobs.names)
    assert names(SortBy="Name", SortOrder="Descending") == sorted(listed_jobs.names, reverse=True)

    ascending = _list(sagemaker, NameContains=prefix, SortBy="CreationTime", SortOrder="Ascending")
    times = [s["CreationTime"] for s in ascending]
    assert times == sorted(times)
    groups = [listed_jobs.group_of[s["TrainingJobName"]] for s in ascending]
    assert groups == sorted(groups), groups
    descending = _list(sagemaker, NameContains=prefix, SortBy="CreationTime", SortOrder="Descending")
    times = [s["CreationTime"] for s in descending]
    assert times == sorted(times, reverse=True)

    statuses = [s["TrainingJobStatus"] for s in _list(sagemaker, NameContains=prefix, SortBy="Status", SortOrder="Ascending")]
    assert statuses == sorted(statuses) and set(statuses) == {"Completed", "Failed"}
    statuses = [s["TrainingJobStatus"] for s in _list(sagemaker, NameContains=prefix, SortBy="Status", SortOrder="Descending")]
    assert statuses == sorted(statuses, reverse=True)


def test_list_status_and_creation_time_filters(listed_jobs, sagemaker):
    prefix, n = listed_jobs.prefix, listed_jobs.n

    def names(**kw):
        return {s["TrainingJobName"] for s in _list(sagemaker, NameContains=prefix, **kw)}

    assert names(StatusEquals="Failed") == n("c", "p")
    assert names(StatusEquals="Completed") == n("k", "x", "a")
    assert names(StatusEquals="InProgress") == set()
    first, second = listed_jobs.boundaries
    assert names(CreationTimeAfter=first) == n("x", "a", "p")
    assert names(CreationTimeBefore=first) == n("k", "c")
    assert names(CreationTimeAfter=first, CreationTimeBefore=second) == n("x", "a")
    assert names(CreationTimeAfter=second, StatusEquals="Failed") == n("p")


def test_list_pagination(listed_jobs, sagemaker):
    pages, token = [], None
    while True:
        kwargs = {"NameContains": listed_jobs.prefix, "SortBy": "Name", "SortOrder": "Ascending", "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        resp = sagemaker.list_training_jobs(**kwargs)
        pages.append([s["TrainingJobName"] for s in resp["TrainingJobSummaries"]])
        token = resp.get("NextToken")
        if not token:
            break
        assert len(pages) < 10, pages
    assert pages == [sorted(listed_jobs.names)[i : i + 2] for i in (0, 2, 4)], pages

    paginator = sagemaker.get_paginator("list_training_jobs")
    walked = [
        s["TrainingJobName"]
        for page in paginator.paginate(
            NameContains=listed_jobs.prefix, SortBy="Name", SortOrder="Descending",
            PaginationConfig={"PageSize": 2},
        )
        for s in page["TrainingJobSummaries"]
    ]
    assert walked == sorted(listed_jobs.names, reverse=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"StatusEquals": "Bogus"},
        {"SortBy": "Bogus"},
        {"SortOrder": "Sideways"},
        {"MaxResults": 0},
        {"MaxResults": 101},
        {"NameContains": "under_score"},
    ],
    ids=["status", "sort-by", "sort-order", "max-results-0", "max-results-101", "name-contains"],
)
def test_list_validation_errors(unvalidated, kwargs):
    expect_client_error(unvalidated.list_training_jobs, "ValidationException", **kwargs)


# ---------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------


def _tags(client, arn) -> dict:
    resp = client.list_tags(ResourceArn=arn)
    return {t["Key"]: t["Value"] for t in resp["Tags"]}


def test_tags_at_creation_and_add_list_delete(jobs):
    name = jobs.create("noop.py", tags=[{"Key": "team", "Value": "ml"}, {"Key": "project", "Value": "loam"}])
    arn = jobs.describe(name)["TrainingJobArn"]
    assert _tags(jobs.client, arn) == {"team": "ml", "project": "loam"}

    jobs.client.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "core"}, {"Key": "stage", "Value": "dev"}])
    assert _tags(jobs.client, arn) == {"team": "core", "project": "loam", "stage": "dev"}

    jobs.client.delete_tags(ResourceArn=arn, TagKeys=["project", "no-such-key"])
    assert _tags(jobs.client, arn) == {"team": "core", "stage": "dev"}

    jobs.wait_completed(name)  # tags outlive the run and are untouched by it
    assert _tags(jobs.client, arn) == {"team": "core", "stage": "dev"}

    other = jobs.create("noop.py")
    assert _tags(jobs.client, jobs.describe(other)["TrainingJobArn"]) == {}
    jobs.wait_completed(other)


def test_tags_on_a_missing_job_are_refused(sagemaker):
    account_arn = "arn:aws:sagemaker:us-east-1:123456789012:training-job/" + unique_name("never-created")
    expect_client_error(
        sagemaker.add_tags, "ValidationException", ResourceArn=account_arn, Tags=[{"Key": "k", "Value": "v"}]
    )


# ---------------------------------------------------------------------------
# MLflow integration details
# ---------------------------------------------------------------------------


def test_experiment_defaults_to_the_job_name_without_sdk_suffix(jobs, training_server):
    name = jobs.create("noop.py", hyperparameters={"flag": "x"})  # no timestamp suffix
    jobs.wait_completed(name)
    run = find_job_run(training_server.api, name, name)
    assert {p["key"]: p["value"] for p in run["data"].get("params", [])} == {"flag": "x"}


@pytest.mark.timeout(180)
def test_script_logs_into_the_job_run(jobs, training_server):
    name = jobs.create("mlflow_log.py", hyperparameters={"lr": 0.5})
    jobs.wait_completed(name, timeout=150)
    api = training_server.api
    run = find_job_run(api, name)
    params = {p["key"]: p["value"] for p in run["data"].get("params", [])}
    assert params == {"lr": "0.5", "script_param": "from-script"}
    tags = {t["key"]: t["value"] for t in run["data"].get("tags", [])}
    assert tags.get("logged_by") == "mlflow_log.py"
    assert tags.get("sagemaker.training_job_name") == name
    history = sorted(metric_history(api, run["info"]["run_id"], "script_metric"), key=lambda m: m["step"])
    assert [(int(m["step"]), m["value"]) for m in history] == [(0, 0.5), (1, 1.0), (2, 1.5)]
