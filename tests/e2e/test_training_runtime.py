"""Training jobs on private servers started with specific flags: the CPU scheduler
(``--job-cpus 1``: queueing, stopping a queued job), a SIGKILL of the server while a job
runs and another waits, and the sandbox modes (``--sandbox none|bwrap``).

Ordering is asserted from the jobs' own timestamps and from states observed in order,
never from how long anything took.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time

import botocore.exceptions
import pytest

from conftest import training_server_args
from sagemaker_helpers import (
    POLL_S,
    TERMINAL_STATUSES,
    TrainingJobs,
    assert_transitions_well_formed,
    bwrap_works,
    channel,
    file_hashes,
    find_job_run,
    sagemaker_client,
    summary,
    transition,
    transition_statuses,
)

pytestmark = pytest.mark.timeout(240)

# A job in one of these secondary statuses holds (or is about to take) its CPUs.
BEFORE_PROCESS_EXIT = ("Starting", "Downloading", "Training")


def start_training_server(factory, tmp_path, **flags) -> TrainingJobs:
    srv = factory(*training_server_args(**flags))
    return TrainingJobs(srv, sagemaker_client(srv.url), tmp_path / f"s3-output-{srv.port}")


@pytest.fixture
def one_cpu(loam_server_factory, tmp_path):
    """A server whose scheduler has one CPU: one ``local`` job at a time."""
    helper = start_training_server(loam_server_factory, tmp_path, job_cpus=1)
    yield helper
    if helper.server.running:
        helper.stop_unfinished()


def small_channel(tmp_path):
    folder = tmp_path / "channel-train"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("target,x\n1,2\n")
    (folder / "sub" / "b.csv").write_text("target,x\n3,4\n")
    return folder


# ---------------------------------------------------------------------------
# Scheduler
# ---------------------------------------------------------------------------


def test_second_job_waits_for_the_only_cpu(one_cpu):
    jobs = one_cpu
    first = jobs.create("sleep.py", hyperparameters={"seconds": 2})
    second = jobs.create("sleep.py", hyperparameters={"seconds": 1})
    deadline = time.monotonic() + 120
    while True:
        # Second job first: if it is past Starting at t1 while the first job has not yet
        # left Training at t2 > t1, both ran at once.
        d2 = jobs.describe(second)
        d1 = jobs.describe(first)
        if d1["TrainingJobStatus"] == "InProgress" and d1["SecondaryStatus"] in BEFORE_PROCESS_EXIT:
            assert (d2["TrainingJobStatus"], d2["SecondaryStatus"]) == ("InProgress", "Starting"), (
                f"the second job left Starting while the first was still {d1['SecondaryStatus']}\n"
                f"first: {summary(d1)}\nsecond: {summary(d2)}"
            )
        if d1["TrainingJobStatus"] in TERMINAL_STATUSES and d2["TrainingJobStatus"] in TERMINAL_STATUSES:
            break
        assert time.monotonic() < deadline, f"jobs did not finish\n{jobs.diagnostics(first)}\n{jobs.diagnostics(second)}"
        time.sleep(POLL_S)

    d1, d2 = jobs.wait_completed(first), jobs.wait_completed(second)
    for desc in (d1, d2):
        assert transition_statuses(desc) == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
        assert_transitions_well_formed(desc)
    first_training_end = transition(d1, "Training")["EndTime"]
    for t in d2["SecondaryStatusTransitions"][1:]:
        assert t["StartTime"] >= first_training_end, (
            f"second job's {t['Status']} began before the first job's process ended\n"
            f"first: {summary(d1)}\nsecond: {summary(d2)}"
        )
    # Queued time counts as Starting: the second job's Starting ends after the first's Training.
    assert transition(d2, "Starting")["EndTime"] >= first_training_end


def test_stopping_a_queued_job_and_capacity_release(one_cpu):
    jobs = one_cpu
    running = jobs.create("sleep.py")  # forever, until stopped
    jobs.wait_log(running, "sleep.py started")
    queued = jobs.create("noop.py")
    desc = jobs.describe(queued)
    assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == ("InProgress", "Starting"), summary(desc)

    jobs.client.stop_training_job(TrainingJobName=queued)
    desc = jobs.wait_terminal(queued)
    assert desc["TrainingJobStatus"] == "Stopped", summary(desc)
    assert desc["SecondaryStatus"] == "Stopped", summary(desc)
    statuses = transition_statuses(desc)
    assert statuses[0] == "Starting" and statuses[-1] == "Stopped", statuses
    assert "Training" not in statuses and "Downloading" not in statuses, statuses
    assert jobs.describe(running)["SecondaryStatus"] == "Training", "stopping the queued job touched the running one"

    jobs.client.stop_training_job(TrainingJobName=running)
    assert jobs.wait_terminal(running)["TrainingJobStatus"] == "Stopped"
    # The stopped job gave its CPU back.
    later = jobs.create("noop.py")
    jobs.wait_completed(later)


def pid_alive(pid: int) -> bool:
    """Whether a process runs (a zombie, ended but not yet reaped, does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_stop_escalates_to_sigkill_for_the_whole_process_group(loam_server_factory, tmp_path):
    # Unsandboxed, so the job's pids are this machine's pids.
    srv = loam_server_factory(*training_server_args(sandbox="none"), "--stop-grace", "1")
    jobs = TrainingJobs(srv, sagemaker_client(srv.url), tmp_path / "s3-output")
    name = jobs.create("sleep.py", hyperparameters={"ignore-sigterm": 1, "spawn-child": 1})
    text = jobs.wait_log(name, "child pid=")
    pids = [
        int(re.search(r"sleep\.py started on \S+ pid=(\d+)", text).group(1)),
        int(re.search(r"child pid=(\d+)", text).group(1)),
    ]
    try:
        assert all(pid_alive(pid) for pid in pids), pids
        jobs.client.stop_training_job(TrainingJobName=name)
        desc = jobs.wait_terminal(name)
        assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == ("Stopped", "Stopped"), summary(desc)
        # SIGTERM came first (and was ignored), then SIGKILL ended the script and its child.
        assert "SIGTERM received, ignoring" in jobs.logs(name)
        deadline = time.monotonic() + 30
        while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(POLL_S)
        assert not [pid for pid in pids if pid_alive(pid)], "job processes outlived StopTrainingJob"
    finally:
        for pid in pids:  # never leave SIGTERM-proof sleepers behind
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------
# Restart after SIGKILL
# ---------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_restart_after_kill9_keeps_running_and_queued_jobs(one_cpu):
    jobs = one_cpu
    srv = jobs.server
    running = jobs.create("sleep.py", hyperparameters={"seconds": 3})
    queued = jobs.create("noop.py")
    jobs.wait_log(running, "sleep.py started")
    desc = jobs.describe(queued)
    assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == ("InProgress", "Starting"), summary(desc)

    srv.kill9()
    srv.start()  # same data dir, port and flags
    jobs.client = sagemaker_client(srv.url)  # no stale pooled connections

    d_run = jobs.wait_terminal(running, timeout=150)
    d_queued = jobs.wait_terminal(queued, timeout=150)

    assert d_run["TrainingJobStatus"] in ("Completed", "Failed"), summary(d_run)
    print(f"job running across the restart ended {d_run['TrainingJobStatus']}: {d_run.get('FailureReason')}")
    if d_run["TrainingJobStatus"] == "Completed":
        # Re-attached: it finished normally and its model was uploaded.
        assert d_run["SecondaryStatus"] == "Completed"
        slept = json.loads(jobs.model_files(d_run)["slept.json"])
        assert slept["seconds"] == 3
        assert "sleep.py done" in jobs.logs(running)
    else:
        assert d_run["SecondaryStatus"] == "Failed"
        assert (d_run.get("FailureReason") or "").strip(), f"no FailureReason: {summary(d_run)}"
    assert_transitions_well_formed(d_run)

    # The queued job was not lost: it ran after the restart.
    assert d_queued["TrainingJobStatus"] == "Completed", jobs.diagnostics(queued)
    assert "Training" in transition_statuses(d_queued)
    assert_transitions_well_formed(d_queued)
    if d_run["TrainingJobStatus"] == "Completed":
        # Still one CPU: the queued job waited for the re-attached one.
        assert transition(d_queued, "Training")["StartTime"] >= transition(d_run, "Training")["EndTime"]

    # Still exactly one MLflow run per job (re-attaching does not start another).
    find_job_run(srv.api, running)
    find_job_run(srv.api, queued)
    listed = {s["TrainingJobName"] for s in jobs.client.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]}
    assert {running, queued} <= listed


# ---------------------------------------------------------------------------
# Sandbox modes
# ---------------------------------------------------------------------------


def _env_dump(jobs, tmp_path, probe=None):
    data = small_channel(tmp_path)
    hps = {"probe": probe} if probe else None
    name = jobs.create("env_dump.py", channels=[channel("train", data)], hyperparameters=hps)
    desc = jobs.wait_completed(name)
    record = json.loads(jobs.model_files(desc)["env-algo-1.json"])
    assert record["channels"]["train"]["files"] == file_hashes(data)
    return record


def test_sandbox_none_runs_in_the_job_directory(loam_server_factory, tmp_path):
    jobs = start_training_server(loam_server_factory, tmp_path, sandbox="none")
    env = _env_dump(jobs, tmp_path)["env"]
    for var, suffix in (
        ("SM_MODEL_DIR", "/model"),
        ("SM_OUTPUT_DATA_DIR", "/output/data"),
        ("SM_CHANNEL_TRAIN", "/input/data/train"),
    ):
        assert env[var].startswith("/") and env[var].endswith(suffix), (var, env[var])
        assert not env[var].startswith("/opt/ml/"), (var, env[var])


@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap is not installed or cannot create a sandbox here")
def test_sandbox_bwrap_binds_opt_ml_and_hides_the_data_dir(loam_server_factory, tmp_path):
    jobs = start_training_server(loam_server_factory, tmp_path, sandbox="bwrap")
    data_dir = jobs.server.data_dir.resolve()
    assert (data_dir / "loam.db").exists()
    record = _env_dump(jobs, tmp_path, probe=str(data_dir))
    env = record["env"]
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"
    assert env["SM_OUTPUT_DATA_DIR"] == "/opt/ml/output/data"
    assert env["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"
    entries = record["probes"][str(data_dir)]["entries"]
    if isinstance(entries, list):
        assert "loam.db" not in entries, f"the job can see Loam's data directory: {entries}"



def test_active_job_limit_answers_resource_limit_exceeded(loam_server_factory, tmp_path):
    """Beyond --max-active-jobs, CreateTrainingJob is refused with ResourceLimitExceeded (HTTP 400)."""
    srv = loam_server_factory(*training_server_args(job_cpus=1), "--max-active-jobs", "1")
    jobs = TrainingJobs(srv, sagemaker_client(srv.url), tmp_path / "s3-output-limit")
    running = jobs.create("sleep.py")  # forever, until stopped
    with pytest.raises(botocore.exceptions.ClientError) as err:
        jobs.create("noop.py")
    assert err.value.response["Error"]["Code"] == "ResourceLimitExceeded"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Number of concurrent training jobs" in err.value.response["Error"]["Message"]
    jobs.client.stop_training_job(TrainingJobName=running)
    assert jobs.wait_terminal(running)["TrainingJobStatus"] == "Stopped"
    jobs.wait_completed(jobs.create("noop.py"))  # room again once the first has ended
