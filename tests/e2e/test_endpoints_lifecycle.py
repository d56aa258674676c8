"""SageMaker hosting, the lifecycle of an endpoint: UpdateEndpointWeightsAndCapacities (weights
and instance counts), a killed worker coming back, UpdateEndpoint switching models under load,
an endpoint that fails to load its model, a training job's model deployed then deleted, and
endpoints surviving a server restart (graceful, kill -9, and with their model and config deleted).

See endpoint_helpers.py for the models, the ``Hosting`` helper and the shared fixtures.
"""

from __future__ import annotations

import json
import os
import signal
import tarfile
import threading
import time
from collections import Counter

import joblib
import numpy as np
import pytest
from botocore.exceptions import ClientError, WaiterError

from conftest import training_server_args
# pytest fixtures, imported by name so that this module gets its own module-scoped instances
from endpoint_helpers import data, hosting, served  # noqa: F401
from endpoint_helpers import (
    BROKEN_MODEL_FN_MESSAGE,
    CSV,
    HANDLERS_DIR,
    JSON,
    RECOVERY_S,
    REPACKED_CODE_DIR,
    WAIT_ATTEMPTS,
    Hosting,
    by_variant,
    csv_body,
    values,
    variant,
    wait_worker_count,
    worker_pids,
)
from sagemaker_helpers import (
    TrainingJobs,
    channel,
    expect_client_error,
    read_tarball,
    sagemaker_arn_pattern,
    sagemaker_runtime_client,
    write_diabetes_csv,
)

pytestmark = pytest.mark.timeout(240)


# ---------------------------------------------------------------------------
# Changing a running endpoint
# ---------------------------------------------------------------------------


def test_update_weights_and_capacities_changes_the_split(hosting, served, data):
    before = worker_pids(served.name)
    assert len(before) == 2, f"expected one worker per variant, found {sorted(before)}"
    resp = hosting.sm.update_endpoint_weights_and_capacities(
        EndpointName=served.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "primary", "DesiredWeight": 1.0, "DesiredInstanceCount": 2},
            {"VariantName": "secondary", "DesiredWeight": 3.0},
        ])
    assert resp["EndpointArn"] == served.arn
    try:
        updating = hosting.describe(served.name)
        assert updating["EndpointStatus"] == "Updating", updating
        assert by_variant(updating)["primary"]["DesiredWeight"] == pytest.approx(1.0)
        assert by_variant(updating)["primary"]["DesiredInstanceCount"] == 2
        desc = hosting.wait_in_service(served.name)
        variants = by_variant(desc)
        assert variants["primary"]["CurrentWeight"] == pytest.approx(1.0), variants
        assert variants["secondary"]["CurrentWeight"] == pytest.approx(3.0), variants
        assert variants["primary"]["CurrentInstanceCount"] == 2, variants
        assert variants["secondary"]["CurrentInstanceCount"] == 1, variants
        assert desc["LastModifiedTime"] >= served.desc["LastModifiedTime"]
        # One more worker, for primary's second instance.
        assert len(wait_worker_count(served.name, 3)) == 3, sorted(worker_pids(served.name))

        counts = Counter()
        for i in range(200):
            row = i % len(data.x_test)
            inv = hosting.invoke(served.name, csv_body(data.x_test[row]), CSV, JSON)
            counts[inv.variant] += 1
            assert np.allclose(values(inv), served.expected[inv.variant][row:row + 1])
        share = counts["primary"] / 200
        assert 0.12 <= share <= 0.38, f"primary (now weight 1 of 4) got {counts}"
    finally:
        hosting.sm.update_endpoint_weights_and_capacities(
            EndpointName=served.name,
            DesiredWeightsAndCapacities=[
                {"VariantName": "primary", "DesiredWeight": 3.0, "DesiredInstanceCount": 1},
                {"VariantName": "secondary", "DesiredWeight": 1.0},
            ])
        desc = hosting.wait_in_service(served.name)
    assert by_variant(desc)["primary"]["CurrentInstanceCount"] == 1, desc["ProductionVariants"]
    assert by_variant(desc)["primary"]["CurrentWeight"] == pytest.approx(3.0)
    assert len(wait_worker_count(served.name, 2)) == 2, "the scaled-in instance's worker did not exit"


def test_killed_worker_is_restarted_and_the_endpoint_keeps_serving(hosting, served, data):
    victims = worker_pids(served.name)
    assert len(victims) == 2, (
        f"expected one loam_inference worker per variant of {served.name}, found {sorted(victims)}")
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + RECOVERY_S
    served_again = set()
    last_error = None
    while served_again != {"primary", "secondary"}:
        for target in {"primary", "secondary"} - served_again:
            try:
                inv = hosting.invoke(served.name, csv_body(data.x_test), CSV, JSON, TargetVariant=target)
            except ClientError as e:  # the instance is coming back
                last_error = e.response.get("Error")
                continue
            assert np.allclose(values(inv), served.expected[target]), inv.body
            served_again.add(target)
        if time.monotonic() > deadline:
            pytest.fail(f"{served.name} did not serve {sorted({'primary', 'secondary'} - served_again)} "
                        f"within {RECOVERY_S:.0f}s of its workers being killed (last error: {last_error})\n"
                        f"{hosting.diagnostics(served.name)}", pytrace=False)
        time.sleep(0.2)
    now = wait_worker_count(served.name, 2)
    assert len(now) == 2 and not (now & victims), f"killed {sorted(victims)}, now {sorted(now)}"
    assert hosting.describe(served.name)["EndpointStatus"] == "InService"


def test_worker_that_stops_answering_is_killed_and_replaced(hosting, data):
    """A worker that is alive but stuck (SIGSTOP: its process exists, nothing answers) fails
    the periodic /ping three times in a row (every 5 s, 2 s each): Loam takes it out of rotation,
    kills it and starts another, and the endpoint serves again."""
    model = hosting.create_model(hosting.upload_model("stuck", data.base))
    ep = hosting.deploy([variant("main", model)])
    try:
        (stuck,) = worker_pids(ep.name)
        os.kill(stuck, signal.SIGSTOP)
        deadline = time.monotonic() + 60
        while True:
            now = worker_pids(ep.name)
            if now and stuck not in now:
                break
            if time.monotonic() > deadline:
                os.kill(stuck, signal.SIGCONT)
                pytest.fail(f"the stopped worker {stuck} was not replaced within 60 s\n{hosting.diagnostics(ep.name)}",
                            pytrace=False)
            time.sleep(0.5)
        inv = None
        while inv is None and time.monotonic() < deadline + 30:
            try:
                inv = hosting.invoke(ep.name, csv_body(data.x_test), CSV, JSON)
            except ClientError:  # the new worker is still loading
                time.sleep(0.2)
        assert inv is not None and np.allclose(values(inv), data.expected), hosting.diagnostics(ep.name)
        log = hosting.server.log_tail(400_000)
        events = [json.loads(line) for line in log.splitlines() if ep.name in line and "endpoint.worker" in line]
        kinds = [e["event"] for e in events]
        assert kinds.count("endpoint.worker_ping_failed") >= 3 and "endpoint.worker_unresponsive" in kinds, kinds
        restart = next(e for e in events if e["event"] == "endpoint.worker_restart")
        assert "signal 9" in restart["reason"], restart
    finally:
        hosting.delete_endpoint(ep.name)


def test_update_endpoint_switches_models_without_failing_a_request(hosting, data):
    base = hosting.create_model(hosting.upload_model("update-base", data.base))
    shifted = hosting.create_model(hosting.upload_model("update-shifted", data.shifted))
    ep = hosting.deploy([variant("main", base)])
    new_config = hosting.create_config([variant("main", shifted)])
    old_workers = worker_pids(ep.name)
    assert len(old_workers) == 1, sorted(old_workers)
    row = data.x_test[5]
    old_value, new_value = data.expected[5], data.expected_shifted[5]

    results = []  # (monotonic time, "old" | "new" | "error: ...")
    stop = threading.Event()

    def invoke_continuously():
        runtime = sagemaker_runtime_client(hosting.server.url)
        while not stop.is_set():
            try:
                inv = hosting.invoke(ep.name, csv_body(row), CSV, JSON, client=runtime)
                value = float(values(inv)[0])
                if np.isclose(value, old_value):
                    results.append((time.monotonic(), "old"))
                elif np.isclose(value, new_value):
                    results.append((time.monotonic(), "new"))
                else:
                    results.append((time.monotonic(), f"error: unexpected prediction {value}"))
            except Exception as e:  # noqa: BLE001 - every failure is recorded and asserted on
                results.append((time.monotonic(), f"error: {type(e).__name__}: {e}"))

    thread = threading.Thread(target=invoke_continuously, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + RECOVERY_S
        while sum(1 for _, r in results if r == "old") < 20:
            assert time.monotonic() < deadline and thread.is_alive(), results[-5:]
            time.sleep(0.05)
        hosting.sm.update_endpoint(EndpointName=ep.name, EndpointConfigName=new_config)
        assert hosting.describe(ep.name)["EndpointStatus"] == "Updating"
        # As on SageMaker, an endpoint being updated takes no other change until it is done.
        err = expect_client_error(hosting.sm.update_endpoint, "ValidationException",
                                  EndpointName=ep.name, EndpointConfigName=ep.config)
        assert sagemaker_arn_pattern("endpoint", ep.name).search(err.response["Error"]["Message"]), err.response
        expect_client_error(hosting.sm.update_endpoint_weights_and_capacities, "ValidationException",
                            EndpointName=ep.name,
                            DesiredWeightsAndCapacities=[{"VariantName": "main", "DesiredWeight": 2.0}])
        desc = hosting.wait_in_service(ep.name)
        in_service_at = time.monotonic()
        deadline = in_service_at + RECOVERY_S
        while sum(1 for t, r in results if r == "new" and t > in_service_at) < 20:
            assert time.monotonic() < deadline and thread.is_alive(), (
                f"no answers from the new model within {RECOVERY_S:.0f}s of InService: {results[-5:]}")
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    failures = [r for _, r in results if r.startswith("error")]
    assert not failures, f"{len(failures)} of {len(results)} requests failed during UpdateEndpoint: {failures[:5]}"
    assert desc["EndpointConfigName"] == new_config
    assert desc["LastModifiedTime"] > ep.desc["LastModifiedTime"]
    assert by_variant(desc)["main"]["CurrentInstanceCount"] == 1
    first_new = next(i for i, (_, r) in enumerate(results) if r == "new")
    assert all(r == "new" for _, r in results[first_new:][-20:]), results[-20:]
    new_workers = wait_worker_count(ep.name, 1)
    assert len(new_workers) == 1 and not (new_workers & old_workers), (
        f"workers before the update {sorted(old_workers)}, after {sorted(worker_pids(ep.name))}")
    hosting.delete_endpoint(ep.name)


def test_model_fn_failure_fails_the_endpoint_with_the_reason(hosting, data):
    uri = hosting.upload_model("broken", data.base, {"code/inference.py": HANDLERS_DIR / "broken_model_fn.py"})
    model = hosting.create_model(uri, environment={
        "SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": REPACKED_CODE_DIR})
    config = hosting.create_config([variant("only", model)])
    ep = hosting.create_endpoint(config)
    with pytest.raises(WaiterError) as info:
        hosting.sm.get_waiter("endpoint_in_service").wait(
            EndpointName=ep.name, WaiterConfig={"Delay": 1, "MaxAttempts": WAIT_ATTEMPTS})
    desc = hosting.describe(ep.name)
    assert desc["EndpointStatus"] == "Failed", f"{info.value}\n{hosting.diagnostics(ep.name)}"
    assert "Failed" in str(info.value)
    assert BROKEN_MODEL_FN_MESSAGE in desc.get("FailureReason", ""), desc.get("FailureReason")
    assert wait_worker_count(ep.name, 0) == set(), "a Failed endpoint still has workers"
    # A Failed endpoint can be deleted (and the waiter sees it go).
    hosting.delete_endpoint(ep.name)


def test_training_job_model_deploys_then_delete_stops_serving(hosting, training_server, tmp_path):
    """The model.tar.gz of a real training job (train_regression.py: a scaler + SGDRegressor
    pipeline in model.joblib), uploaded by the job to s3://, served by the default handlers."""
    jobs = TrainingJobs(training_server, hosting.sm, tmp_path / "unused-output")
    write_diabetes_csv(tmp_path / "train", "train")
    write_diabetes_csv(tmp_path / "validation", "validation")
    request = jobs.request("train_regression.py", hyperparameters={"epochs": 3, "seed": 1},
                           channels=[channel("train", tmp_path / "train"),
                                     channel("validation", tmp_path / "validation")])
    request["OutputDataConfig"]["S3OutputPath"] = f"s3://{hosting.bucket}/training"
    name = jobs.create_from(request)
    try:
        desc = jobs.wait_completed(name)
    finally:
        jobs.stop_unfinished()
    uri = desc["ModelArtifacts"]["S3ModelArtifacts"]
    assert uri == f"s3://{hosting.bucket}/training/{name}/output/model.tar.gz", uri
    local = tmp_path / "model.tar.gz"
    hosting.s3.download_file(hosting.bucket, uri[len(f"s3://{hosting.bucket}/"):], str(local))
    assert "model.joblib" in read_tarball(local)
    with tarfile.open(local) as tar:
        tar.extract("model.joblib", tmp_path / "model", filter="data")
    trained = joblib.load(tmp_path / "model" / "model.joblib")

    validation = np.loadtxt(tmp_path / "validation" / "validation-0.csv", delimiter=",", skiprows=1)
    features = validation[:10, 1:]  # label first, then the ten features

    model = hosting.create_model(uri, name=f"from-{name}"[:63].rstrip("-"))
    ep = hosting.deploy([variant("AllTraffic", model)])
    inv = hosting.invoke(ep.name, csv_body(features), CSV, JSON)
    assert inv.variant == "AllTraffic"
    assert np.allclose(values(inv), trained.predict(features)), (inv.body, trained.predict(features))
    workers = worker_pids(ep.name)
    assert len(workers) == 1, sorted(workers)

    hosting.sm.delete_endpoint(EndpointName=ep.name)
    hosting.wait_deleted(ep.name)
    expect_client_error(hosting.sm.describe_endpoint, "ValidationException", EndpointName=ep.name)
    err = expect_client_error(hosting.runtime.invoke_endpoint, "ValidationError", 400,
                              EndpointName=ep.name, Body=csv_body(features), ContentType=CSV)
    assert ep.name in err.response["Error"]["Message"], err.response["Error"]
    assert ep.name not in [e["EndpointName"] for e in hosting.sm.list_endpoints(
        NameContains=ep.name, MaxResults=100)["Endpoints"]]
    assert wait_worker_count(ep.name, 0) == set(), f"workers {sorted(workers)} outlived DeleteEndpoint"


# ---------------------------------------------------------------------------
# Server restart
# ---------------------------------------------------------------------------


def _serving_after_restart(hosting, ep, data, how):
    """Invocations succeed again within RECOVERY_S; the endpoint is InService with one worker."""
    hosting.connect()
    deadline = time.monotonic() + RECOVERY_S
    while True:
        try:
            inv = hosting.invoke(ep.name, csv_body(data.x_test), CSV, JSON)
            break
        except ClientError as e:
            if time.monotonic() > deadline:
                pytest.fail(f"{ep.name} not serving {RECOVERY_S:.0f}s after {how}: {e.response.get('Error')}\n"
                            f"{hosting.diagnostics(ep.name)}", pytrace=False)
            time.sleep(0.2)
    assert np.allclose(values(inv), data.expected), inv.body
    desc = hosting.describe(ep.name)
    assert desc["EndpointStatus"] == "InService", f"after {how}: {hosting.diagnostics(ep.name)}"
    assert desc["EndpointArn"] == ep.desc["EndpointArn"]
    assert desc["CreationTime"] == ep.desc["CreationTime"]
    assert by_variant(desc)["AllTraffic"]["CurrentInstanceCount"] == 1
    workers = wait_worker_count(ep.name, 1)
    assert len(workers) == 1, f"after {how}: {len(workers)} workers for one instance: {sorted(workers)}"


def test_in_service_endpoint_survives_server_restart(loam_server_factory, data, tmp_path):
    srv = loam_server_factory(*training_server_args())
    hosting = Hosting(srv, tmp_path / "restart")
    try:
        model = hosting.create_model(hosting.upload_model("restart", data.base))
        ep = hosting.deploy([variant("AllTraffic", model)])
        inv = hosting.invoke(ep.name, csv_body(data.x_test), CSV, JSON)
        assert np.allclose(values(inv), data.expected)
        assert len(worker_pids(ep.name)) == 1

        srv.stop()  # SIGTERM: a clean exit (asserted)
        srv.start()
        _serving_after_restart(hosting, ep, data, "a graceful restart")

        srv.kill9()  # a crash
        srv.start()
        _serving_after_restart(hosting, ep, data, "kill -9 and a restart")

        # As on SageMaker, a running endpoint does not need its model and endpoint config any
        # more: deleting them changes nothing, not even across a restart.
        hosting.sm.delete_endpoint_config(EndpointConfigName=ep.config)
        hosting.sm.delete_model(ModelName=model)
        srv.stop()
        srv.start()
        _serving_after_restart(hosting, ep, data, "deleting its model and config, then a restart")

        hosting.delete_endpoint(ep.name)
        assert wait_worker_count(ep.name, 0) == set(), "workers outlived DeleteEndpoint"
    finally:
        hosting.cleanup()
