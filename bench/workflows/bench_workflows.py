#!/usr/bin/env python3
"""Loam's workflow benchmark (scripts/bench.sh workflows): state transitions per second of Loam's
States Language interpreter against the aws-local-stepfunctions interpreter from npm, on the same
definitions in the same run, and what the Step Functions API adds on top (history persisted in
SQLite), including the latency from StartExecution to the first state.

  bench_workflows.py --loam build/loam --interpreter build/loam_bench_workflows \
      --jsonata build/loam_bench_jsonata --markdown-out F

1. In process, like for like: bench/workflows/main.cc (Loam's interpreter, history events made
   and handed over in batches as the server does, not stored) and bench/workflows/local_sfn.mjs
   (aws-local-stepfunctions) run each definition once unrecorded, then REPS times; the median
   run gives states entered per second, and the ratio is aws-local's median over Loam's.
2. JSONata: bench/workflows/jsonata_main.cc (Loam's evaluator) and jsonata_ref.mjs (jsonata-js
   2.0.6, the version Step Functions runs) evaluate the same expressions, each compiled once;
   the ratio is jsonata-js's median time per evaluation over Loam's. The counting loop also runs
   as a JSONata state machine in Loam (aws-local-stepfunctions runs no JSONata).
3. Through the server: `loam server` on a fresh data directory; boto3's `stepfunctions` client
   creates the same machines and starts executions; the server's own start and stop dates give
   the execution time (its history in SQLite included).
4. Latency: a one-Pass machine, executions started one after another; the StartExecution round
   trip, the server-recorded time from ExecutionStarted to the first state entered, and the
   client-observed time from sending StartExecution to DescribeExecution showing SUCCEEDED
   (polled every millisecond).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFINITIONS = HERE / "definitions"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_json(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])


def workloads(quick: bool) -> list[tuple[str, str, dict, str]]:
    """(label, definition file, input, what the input is)."""
    loop = 1_000 if quick else 10_000
    items = 100 if quick else 1_000
    return [
        (f"Pass/Choice loop, {loop:,} iterations", "pass_choice_loop.json", {"iterations": loop},
         f"{loop:,} iterations"),
        (f"Map over {items:,} items", "map_items.json", {"items": [{"id": i} for i in range(items)]},
         f"{items:,} items"),
    ]


def jsonata_cases(quick: bool) -> list[dict]:
    """Expressions a JSONata state machine evaluates: over a training job's Describe answer, and
    over 1,000 order items (100 with --quick)."""
    rng = random.Random(7)
    n = 100 if quick else 1_000
    items = [{"id": i, "name": f"item{i}", "price": round(rng.uniform(1, 100), 2), "quantity": rng.randint(1, 9),
              "tag": rng.choice("abc")} for i in range(n)]
    job = {"TrainingJobName": "diabetes-retrain-1", "TrainingJobStatus": "Completed",
           "FinalMetricDataList": [{"MetricName": m, "Value": v, "Timestamp": "2026-12-05T07:00:00Z"}
                                   for m, v in (("train_rmse", 0.31), ("val_rmse", 0.42), ("val_auc", 0.87))],
           "ModelArtifacts": {"S3ModelArtifacts": "s3://models/diabetes/model.tar.gz"},
           "HyperParameters": {"alpha": "0.0001", "max_iter": "200", "penalty": "l2"},
           "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10}}
    with_items = {"states": {"input": {"items": items}}}
    return [
        {"name": "Quality gate: a metric picked by a predicate, compared",
         "expr": "$states.result.FinalMetricDataList[MetricName = 'val_rmse'].Value <= $states.input.MaxRmse",
         "bindings": {"states": {"input": {"MaxRmse": 0.5}, "result": job}}, "batch": 2000},
        {"name": "Request: an object from input fields, a variable and $merge",
         "expr": "{'TrainingJobName': $states.input.prefix & '-' & $string($run), 'HyperParameters': "
                 "$merge([$states.result.HyperParameters, {'max_iter': '400'}]), "
                 "'InstanceType': $states.result.ResourceConfig.InstanceType}",
         "bindings": {"states": {"input": {"prefix": "diabetes"}, "result": job}, "run": 42}, "batch": 2000},
        {"name": f"$sum of price × quantity over {n:,} items", "expr": "$sum($states.input.items.(price * quantity))",
         "bindings": with_items, "batch": 20},
        {"name": f"Filter, order-by and reshape {n:,} items",
         "expr": "$states.input.items[price > 50]^(>price, id).{'id': id, 'total': price * quantity}",
         "bindings": with_items, "batch": 10},
        {"name": f"Group {n:,} items by tag", "expr": "$states.input.items{tag: $sum(price)}",
         "bindings": with_items, "batch": 20},
        {"name": "$map, $uppercase and $join over 100 items",
         "expr": "$join($map($states.input.items[[0..99]], function($i){ $uppercase($i.name) & '#' & $string($i.id) }), ',')",
         "bindings": with_items, "batch": 50},
        {"name": "A recursive lambda: fib(15)",
         "expr": "($fib := function($n){ $n < 2 ? $n : $fib($n - 1) + $fib($n - 2) }; $fib(15))",
         "bindings": {}, "batch": 5},
    ]


def same(a, b) -> bool:
    """Results equal as JSON, numbers within rounding (sums of floats in either order)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def jsonata(args, scratch: Path) -> tuple[list[dict], dict]:
    """Loam's evaluator against jsonata-js 2.0.6 on the same expressions, and the counting loop
    as a JSONata state machine against the JSONPath one, both in Loam."""
    cases_file = scratch / "jsonata_cases.json"
    cases_file.write_text(json.dumps(jsonata_cases(args.quick)))
    reps = str(args.reps + 1)
    loam = run_json([args.jsonata, str(cases_file), reps])["cases"]
    node = run_json([args.node, str(HERE / "jsonata_ref.mjs"), str(cases_file), reps])["cases"]
    rows = []
    for mine, theirs in zip(loam, node):
        if not same(mine["result"], theirs["result"]):
            sys.exit(f"{mine['name']}: Loam and jsonata-js disagree on the result")
        loam_s, node_s = statistics.median(mine["seconds"][1:]), statistics.median(theirs["seconds"][1:])
        rows.append({"label": mine["name"], "loam_s": loam_s, "node_s": node_s, "ratio": node_s / loam_s})
        print(f"{mine['name']}: Loam {loam_s * 1e6:.1f} µs, jsonata-js {node_s * 1e6:.1f} µs: {node_s / loam_s:.1f}x",
              flush=True)
    iterations = 1_000 if args.quick else 10_000
    input_file = scratch / "jsonata_loop.input.json"
    input_file.write_text(json.dumps({"iterations": iterations}))
    timed = {}
    for definition in ("jsonata_loop.json", "pass_choice_loop.json"):
        run = run_json([args.interpreter, str(DEFINITIONS / definition), str(input_file), reps])
        timed[definition] = (statistics.median(run["seconds"][1:]), run["states_entered"])
    (jsonata_s, states), (jsonpath_s, _) = timed["jsonata_loop.json"], timed["pass_choice_loop.json"]
    loop = {"iterations": iterations, "states": states, "jsonata_s": jsonata_s, "jsonpath_s": jsonpath_s,
            "jsonata_rate": states / jsonata_s, "jsonpath_rate": states / jsonpath_s}
    print(f"JSONata loop of {iterations:,}: {jsonata_s * 1000:.1f} ms ({states / jsonata_s:,.0f} states/s); "
          f"JSONPath {jsonpath_s * 1000:.1f} ms", flush=True)
    return rows, loop


def in_process(args, scratch: Path) -> list[dict]:
    rows = []
    for label, definition, payload, _ in workloads(args.quick):
        input_file = scratch / f"{definition}.input.json"
        input_file.write_text(json.dumps(payload))
        reps = str(args.reps + 1)
        loam = run_json([args.interpreter, str(DEFINITIONS / definition), str(input_file), reps])
        node = run_json([args.node, str(HERE / "local_sfn.mjs"), str(DEFINITIONS / definition), str(input_file), reps])
        if loam["output"] != node["output"]:
            sys.exit(f"{definition}: the interpreters disagree on the output")
        loam_s, node_s = statistics.median(loam["seconds"][1:]), statistics.median(node["seconds"][1:])
        states = loam["states_entered"]
        rows.append({"label": label, "states": states, "loam_s": loam_s, "node_s": node_s,
                     "loam_rate": states / loam_s, "node_rate": states / node_s, "ratio": node_s / loam_s})
        print(f"{label}: Loam {loam_s * 1000:.1f} ms, aws-local-stepfunctions {node_s * 1000:.1f} ms "
              f"({states:,} states): {node_s / loam_s:.1f}x", flush=True)
    return rows


class Server:
    def __init__(self, loam: str, data_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(data_dir.parent / "server.log", "wb")
        self.proc = subprocess.Popen([loam, "server", "--port", str(self.port), "--data-dir", str(data_dir),
                                      "--log-level", "warn"], stdout=self.log, stderr=self.log)
        import requests
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(self.url + "/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                sys.exit("loam server did not start")
            time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.log.close()


def through_server(args, scratch: Path) -> tuple[list[dict], dict]:
    import boto3
    from botocore.config import Config

    server = Server(args.loam, scratch / "server-data")
    try:
        sfn = boto3.client("stepfunctions", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x",
                           config=Config(retries={"total_max_attempts": 1}, max_pool_connections=4))
        rows = []
        # Step Functions keeps at most 25,000 history events: 4 per loop iteration.
        loop = 1_000 if args.quick else 5_000
        items = 100 if args.quick else 1_000
        cases = [(f"Pass/Choice loop, {loop:,} iterations", "pass_choice_loop.json", {"iterations": loop}),
                 (f"Map over {items:,} items", "map_items.json", {"items": [{"id": i} for i in range(items)]})]
        for label, definition, payload in cases:
            arn = sfn.create_state_machine(name=Path(definition).stem, definition=(DEFINITIONS / definition).read_text(),
                                           roleArn="arn:aws:iam::123456789012:role/bench")["stateMachineArn"]
            seconds, states, events = [], 0, 0
            for rep in range(args.server_reps + 1):
                execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
                while (d := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
                    time.sleep(0.005)
                if d["status"] != "SUCCEEDED":
                    sys.exit(f"{definition}: {d['status']} {d.get('error')} {d.get('cause')}")
                if rep == 0:
                    history, token = [], None
                    while True:
                        page = sfn.get_execution_history(executionArn=execution, maxResults=1000,
                                                         **({"nextToken": token} if token else {}))
                        history += page["events"]
                        token = page.get("nextToken")
                        if not token:
                            break
                    states = sum(e["type"].endswith("StateEntered") for e in history)
                    events = len(history)
                    continue
                seconds.append((d["stopDate"] - d["startDate"]).total_seconds())
            median = statistics.median(seconds)
            rows.append({"label": label, "states": states, "events": events, "seconds": median, "rate": states / median})
            print(f"{label} through the API: {median * 1000:.0f} ms, {states:,} states, {events:,} events persisted",
                  flush=True)

        hello = sfn.create_state_machine(name="hello", roleArn="arn:aws:iam::123456789012:role/bench", definition=json.dumps(
            {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "world", "End": True}}}))["stateMachineArn"]
        start_rtt, first_state, to_success = [], [], []
        for i in range(args.latency_runs + 5):
            sent = time.perf_counter()
            execution = sfn.start_execution(stateMachineArn=hello)["executionArn"]
            answered = time.perf_counter()
            while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
                time.sleep(0.001)
            done = time.perf_counter()
            if i < 5:
                continue  # warm-up
            events = sfn.get_execution_history(executionArn=execution)["events"]
            entered = next(e for e in events if e["type"] == "PassStateEntered")
            start_rtt.append((answered - sent) * 1000)
            first_state.append((entered["timestamp"] - events[0]["timestamp"]).total_seconds() * 1000)
            to_success.append((done - sent) * 1000)
        latency = {"runs": args.latency_runs,
                   "start_p50": statistics.median(start_rtt), "start_p95": percentile(start_rtt, 95),
                   "first_p50": statistics.median(first_state), "first_p95": percentile(first_state, 95),
                   "done_p50": statistics.median(to_success), "done_p95": percentile(to_success, 95)}
        print(f"StartExecution round trip p50 {latency['start_p50']:.2f} ms; ExecutionStarted -> first state "
              f"p50 {latency['first_p50']:.0f} ms; to SUCCEEDED seen p50 {latency['done_p50']:.2f} ms", flush=True)
        return rows, latency
    finally:
        server.stop()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def markdown(args, local: list[dict], served: list[dict], latency: dict, expressions: list[dict], loop: dict) -> str:
    node_version = subprocess.run([args.node, "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"Interpreter runs: {args.reps} timed after one unrecorded, median reported; API runs: {args.server_reps} "
        f"after one unrecorded; latency: {latency['runs']} executions after 5 unrecorded. "
        f"aws-local-stepfunctions 3.0.0 on Node.js {node_version}.",
        "",
        "### In process: Loam's interpreter against aws-local-stepfunctions",
        "",
        "| Workload | States entered | Loam | Loam states/s | aws-local-stepfunctions | aws-local states/s | Ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in local:
        lines.append(f"| {r['label']} | {r['states']:,} | {r['loam_s'] * 1000:.1f} ms | {r['loam_rate']:,.0f} | "
                     f"{r['node_s'] * 1000:.1f} ms | {r['node_rate']:,.0f} | **{r['ratio']:.1f}×** |")
    lines += [
        "",
        "Goal: at least 10× aws-local-stepfunctions' state transitions per second.",
        "",
        "### JSONata: Loam's evaluator against jsonata-js 2.0.6",
        "",
        "Each expression compiled once, then evaluated in batches with its `$states` bound (Loam: "
        "`loam_bench_jsonata`, C++; jsonata-js 2.0.6, the version Step Functions runs, on the same Node.js: "
        "`jsonata_ref.mjs`); time per evaluation, median of the batches. Both give the same results.",
        "",
        "| Expression | Loam | jsonata-js 2.0.6 | Ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in expressions:
        lines.append(f"| {r['label']} | {r['loam_s'] * 1e6:,.1f} µs | {r['node_s'] * 1e6:,.1f} µs | **{r['ratio']:.1f}×** |")
    lines += [
        "",
        f"The counting loop as a JSONata state machine (`definitions/jsonata_loop.json`: Output and Condition "
        f"expressions instead of Parameters and a Choice rule), {loop['iterations']:,} iterations, "
        f"{loop['states']:,} states: {loop['jsonata_s'] * 1000:.1f} ms ({loop['jsonata_rate']:,.0f} states/s), against "
        f"{loop['jsonpath_s'] * 1000:.1f} ms ({loop['jsonpath_rate']:,.0f} states/s) in JSONPath, "
        f"{loop['jsonata_s'] / loop['jsonpath_s']:.1f}× the time. aws-local-stepfunctions 3.0.0 runs no JSONata "
        "states, so this workload has no outside comparison.",
        "",
        "### Through the Step Functions API (history persisted)",
        "",
        "| Workload | States entered | History events | Execution (server's start to stop) | States/s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in served:
        lines.append(f"| {r['label']} | {r['states']:,} | {r['events']:,} | {r['seconds'] * 1000:.0f} ms | "
                     f"{r['rate']:,.0f} |")
    lines += [
        "",
        "### StartExecution to the first state",
        "",
        "| | p50 | p95 |",
        "| --- | ---: | ---: |",
        f"| StartExecution round trip (boto3) | {latency['start_p50']:.2f} ms | {latency['start_p95']:.2f} ms |",
        f"| ExecutionStarted → PassStateEntered (server's event times, 1 ms resolution) | {latency['first_p50']:.0f} ms "
        f"| {latency['first_p95']:.0f} ms |",
        f"| StartExecution sent → SUCCEEDED seen by DescribeExecution (1 ms polling) | {latency['done_p50']:.2f} ms | "
        f"{latency['done_p95']:.2f} ms |",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loam", required=True)
    parser.add_argument("--interpreter", required=True, help="build/loam_bench_workflows")
    parser.add_argument("--jsonata", required=True, help="build/loam_bench_jsonata")
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--scratch")
    parser.add_argument("--markdown-out")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--server-reps", type=int, default=3)
    parser.add_argument("--latency-runs", type=int, default=50)
    args = parser.parse_args()
    if args.quick:
        args.reps, args.server_reps, args.latency_runs = 2, 1, 10
    if not (HERE / "node_modules" / "aws-local-stepfunctions").is_dir():
        sys.exit("bench/workflows/node_modules lacks aws-local-stepfunctions: cd bench/workflows && npm ci")
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="loam-bench-workflows-"))
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    local = in_process(args, scratch)
    expressions, loop = jsonata(args, scratch)
    served, latency = through_server(args, scratch)
    text = markdown(args, local, served, latency, expressions, loop)
    if args.markdown_out:
        Path(args.markdown_out).write_text(text)
    else:
        print(text)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
