"""loam_bench_jobs: the overhead of starting a SageMaker training job on Loam (docs/benchmarks.md).

Starts the real ``loam server`` (once per sandbox mode, on a fresh data directory) and drives it
with the real boto3 SageMaker client, as users do:

1. **One no-op job at a time** (``--runs`` samples, after ``--warmup`` unrecorded ones), each
   interleaved with one run of the floor: ``<python> -c '<the no-op's first line>'`` started
   directly with ``subprocess``, the same interpreter the server runs jobs with (``--python``).
   With the sandbox on, a second floor runs the same command inside bubblewrap with the flags
   Loam's sandbox uses, to separate what bubblewrap itself costs.

   Loam times, all from t0 = just before ``create_training_job`` is called:
     - first line: the wall-clock time the script's first statement prints (bench/jobs/code/noop.py,
       read back from ``GET /loam/v1/training-jobs/<name>/logs``) minus t0;
     - completed (client): when ``DescribeTrainingJob`` first answers ``Completed``, polled every
       ``--poll-ms`` ms over one keep-alive connection (raw HTTP, not boto3, so that polling costs
       the client little CPU on a shared machine) minus t0;
     - completed (server): ``TrainingEndTime - CreationTime`` from that Describe (no polling in it,
       but not the request's way in either).
   Floor times, from t0 = just before ``subprocess.Popen``: first line as above; exit = when
   ``wait()`` returns. Overhead = Loam p50 - floor p50. Goal: below 100 ms.

   The phases of each job come from ``SecondaryStatusTransitions`` (Starting, Downloading,
   Training, Uploading, Completed), the script's first line and the client's clocks, all on
   the same machine clock (Loam stamps milliseconds).

2. **``--queued`` no-op jobs created back to back** (one boto3 client, sequentially) on a server
   with the default ``--job-cpus`` (all CPUs; a ``local`` instance takes one, so as many jobs run
   at once as there are CPUs). Wall time from the first create to the moment ``ListTrainingJobs``
   (polled every 20 ms) shows them all Completed, set against the same number of floor runs,
   sequential and with as many at once as the scheduler runs. CPU: the server process's own and
   its children's (supervisors, bubblewrap, the interpreters), from /proc.

Usage: .venv/bin/python bench/jobs/bench_jobs.py --loam build/loam --scratch build/bench-data/jobs
       [--quick] [--runs N] [--queued N] [--sandbox none,auto] [--markdown-out F]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))

from loam_bench import (CLK_TCK, REGION, BenchError, OtherLoad, Server, boto_client, fresh_dir,  # noqa: E402
                        goals_section, md_head, pct, write_report)

import boto3  # noqa: E402
import botocore  # noqa: E402

HERE = Path(__file__).resolve().parent
CODE_DIR = HERE / "code"
PROGRAM = "noop.py"
MARKER = "loam-bench-first-line"
# The no-op's first statement, verbatim: the floor runs exactly this.
FIRST_LINE_CODE = (CODE_DIR / PROGRAM).read_text().splitlines()[0].split("  #")[0]
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000"
TERMINAL = ("Completed", "Failed", "Stopped")
PHASES = ("Starting", "Downloading", "Training", "Uploading", "Completed")
GOAL_MS = 100.0


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def ms(x):
    return f"{x:.1f}"


def count(n):
    return f"{n:,}"


# ---------------------------------------------------------------------------
# The server's clients
# ---------------------------------------------------------------------------


class RawClient:
    """One keep-alive HTTP connection speaking the AWS JSON protocol (for tight polling)."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, operation, body):
        payload = json.dumps(body).encode()
        self.conn.request("POST", "/", body=payload, headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"SageMaker.{operation}",
        })
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise BenchError(f"{operation} -> HTTP {resp.status}: {data[:1000]!r}")
        return json.loads(data)

    def get(self, path):
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise BenchError(f"GET {path} -> HTTP {resp.status}: {data[:1000]!r}")
        return data.decode("utf-8", "replace")

    def describe(self, name):
        return self.call("DescribeTrainingJob", {"TrainingJobName": name})

    def log(self, name):
        return self.get(f"/loam/v1/training-jobs/{name}/logs?host=algo-1")


def sagemaker_client(url):
    return boto_client("sagemaker", url, read_timeout=60)


# ---------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------


class JobFactory:
    """Script-mode requests shaped like the SageMaker Python SDK's, named as Estimator.fit() names
    jobs (<base>-YYYY-MM-DD-HH-MM-SS-mmm, so all of a base share one MLflow experiment)."""

    def __init__(self, scratch: Path):
        self.output = scratch / "output"
        self.channel = scratch / "channel"
        self.output.mkdir(parents=True, exist_ok=True)
        self.channel.mkdir(parents=True, exist_ok=True)
        (self.channel / "train.csv").write_text("x,y\n1,2\n")
        self.last_ms = 0

    def name(self, base):
        now_ms = max(int(time.time() * 1000), self.last_ms + 1)  # unique even when created back to back
        self.last_ms = now_ms
        t = dt.datetime.fromtimestamp(now_ms / 1000, dt.timezone.utc)
        return f"{base}-{t:%Y-%m-%d-%H-%M-%S}-{now_ms % 1000:03d}"

    def request(self, name):
        return {
            "TrainingJobName": name,
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "RoleArn": ROLE_ARN,
            "InputDataConfig": [{
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": self.channel.as_uri(),
                                                "S3DataDistributionType": "FullyReplicated"}},
                "ContentType": "text/csv", "CompressionType": "None"}],
            "OutputDataConfig": {"S3OutputPath": self.output.as_uri()},
            "ResourceConfig": {"InstanceType": "local", "InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            "HyperParameters": {
                "sagemaker_program": json.dumps(PROGRAM),
                "sagemaker_submit_directory": json.dumps(CODE_DIR.as_uri()),
                "sagemaker_container_log_level": "20",
                "sagemaker_region": json.dumps(REGION),
                "sagemaker_job_name": json.dumps(name),
            },
            "EnableNetworkIsolation": False,
            "EnableInterContainerTrafficEncryption": False,
            "EnableManagedSpotTraining": False,
        }


def first_line_time(text, what):
    m = re.search(rf"{MARKER} (\d+\.\d+)", text)
    if not m:
        raise BenchError(f"{what}: no '{MARKER}' line in its output:\n{text[-2000:]}")
    return float(m.group(1))


def transitions(desc):
    return {t["Status"]: float(t["StartTime"]) for t in desc.get("SecondaryStatusTransitions", [])}


def run_job(boto, raw, jobs: JobFactory, base, poll_s):
    """One no-op job, timed; returns a dict of ms figures and phase boundaries."""
    name = jobs.name(base)
    request = jobs.request(name)
    t0 = time.time()
    boto.create_training_job(**request)
    t_returned = time.time()
    while True:
        desc = raw.describe(name)
        t_seen = time.time()
        if desc["TrainingJobStatus"] in TERMINAL:
            break
        if t_seen - t0 > 120:
            raise BenchError(f"job {name} not finished after 120 s: {desc.get('SecondaryStatus')}")
        time.sleep(poll_s)
    log = raw.log(name)
    if desc["TrainingJobStatus"] != "Completed":
        raise BenchError(f"job {name} ended {desc['TrainingJobStatus']}: {desc.get('FailureReason')}\n{log[-2000:]}")
    t_first = first_line_time(log, f"job {name}")
    tr = transitions(desc)
    created, ended = float(desc["CreationTime"]), float(desc["TrainingEndTime"])
    return {
        "name": name,
        "create_call": (t_returned - t0) * 1000,
        "first_line": (t_first - t0) * 1000,
        "completed_client": (t_seen - t0) * 1000,
        "completed_server": (ended - created) * 1000,
        # phase boundaries, seconds since t0
        "t0": t0,
        "bounds": {"t0": 0.0, "created": created - t0, **{k: v - t0 for k, v in tr.items()},
                   "first_line": t_first - t0, "seen": t_seen - t0},
    }


# ---------------------------------------------------------------------------
# The floor
# ---------------------------------------------------------------------------


def run_floor(argv):
    t0 = time.time()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out = p.stdout.read()
    rc = p.wait()
    t_exit = time.time()
    text = out.decode("utf-8", "replace")
    if rc != 0:
        raise BenchError(f"floor {argv} exited {rc}:\n{text[-2000:]}")
    return {"first_line": (first_line_time(text, "floor") - t0) * 1000, "exit": (t_exit - t0) * 1000}


def floor_argv(python):
    return [python, "-c", FIRST_LINE_CODE]


def bwrap_floor_argv(bwrap, python, hidden_dir: Path, ml_root: Path):
    """The floor inside bubblewrap with the flags Loam's sandbox passes (src/executors/local_executor.cc)."""
    return [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--die-with-parent",
            "--tmpfs", str(hidden_dir), "--tmpfs", "/opt", "--bind", str(ml_root), "/opt/ml",
            "--chdir", "/opt/ml", "--"] + floor_argv(python)


def children_cpu_s():
    t = os.times()
    return t.children_user + t.children_system


# ---------------------------------------------------------------------------
# The phases
# ---------------------------------------------------------------------------

# (label, from boundary, to boundary, what happens there)
PHASE_ROWS = [
    ("CreateTrainingJob in flight until CreationTime", "t0", "created",
     "boto3 builds and sends the request; HTTP, botocore-model validation, request checks"),
    ("Starting", "created", "Downloading",
     "MLflow experiment/run, job row, worker thread, admission, persist"),
    ("Downloading", "Downloading", "Training",
     "MLflow run/params, staging (dirs, config JSON, channel, code copy), spawn supervisor, persist"),
    ("Training until the script's first line", "Training", "first_line",
     "supervisor fork/exec, sandbox, interpreter start-up"),
    ("script's first line until Uploading", "first_line", "Uploading",
     "interpreter exit, supervisor exit file, exit noticed, log/metrics flush, persist"),
    ("Uploading", "Uploading", "Completed", "model.tar.gz + output.tar.gz, final persist"),
    ("Completed until the client sees it", "Completed", "seen",
     "final commit, MLflow run update, polling granularity"),
]


def phase_table(samples):
    rows = []
    for label, a, b, what in PHASE_ROWS:
        vals = [(s["bounds"][b] - s["bounds"][a]) * 1000 for s in samples]
        rows.append((label, statistics.fmean(vals), pct(vals, 50), pct(vals, 90), what))
    return rows


def server_log_times(server: Server):
    """{job: {event: ts}} for the server's own per-job log events (microsecond stamps)."""
    out = {}
    for e in server.events():
        if e.get("event") in ("jobs.created", "jobs.started", "jobs.finished") and e.get("kind") == "training":
            out.setdefault(e["job"], {})[e["event"]] = float(e["ts"])
    return out


# (label, from, to, what): finer cuts from the server's log lines, within the phases above.
LOG_ROWS = [
    ("CreationTime until 'jobs.created' logged", "created", "jobs.created",
     "experiment lookup, MLflow run + status, job row insert (part of Starting)"),
    ("'jobs.created' until Downloading", "jobs.created", "Downloading",
     "worker thread start, job load, admission, persist (rest of Starting)"),
    ("Training stamped until 'jobs.started' logged", "Training", "jobs.started",
     "one persist of the job document (UpdateJob: load, change, write)"),
    ("Completed stamped until 'jobs.finished' logged", "Completed", "jobs.finished",
     "final persist, model tag and MLflow run update"),
]


def log_phase_table(samples):
    rows = []
    for label, a, b, what in LOG_ROWS:
        vals = [(s["bounds"][b] - s["bounds"][a]) * 1000 for s in samples if a in s["bounds"] and b in s["bounds"]]
        if vals:
            rows.append((label, statistics.fmean(vals), pct(vals, 50), pct(vals, 90), what))
    return rows


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


def executor(server: Server):
    """The job executor the server reported at start-up (its 'jobs.executor' log line)."""
    return server.startup.get("jobs.executor", {})


def bench_mode(args, mode, jobs: JobFactory, scratch: Path):
    """Single-job samples and the queued batch for one --sandbox mode."""
    data_dir = scratch / f"data-{mode}"
    server = Server(args.loam, data_dir, ["--python", args.python, "--sandbox", mode])
    result = {"mode": mode, "sandbox": executor(server).get("sandbox", "?"),
              "job_cpus": executor(server).get("cpus", "?")}
    try:
        boto = sagemaker_client(server.url)
        raw = RawClient(server.port)
        poll_s = args.poll_ms / 1000.0
        use_bwrap = result["sandbox"] == "bubblewrap"
        bwrap_ml = scratch / "bwrap-floor-ml"
        bwrap_ml.mkdir(exist_ok=True)
        floor = floor_argv(args.python)
        bfloor = bwrap_floor_argv(shutil.which("bwrap") or "/usr/bin/bwrap", args.python, data_dir, bwrap_ml)

        print(f"[{mode}] server pid {server.pid} port {server.port}, sandbox {result['sandbox']}, "
              f"job cpus {result['job_cpus']}", flush=True)
        for _ in range(args.warmup):
            run_floor(floor)
            if use_bwrap:
                run_floor(bfloor)
            run_job(boto, raw, jobs, "loam-bench-warmup", poll_s)

        floors, bfloors, loams = [], [], []
        for i in range(args.runs):
            floors.append(run_floor(floor))
            if use_bwrap:
                bfloors.append(run_floor(bfloor))
            loams.append(run_job(boto, raw, jobs, "loam-bench-noop", poll_s))
            if (i + 1) % 10 == 0 or i + 1 == args.runs:
                print(f"[{mode}] {i + 1}/{args.runs} single jobs: last first line "
                      f"{loams[-1]['first_line']:.1f} ms, completed {loams[-1]['completed_client']:.1f} ms "
                      f"(floor {floors[-1]['first_line']:.1f} / {floors[-1]['exit']:.1f} ms)", flush=True)
        log_times = server_log_times(server)
        for s in loams:
            for event, ts in log_times.get(s["name"], {}).items():
                s["bounds"][event] = ts - s["t0"]
        result.update(floors=floors, bfloors=bfloors, loams=loams)
        result["queued"] = bench_queued(args, server, boto, raw, jobs, floor)
    finally:
        server.stop()
    if not args.keep_data:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def bench_queued(args, server: Server, boto, raw, jobs: JobFactory, floor):
    n = args.queued
    if n <= 0:
        return None
    slots = int(executor(server).get("cpus") or os.cpu_count() or 1)
    base = f"loam-bench-queued-{uuid.uuid4().hex[:6]}"
    requests = [jobs.request(jobs.name(base)) for _ in range(n)]
    names = [r["TrainingJobName"] for r in requests]

    own0, children0 = server.cpu_ticks()
    t0 = time.time()
    for r in requests:
        boto.create_training_job(**r)
    t_created = time.time()
    done = {}
    while True:
        summaries, token = [], None
        while True:
            body = {"NameContains": base, "MaxResults": 100}
            if token:
                body["NextToken"] = token
            page = raw.call("ListTrainingJobs", body)
            summaries += page.get("TrainingJobSummaries", [])
            token = page.get("NextToken")
            if not token:
                break
        t_seen = time.time()
        bad = [s for s in summaries if s["TrainingJobStatus"] in ("Failed", "Stopped")]
        if bad:
            name = bad[0]["TrainingJobName"]
            raise BenchError(f"queued job {name} ended {bad[0]['TrainingJobStatus']}: "
                             f"{raw.describe(name).get('FailureReason')}")
        done = {s["TrainingJobName"]: s for s in summaries if s["TrainingJobStatus"] == "Completed"}
        if len(done) == n:
            break
        if t_seen - t0 > 60 + 5 * n:
            raise BenchError(f"queued jobs: only {len(done)}/{n} Completed after {t_seen - t0:.0f} s")
        time.sleep(0.02)
    own1, children1 = server.cpu_ticks()
    total = t_seen - t0
    server_span = max(float(s["TrainingEndTime"]) for s in done.values()) - min(
        float(s["CreationTime"]) for s in done.values())

    # Per job, after the fact: time queued (Starting) and time from admission to Completed.
    queued_s, running_s = [], []
    for name in names:
        tr = transitions(raw.describe(name))
        queued_s.append(tr["Downloading"] - tr["Starting"])
        running_s.append(tr["Completed"] - tr["Downloading"])

    # The floor: the same number of runs, one after another, then `slots` at a time.
    c0 = children_cpu_s()
    f0 = time.time()
    floor_runs = [run_floor(floor) for _ in range(n)]
    floor_seq = time.time() - f0
    floor_cpu = children_cpu_s() - c0
    f0 = time.time()
    with ThreadPoolExecutor(max_workers=slots) as pool:
        list(pool.map(lambda _: run_floor(floor), range(n)))
    floor_par = time.time() - f0
    print(f"[queued] {n} jobs: {total:.2f} s ({n / total:.1f} jobs/s); floor {floor_seq:.2f} s sequential, "
          f"{floor_par:.2f} s {slots} at a time", flush=True)
    return {
        "n": n, "slots": slots, "create_all": t_created - t0, "total": total, "server_span": server_span,
        "queued_ms": [x * 1000 for x in queued_s], "running_ms": [x * 1000 for x in running_s],
        "server_cpu_ms": (own1 - own0) / CLK_TCK * 1000, "children_cpu_ms": (children1 - children0) / CLK_TCK * 1000,
        "floor_seq": floor_seq, "floor_par": floor_par, "floor_cpu_ms": floor_cpu * 1000,
        "floor_exit_ms": [r["exit"] for r in floor_runs],
    }


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

MODE_LABEL = {"none": "no sandbox", "bubblewrap": "bubblewrap"}


def mode_label(r):
    if r["mode"] == "none":
        return "no sandbox"
    if r["sandbox"] == "bubblewrap":
        return f"bubblewrap (--sandbox {r['mode']})"
    return f"--sandbox {r['mode']} (bubblewrap unusable: none)"


def markdown(args, results, wall_s, other_cpu_s):
    out = []
    w = out.append
    goals = []
    for r in results:
        f_first = pct([s["first_line"] for s in r["floors"]], 50)
        f_exit = pct([s["exit"] for s in r["floors"]], 50)
        l_first = pct([s["first_line"] for s in r["loams"]], 50)
        l_done = pct([s["completed_client"] for s in r["loams"]], 50)
        r["overhead_first"] = l_first - f_first
        r["overhead_done"] = l_done - f_exit
        goals.append((f"CreateTrainingJob → script's first line, above the floor (p50), {mode_label(r)}",
                      r["overhead_first"]))
        goals.append((f"CreateTrainingJob → Completed seen by the client, above the floor's exit (p50), "
                      f"{mode_label(r)}", r["overhead_done"]))
    out += goals_section((label, f"< {GOAL_MS:.0f} ms", f"{ms(value)} ms", "yes" if value < GOAL_MS else "**no**")
                         for label, value in goals)

    # 1. single jobs
    w(f"### 1. One no-op job at a time ({args.runs} jobs per mode, each right after one floor run)")
    w("")
    out += md_head("Measure (ms from t0)", *(c for r in results for c in (f"{mode_label(r)} p50", "p90")))

    def row(label, key_fn, bold=False):
        line = f"| {'**' + label + '**' if bold else label} |"
        for r in results:
            vals = key_fn(r)
            if vals is None:
                line += " | |"
            elif isinstance(vals, tuple):
                line += f" {'**' + ms(vals[0]) + '**' if bold else ms(vals[0])} | {ms(vals[1])} |"
            else:
                line += f" {ms(pct(vals, 50))} | {ms(pct(vals, 90))} |"
        w(line)

    row("Floor: `python -c` started → its first line", lambda r: [s["first_line"] for s in r["floors"]])
    row("Floor: `python -c` started → exited", lambda r: [s["exit"] for s in r["floors"]])
    if any(r["bfloors"] for r in results):
        row("Floor inside bubblewrap (Loam's flags) → first line",
            lambda r: [s["first_line"] for s in r["bfloors"]] if r["bfloors"] else None)
        row("Floor inside bubblewrap (Loam's flags) → exited",
            lambda r: [s["exit"] for s in r["bfloors"]] if r["bfloors"] else None)
    row("Loam: `create_training_job` returned", lambda r: [s["create_call"] for s in r["loams"]])
    row("Loam: → the script's first line", lambda r: [s["first_line"] for s in r["loams"]])
    row(f"Loam: → Completed, seen by the client (Describe every {args.poll_ms:g} ms)",
        lambda r: [s["completed_client"] for s in r["loams"]])
    row("Loam: TrainingEndTime − CreationTime (server clock, no polling)",
        lambda r: [s["completed_server"] for s in r["loams"]])

    def diff(a_fn, b_fn):
        return lambda r: (pct(a_fn(r), 50) - pct(b_fn(r), 50), pct(a_fn(r), 90) - pct(b_fn(r), 90))

    row("Overhead: first line, Loam − floor", diff(lambda r: [s["first_line"] for s in r["loams"]],
                                                   lambda r: [s["first_line"] for s in r["floors"]]), bold=True)
    row("Overhead: Completed (client) − floor exit", diff(lambda r: [s["completed_client"] for s in r["loams"]],
                                                          lambda r: [s["exit"] for s in r["floors"]]), bold=True)
    row("Overhead: TrainingEndTime − CreationTime − floor exit",
        diff(lambda r: [s["completed_server"] for s in r["loams"]], lambda r: [s["exit"] for s in r["floors"]]))
    w("")
    w("t0 is taken just before the call (`create_training_job`, `subprocess.Popen`); \"first line\" is the "
      "`time.time()` the script's first statement prints; overhead rows are differences of the percentiles. "
      "Jobs: `InstanceType: local`, one instance, one one-file channel, script mode "
      "(`sagemaker_program`, a `file://` `sagemaker_submit_directory`), a `file://` `S3OutputPath`.")
    w("")

    # 2. phases
    w("### 2. Where the time goes (per phase, ms; the means add up to the mean time to Completed seen)")
    w("")
    phase_head = md_head("Phase", *(c for r in results for c in (f"{mode_label(r)} mean", "p50", "p90")),
                         "What happens")
    out += phase_head
    tables = [phase_table(r["loams"]) for r in results]
    for i, (label, _, _, _, what) in enumerate(tables[0]):
        line = f"| {label} |"
        for t in tables:
            line += f" {ms(t[i][1])} | {ms(t[i][2])} | {ms(t[i][3])} |"
        w(line + f" {what} |")
    line = "| **Total: t0 → Completed seen** |"
    for r in results:
        vals = [s["completed_client"] for s in r["loams"]]
        line += f" **{ms(statistics.fmean(vals))}** | {ms(pct(vals, 50))} | {ms(pct(vals, 90))} |"
    w(line + " |")
    w("")
    log_tables = [log_phase_table(r["loams"]) for r in results]
    if all(log_tables):
        w("Finer cuts inside those phases, from the server's own log lines (microsecond stamps) against the "
          "transitions' (millisecond) stamps:")
        w("")
        out += phase_head
        for i, (label, _, _, _, what) in enumerate(log_tables[0]):
            line = f"| {label} |"
            for t in log_tables:
                line += f" {ms(t[i][1])} | {ms(t[i][2])} | {ms(t[i][3])} |" if i < len(t) else " | | |"
            w(line + f" {what} |")
        w("")

    # 3. queued
    queued = [r for r in results if r.get("queued")]
    if queued:
        n = queued[0]["queued"]["n"]
        w(f"### 3. {n} no-op jobs created back to back")
        w("")
        w("| |" + "".join(f" {mode_label(r)} |" for r in queued))
        w("| --- |" + " --- |" * len(queued))

        def qrow(label, fn):
            w(f"| {label} |" + "".join(f" {fn(r['queued'])} |" for r in queued))

        qrow("Jobs run at once (default `--job-cpus`: all CPUs; `local` takes 1)", lambda q: q["slots"])
        qrow(f"{n} `create_training_job` calls, one after another", lambda q: f"{q['create_all']:.2f} s")
        qrow("**First create → all Completed** (ListTrainingJobs every 20 ms)",
             lambda q: f"**{q['total']:.2f} s**")
        qrow("Jobs per second", lambda q: f"{q['n'] / q['total']:.1f}")
        qrow("Last TrainingEndTime − first CreationTime (server clock)", lambda q: f"{q['server_span']:.2f} s")
        qrow(f"Floor: {n} runs one after another", lambda q: f"{q['floor_seq']:.2f} s")
        qrow(f"Floor: {n} runs, as many at once as Loam runs jobs", lambda q: f"{q['floor_par']:.2f} s")
        qrow("**Mean overhead per job vs. the sequential floor**",
             lambda q: f"**{(q['total'] - q['floor_seq']) / q['n'] * 1000:.1f} ms**")
        qrow("Mean overhead per job vs. the floor at the same concurrency",
             lambda q: f"{(q['total'] - q['floor_par']) / q['n'] * 1000:.1f} ms")
        qrow("Per job, admitted (Downloading) → Completed, p50 / p90",
             lambda q: f"{ms(pct(q['running_ms'], 50))} / {ms(pct(q['running_ms'], 90))} ms")
        qrow("Per job, time queued (Starting), p50 / max",
             lambda q: f"{ms(pct(q['queued_ms'], 50))} / {ms(max(q['queued_ms']))} ms")
        qrow("CPU per job: the server process", lambda q: f"{q['server_cpu_ms'] / q['n']:.1f} ms")
        qrow("CPU per job: its children (supervisor, bubblewrap, interpreter)",
             lambda q: f"{q['children_cpu_ms'] / q['n']:.1f} ms")
        qrow("CPU per floor run (the interpreter alone)", lambda q: f"{q['floor_cpu_ms'] / q['n']:.1f} ms")
        w("")

    py = subprocess.run([args.python, "-c", "import sys; print(sys.version.split()[0])"],
                        capture_output=True, text=True).stdout.strip()
    w(f"Sizes: {args.runs} single jobs per mode after {args.warmup} warm-up job{'' if args.warmup == 1 else 's'}, "
      f"{args.queued} queued jobs"
      f"{' (--quick)' if args.quick else ''}. Job interpreter: `{args.python}` (Python {py}); "
      f"client: boto3 {boto3.__version__} / botocore {botocore.__version__}. Benchmark wall time {wall_s:.0f} s; "
      f"CPU time used by other processes on the machine meanwhile: {other_cpu_s:.1f} s.")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description="Loam job-start benchmark: no-op training jobs against python -c")
    ap.add_argument("--loam", default="build/loam", help="the loam binary to start")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter for jobs (--python of the server) and the floor (default: this one)")
    ap.add_argument("--scratch", default="build/bench-data/jobs", help="scratch directory (emptied first)")
    ap.add_argument("--markdown-out", help="also write the results tables (markdown) to this file")
    ap.add_argument("--quick", action="store_true", help="smoke sizes (explicit --runs/--queued still win)")
    ap.add_argument("--runs", type=int, help="single-job samples per mode (default 30; --quick 5)")
    ap.add_argument("--warmup", type=int, help="unrecorded single jobs first (default 3; --quick 1)")
    ap.add_argument("--queued", type=int, help="jobs created back to back (default 100; --quick 10; 0: skip)")
    ap.add_argument("--sandbox", default="none,auto", help="comma-separated --sandbox modes (none, auto, bwrap)")
    ap.add_argument("--poll-ms", type=float, default=5.0, help="DescribeTrainingJob polling interval")
    ap.add_argument("--keep-data", action="store_true", help="keep the servers' data directories")
    args = ap.parse_args()
    args.runs = args.runs if args.runs is not None else (5 if args.quick else 30)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.queued = args.queued if args.queued is not None else (10 if args.quick else 100)
    args.loam = str(Path(args.loam).resolve())
    args.python = os.path.abspath(args.python)  # not resolved: a venv's python is a symlink that matters
    modes = [m for m in args.sandbox.split(",") if m]
    for m in modes:
        if m not in ("none", "auto", "bwrap"):
            ap.error(f"unknown --sandbox mode {m!r}")
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    scratch = Path(args.scratch).resolve()
    fresh_dir(scratch)
    jobs = JobFactory(scratch)
    start = time.time()
    other_load = OtherLoad()
    results = []
    try:
        for mode in modes:
            results.append(bench_mode(args, mode, jobs, scratch))
    except (BenchError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1
    md = markdown(args, results, time.time() - start, other_load.cpu_s())
    write_report(md, args.markdown_out)
    if not args.keep_data:
        shutil.rmtree(scratch / "output", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
