"""Crash durability: everything acknowledged before kill -9 is there after restart."""

import json
import os
import uuid


def normalized_run(run):
    """GetRun payload with its repeated fields sorted (order is not part of the contract)."""
    run = json.loads(json.dumps(run))
    data = run.setdefault("data", {})
    for field in ("metrics", "params", "tags"):
        data[field] = sorted(data.get(field, []), key=lambda e: json.dumps(e, sort_keys=True))
    inputs = run.get("inputs", {}).get("dataset_inputs", [])
    run["inputs"] = sorted(inputs, key=lambda e: json.dumps(e, sort_keys=True))
    return run


def snapshot(srv, exp_ids, run_ids, metric_keys, artifact_paths):
    """Everything observable about the given entities, in comparable form."""
    api = srv.api
    snap = {"experiments": {}, "runs": {}, "history": {}, "search": {}, "artifacts": {}}
    for eid in exp_ids:
        exp = api.get_experiment(eid)
        exp["tags"] = sorted(exp.get("tags", []), key=lambda t: t["key"])
        snap["experiments"][eid] = exp
        body = api.search_runs([eid], run_view_type="ALL", order_by=["attributes.start_time ASC"])
        snap["search"][eid] = [r["info"]["run_id"] for r in body.get("runs", [])]
    for rid in run_ids:
        snap["runs"][rid] = normalized_run(api.get_run(rid))
        listing = api.ok("GET", "artifacts/list", params={"run_id": rid})
        snap["artifacts"][f"list:{rid}"] = sorted(listing.get("files", []), key=lambda f: f["path"])
        for key in metric_keys:
            hist = api.ok("GET", "metrics/get-history", params={"run_id": rid, "metric_key": key})
            snap["history"][f"{rid}:{key}"] = sorted(
                (m["step"], m["timestamp"], str(m["value"])) for m in hist.get("metrics", [])
            )
    for path in artifact_paths:
        resp = srv.http.get(f"{srv.url}/api/2.0/mlflow-artifacts/artifacts/{path}", timeout=30)
        assert resp.status_code == 200, resp.text
        snap["artifacts"][path] = resp.content
    return snap


def test_everything_acknowledged_survives_kill9(fresh_server):
    """Experiments, runs, metrics, params, tags, inputs, models and artifacts survive SIGKILL."""
    srv = fresh_server
    api = srv.api

    exp_id = api.create_experiment("durable", tags=[{"key": "team", "value": "core"}])
    api.ok("POST", "experiments/set-experiment-tag", json={"experiment_id": exp_id, "key": "k", "value": "v\nmulti"})
    renamed_id = api.create_experiment("before-rename")
    api.ok("POST", "experiments/update", json={"experiment_id": renamed_id, "new_name": "after-rename"})
    deleted_exp = api.create_experiment("deleted-exp")
    api.ok("POST", "experiments/delete", json={"experiment_id": deleted_exp})

    run_a = api.create_run(exp_id, run_name="a", start_time=1000, user_id="u",
                           tags=[{"key": "source", "value": "e2e"}])["info"]["run_id"]
    for step in range(20):
        api.ok("POST", "runs/log-metric",
               json={"run_id": run_a, "key": "loss", "value": 1.0 / (step + 1), "timestamp": 5000 + step, "step": step})
    api.ok("POST", "runs/log-metric", json={"run_id": run_a, "key": "nan", "value": "NaN", "timestamp": 1})
    api.ok("POST", "runs/log-parameter", json={"run_id": run_a, "key": "lr", "value": "0.01"})
    api.ok("POST", "runs/log-batch", json={
        "run_id": run_a,
        "metrics": [{"key": "acc", "value": 0.5 + i / 100, "timestamp": 6000 + i, "step": i} for i in range(50)],
        "params": [{"key": f"p{i}", "value": f"v{i}"} for i in range(30)],
        "tags": [{"key": f"t{i}", "value": "x" * i} for i in range(30)],
    })
    api.ok("POST", "runs/set-tag", json={"run_id": run_a, "key": "doomed", "value": "1"})
    api.ok("POST", "runs/delete-tag", json={"run_id": run_a, "key": "doomed"})
    api.ok("POST", "runs/log-inputs", json={"run_id": run_a, "datasets": [{
        "dataset": {"name": "ds", "digest": "abc123", "source_type": "local", "source": "{}"},
        "tags": [{"key": "mlflow.data.context", "value": "train"}],
    }]})
    model = {"artifact_path": "model", "flavors": {"python_function": {}},
             "utc_time_created": "2024-01-01 00:00:00.000000", "run_id": run_a}
    api.ok("POST", "runs/log-model", json={"run_id": run_a, "model_json": json.dumps(model)})

    run_info = api.get_run(run_a)["info"]
    rel = run_info["artifact_uri"][len("mlflow-artifacts:/"):].lstrip("/")
    blob = os.urandom(300_000)
    artifact_paths = [f"{rel}/weights.bin", f"{rel}/nested/dir/notes.txt"]
    for path, content in zip(artifact_paths, (blob, b"notes\n")):
        resp = srv.http.put(f"{srv.url}/api/2.0/mlflow-artifacts/artifacts/{path}", data=content, timeout=30)
        assert resp.status_code == 200, resp.text

    run_b = api.create_run(exp_id, run_name="b", start_time=2000)["info"]["run_id"]
    api.ok("POST", "runs/update", json={"run_id": run_b, "status": "FINISHED", "end_time": 3000})
    run_c = api.create_run(exp_id, run_name="c", start_time=3000)["info"]["run_id"]
    api.ok("POST", "runs/delete", json={"run_id": run_c})

    args = ([exp_id, renamed_id, deleted_exp], [run_a, run_b, run_c], ["loss", "acc", "nan"], artifact_paths)
    before = snapshot(srv, *args)
    assert len(before["history"][f"{run_a}:loss"]) == 20
    assert len(before["history"][f"{run_a}:acc"]) == 50

    srv.kill9()
    srv.start()

    after = snapshot(srv, *args)
    assert after["artifacts"][artifact_paths[0]] == blob
    for section in before:
        assert after[section] == before[section], f"{section} changed across kill -9"
    found = api.ok("GET", "experiments/get-by-name", params={"experiment_name": "after-rename"})
    assert found["experiment"]["experiment_id"] == renamed_id

    # The restarted server keeps working and never reuses ids.
    new_exp = api.create_experiment("after-restart")
    assert new_exp.isdigit() and new_exp not in (exp_id, renamed_id, deleted_exp, "0")
    new_run = api.create_run(exp_id)["info"]["run_id"]
    assert new_run not in (run_a, run_b, run_c)
    api.expect_error(api("POST", "experiments/create", json={"name": "durable"}), 400, "RESOURCE_ALREADY_EXISTS")
    api.expect_error(
        api("POST", "runs/log-parameter", json={"run_id": run_a, "key": "lr", "value": "changed"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_rapid_acknowledged_writes_survive_kill9(fresh_server):
    """Each acknowledged write, even the very last one before the crash, is durable."""
    srv = fresh_server
    api = srv.api
    exp_id = api.create_experiment(f"rapid-{uuid.uuid4().hex}")
    run_id = api.create_run(exp_id)["info"]["run_id"]
    for i in range(150):
        api.ok("POST", "runs/log-metric",
               json={"run_id": run_id, "key": "m", "value": float(i), "timestamp": 1000 + i, "step": i})
    api.ok("POST", "runs/log-parameter", json={"run_id": run_id, "key": "last", "value": "yes"})
    srv.kill9()  # immediately after the final acknowledgement
    srv.start()
    hist = api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
    assert sorted(m["step"] for m in hist["metrics"]) == list(range(150))
    run = api.get_run(run_id)
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"last": "yes"}
    assert {m["key"]: m["value"] for m in run["data"]["metrics"]} == {"m": 149.0}


def test_survives_repeated_crashes(fresh_server):
    """Data written across several crash/restart cycles accumulates correctly."""
    srv = fresh_server
    api = srv.api
    exp_id = api.create_experiment("cycles")
    run_ids = []
    for cycle in range(3):
        run_id = api.create_run(exp_id, start_time=cycle)["info"]["run_id"]
        api.ok("POST", "runs/log-batch", json={
            "run_id": run_id,
            "metrics": [{"key": "cycle", "value": cycle, "timestamp": 1, "step": 0}],
            "params": [{"key": "cycle", "value": str(cycle)}],
        })
        run_ids.append(run_id)
        srv.kill9()
        srv.start()
    body = api.search_runs([exp_id], order_by=["attributes.start_time ASC"])
    assert [r["info"]["run_id"] for r in body["runs"]] == run_ids
    for cycle, run_id in enumerate(run_ids):
        run = api.get_run(run_id)
        assert run["data"]["params"] == [{"key": "cycle", "value": str(cycle)}]
        assert run["data"]["metrics"][0]["value"] == cycle


def test_graceful_restart_preserves_data(fresh_server):
    """SIGTERM exits 0 and a restart on the same data dir sees all data."""
    srv = fresh_server
    api = srv.api
    exp_id = api.create_experiment("graceful")
    run_id = api.create_run(exp_id)["info"]["run_id"]
    api.ok("POST", "runs/log-metric", json={"run_id": run_id, "key": "m", "value": 2.5, "timestamp": 1})
    before = normalized_run(api.get_run(run_id))
    assert srv.stop() == 0
    srv.start()
    assert normalized_run(api.get_run(run_id)) == before
    assert api.get_experiment(exp_id)["name"] == "graceful"


def test_concurrent_writers_lose_nothing_acknowledged_on_kill9(fresh_server):
    """Eight writers log batches as fast as they can; the server is killed mid-stream.

    Every batch whose HTTP 200 reached its writer must be there after the restart, whole
    (log-batch is atomic: no batch may be there in part).
    """
    import threading
    import time

    import requests

    srv = fresh_server
    exp_id = srv.api.create_experiment("concurrent-durability")
    run_ids = [srv.api.create_run(exp_id, start_time=1)["info"]["run_id"] for _ in range(8)]
    acknowledged = {run_id: [] for run_id in run_ids}
    stop = threading.Event()

    def writer(run_id):
        session = requests.Session()
        batch = 0
        while not stop.is_set():
            metrics = [{"key": f"m{k}", "value": batch + k / 10, "timestamp": 1000 + batch, "step": batch}
                       for k in range(50)]
            try:
                resp = session.post(f"{srv.url}/api/2.0/mlflow/runs/log-batch",
                                    json={"run_id": run_id, "metrics": metrics}, timeout=10)
            except requests.RequestException:
                return  # the server went away mid-request: not acknowledged
            if resp.status_code == 200:
                acknowledged[run_id].append(batch)
            batch += 1

    threads = [threading.Thread(target=writer, args=(r,)) for r in run_ids]
    for t in threads:
        t.start()
    time.sleep(1.5)
    srv.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert sum(len(v) for v in acknowledged.values()) > 0, "no batch was acknowledged before the kill"

    srv.start()
    for run_id, batches in acknowledged.items():
        for k in (0, 49):
            history = srv.api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": f"m{k}"})
            steps = sorted(m["step"] for m in history.get("metrics", []))
            # Everything acknowledged is there; anything beyond it is at most the one batch in
            # flight at the kill, and then whole (its first and last key both present).
            assert steps[: len(batches)] == sorted(batches), (run_id, k, len(batches), len(steps))
            assert len(steps) <= len(batches) + 1
        first = srv.api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "m0"})
        last = srv.api.ok("GET", "metrics/get-history", params={"run_id": run_id, "metric_key": "m49"})
        assert len(first.get("metrics", [])) == len(last.get("metrics", [])), "a batch was applied in part"
