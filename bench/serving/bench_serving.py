"""loam_bench_serving: what Loam's endpoint front end adds to an invocation (docs/benchmarks.md).

Two paths to the same model server, side by side in one run, driven by ``wrk`` (Debian's package,
``scripts/setup.sh`` installs it) with ``post.lua``: one fixed POST, ``Content-Type:
application/json``, body ``[[1,2,3]]`` (``--body``), and at the end wrk's own counts and exact
percentiles from its 1 µs latency histogram.

(a) **Through Loam**: the real ``loam server`` (``--port 0``, a fresh data directory, ``--python``
    this virtualenv's interpreter) gets a model whose ``model.tar.gz`` (uploaded to Loam's built-in
    S3 store with boto3) holds ``code/inference.py`` (``bench/serving/code/``: ``model_fn`` returns
    None, ``transform_fn`` returns the request body unchanged) and ``SAGEMAKER_PROGRAM=inference.py``,
    an endpoint config with one ``ml.t2.medium`` instance and an endpoint, all with the real boto3
    SageMaker client. wrk POSTs ``/endpoints/<name>/invocations`` on Loam's port (the path boto3's
    ``invoke_endpoint`` uses), and Loam's front end passes each request to the endpoint's worker
    process (``python -m loam_inference``) over its kept-alive connections.
(b) **Straight to the worker** (the floor): a second ``python -m loam_inference`` started here with
    the endpoint worker's own command line and environment, read from ``/proc/<pid>/cmdline`` and
    ``/proc/<pid>/environ`` (``SM_MODEL_DIR``, ``LOAM_CODE_DIR``, ``SAGEMAKER_PROGRAM``,
    ``PYTHONPATH`` = the toolkit, ...), only ``SAGEMAKER_BIND_TO_PORT`` changed: the same
    interpreter, toolkit, handler and model directory. wrk POSTs its ``/invocations``.
(c) **A built-in XGBoost model, native**: a small regression Booster trained here
    (``xgboost_model.py``: 200 seeded rows of 5 features, 50 rounds, max_depth 4), saved with
    ``Booster.save_model`` as ``xgboost-model``, alone in its ``model.tar.gz``, deployed with boto3
    as SageMaker's XGBoost algorithm deploys one (a ``sagemaker-xgboost`` image, no
    ``SAGEMAKER_PROGRAM``) to an endpoint of its own. Loam serves it in its own process through
    libxgboost, with no worker process: the server logs ``endpoint.native_xgboost`` for it, and
    after all endpoints are deployed the data directory holds exactly two ``python -m
    loam_inference`` processes, (a)'s and (d)'s.
(d) **The same model through the Python worker**: a third endpoint whose model is (c)'s with
    ``LOAM_XGBOOST_NATIVE=false``, so Loam passes each request to a ``python -m loam_inference``
    worker and its default XGBoost handlers. wrk sends (c) and (d) ``Content-Type: text/csv``,
    ``Accept: text/csv`` and one row (``0.5,-1.2,0.3,1.1,-0.7``); both must answer byte for byte
    the same, and that answer must be the Booster's own prediction for the row (Python's repr of
    the float, one per line), checked with one request each before and after the runs. Reported:
    throughput (c) ÷ (d) and p50(c) − p50(d) at each concurrency, with Loam's (and (d)'s worker's)
    CPU per invocation.

At each of ``--connections`` (1, 8, 64; wrk ``-t min(c, 2) -c c``) each path runs for ``--duration``
seconds (10; ``--quick`` 2) after an unrecorded ``--warmup`` run (1 s) at the same concurrency. The
paths are measured one after the other, never at the same time (the other paths' workers sit idle),
in the order a, b, c, d at the first concurrency, d, c, b, a at the next, and so on, so slow drift
in the rest of the machine's load falls on all. Then the soak: ``--soak`` seconds (60; ``--quick``
5; 0 skips it) of 64 connections through Loam to (a), which must see no error.

Per run: invocations/s (wrk's responses ÷ its duration), p50 / p90 / p99 / max latency, errors
(responses wrk counts as errors, i.e. HTTP status >= 400, plus socket errors: connect, read, write,
timeout), and the CPU time of the Loam server process, of the worker serving the run (none for (c))
and of wrk (/proc and wait4), and what the rest of the machine used meanwhile (all CPUs' busy time
less those).
Loam's added latency = p50(a) − p50(b) at each concurrency, and the throughput ratio a ÷ b. Goals:
less than 100 µs added at p50 (1 connection, where neither path queues); no error with 64
connections for 60 s. Every response body of (a) and (b) is the request body, checked with one
request per path before and after the runs; the endpoints' workers must keep their pids throughout
(no restart).

Usage: .venv/bin/python bench/serving/bench_serving.py --loam build/loam --python .venv/bin/python
       --scratch build/bench-data/serving [--quick] [--duration S] [--warmup S] [--connections 1,8,64]
       [--soak S] [--body JSON] [--markdown-out F] [--keep-data]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))

from loam_bench import (CLK_TCK, BenchError, OtherLoad, Server, boto_client, fresh_dir, terminate,  # noqa: E402
                        goals_section, machine_busy_s, md_head, md_row, proc_cpu_ticks, write_report)

import botocore  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import xgboost_model as xgbm  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CODE_DIR = HERE / "code"
PROGRAM = "inference.py"
LUA = HERE / "post.lua"
BUCKET = "loam-bench-serving"
ENDPOINT = "loam-bench-serving"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000"
INSTANCE_TYPE = "ml.t2.medium"
CONTENT_TYPE = "application/json"
GOAL_ADDED_US = 100.0
SOAK_GOAL_S = 60
SOAK_CONNECTIONS = 64
WRK_TIMEOUT_S = 10
# The worker's settings the toolkit's contract names (docs/inference-toolkit.md); the direct
# worker must get the same values as the endpoint's.
CONTRACT = ("SM_MODEL_DIR", "LOAM_CODE_DIR", "SAGEMAKER_PROGRAM", "PYTHONPATH")


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def us(x):
    return f"{x:,.0f}"


def signed_us(x):
    return f"{x:+,.0f}"


def rate(x):
    return f"{x:,.0f}"


def shown(text):
    """Paths in the repository as <repo>/..., so the published text does not name this checkout."""
    return text.replace(str(ROOT) + os.sep, "<repo>/")


# ---------------------------------------------------------------------------
# The two targets
# ---------------------------------------------------------------------------


def model_archive(dest: Path):
    """model.tar.gz in the SageMaker SDK's repack layout: the handler under code/."""
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(CODE_DIR / PROGRAM, arcname=f"code/{PROGRAM}")
    return dest


def create_endpoint(sm, name, container, log):
    """CreateModel with `container`, CreateEndpointConfig (one instance) and CreateEndpoint, all
    named `name`; returns seconds from CreateEndpoint to InService."""
    sm.create_model(ModelName=name, ExecutionRoleArn=ROLE_ARN, PrimaryContainer=container)
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1,
        "InstanceType": INSTANCE_TYPE, "InitialVariantWeight": 1.0}])
    t0 = time.monotonic()
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    deadline = t0 + 180
    while True:
        desc = sm.describe_endpoint(EndpointName=name)
        if desc["EndpointStatus"] == "InService":
            break
        if desc["EndpointStatus"] == "Failed":
            raise BenchError(f"endpoint failed: {desc.get('FailureReason')}")
        if time.monotonic() > deadline:
            raise BenchError(f"endpoint not InService after 180 s: {desc['EndpointStatus']}")
        time.sleep(0.1)
    took = time.monotonic() - t0
    log(f"endpoint {name} InService in {took:.2f} s")
    return took


def deploy(server, scratch: Path, log):
    """(a): uploads the echo model and creates its model, config and endpoint; returns seconds to
    InService."""
    s3 = boto_client("s3", server.url, read_timeout=60)
    sm = boto_client("sagemaker", server.url, read_timeout=60)
    s3.create_bucket(Bucket=BUCKET)
    archive = model_archive(scratch / "model.tar.gz")
    s3.upload_file(str(archive), BUCKET, "echo/model.tar.gz")
    return create_endpoint(sm, ENDPOINT, {"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/echo/model.tar.gz",
                                          "Environment": {"SAGEMAKER_PROGRAM": PROGRAM}}, log)


def endpoint_workers(data_dir: Path):
    """Pids of `python -m loam_inference` processes whose working directory is under the server's
    data directory (the endpoint's instances)."""
    root = str(data_dir.resolve()) + os.sep
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"loam_inference" in argv and (cwd + os.sep).startswith(root):
            found.append(int(entry.name))
    return found


def read_process(pid):
    """(argv, environment) of a running process, from /proc."""
    argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    env = {}
    for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if b"=" in item:
            k, _, v = item.decode().partition("=")
            env[k] = v
    return argv, env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body: bytes):
    """One POST on a fresh connection; (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": CONTENT_TYPE})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def check_echo(name, port, path, body: bytes):
    status, out = post(port, path, body)
    if status != 200 or out != body:
        raise BenchError(f"{name}: POST {path} -> HTTP {status} {out[:500]!r}, expected 200 {body!r}")


class DirectWorker:
    """The floor: ``python -m loam_inference`` started here, with the endpoint worker's command
    line and environment, on a port of its own."""

    def __init__(self, argv, env, work_dir: Path):
        self.port = free_port()
        self.argv = argv
        self.env = dict(env, SAGEMAKER_BIND_TO_PORT=str(self.port))
        work_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = work_dir / "worker.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, env=self.env, cwd=work_dir, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"the direct worker exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/ping")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
                conn.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"the direct worker did not answer /ping within 60 s:\n{self.log_tail()}")
            time.sleep(0.05)

    @property
    def pid(self):
        return self.proc.pid

    def log_tail(self, n=3000):
        return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")

    def stop(self):
        terminate(self.proc)
        self.log.close()


# ---------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------


def wrk_version(wrk):
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout
    return out.split(" Copyright")[0].strip() or "unknown"


def run_wrk(args, url, connections, seconds, procs, scratch: Path, label, request=None):
    """One wrk run; its figures, and the CPU of `procs` ({name: pid}), of wrk and of the rest of the
    machine over it. `request`: (body, Content-Type, Accept or None); default (a)/(b)'s --body as
    JSON with no Accept."""
    body, content_type, accept = request or (args.body, CONTENT_TYPE, None)
    threads = min(connections, 2)
    cmd = [args.wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
           "--timeout", f"{WRK_TIMEOUT_S}s", "-s", str(LUA), url]
    env = dict(os.environ, LOAM_BENCH_BODY=body, LOAM_BENCH_CONTENT_TYPE=content_type)
    env.pop("LOAM_BENCH_ACCEPT", None)
    if accept:
        env["LOAM_BENCH_ACCEPT"] = accept
    ticks0 = {name: proc_cpu_ticks(pid)[0] for name, pid in procs.items()}
    busy0, self0 = machine_busy_s(), os.times()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    busy1, self1 = machine_busy_s(), os.times()
    ticks1 = {name: proc_cpu_ticks(pid)[0] for name, pid in procs.items()}
    text = out.decode("utf-8", "replace")
    with open(scratch / "wrk.log", "a") as f:
        f.write(f"=== {label}: {' '.join(cmd)}\n{text}\n")
    line = next((ln for ln in text.splitlines() if ln.startswith("LOAM_BENCH_WRK ")), None)
    if p.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({label}, exit {p.returncode}):\n{text[-2000:]}")
    r = json.loads(line.split(" ", 1)[1])
    cpu = {name: (ticks1[name] - ticks0[name]) / CLK_TCK for name in procs}
    cpu["wrk"] = usage.ru_utime + usage.ru_stime
    own = (self1.user + self1.system) - (self0.user + self0.system)
    busy = busy1 - busy0
    r.update(label=label, connections=connections, threads=threads, seconds=seconds, wall_s=wall, cpu=cpu,
             other_cpu_s=max(0.0, busy - sum(cpu.values()) - own))
    e = r["errors"]
    r["socket_errors"] = e["connect"] + e["read"] + e["write"] + e["timeout"]
    r["error_total"] = e["status"] + r["socket_errors"]
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def per_inv_us(r, name):
    return r["cpu"][name] / r["requests"] * 1e6 if r["requests"] else float("nan")


def describe_run(r):
    p = r["latency_us"]["p"]
    worker = f"worker {r['cpu']['worker'] / r['wall_s']:.2f}, " if "worker" in r["cpu"] else "no worker, "
    return (f"{r['label']}: {r['connections']:>2} conn  {rate(r['rps']):>7} inv/s  p50 {us(p['50'])} µs  "
            f"p99 {us(p['99'])} µs  errors {r['error_total']}  CPUs busy: Loam {r['cpu']['loam'] / r['wall_s']:.2f}, "
            f"{worker}wrk {r['cpu']['wrk'] / r['wall_s']:.2f}, other {r['other_cpu_s'] / r['wall_s']:.2f}")


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def errors_cell(r):
    e = r["errors"]
    if r["error_total"] == 0:
        return "0"
    parts = [f"{e['status']} HTTP ≥ 400"] if e["status"] else []
    parts += [f"{e[k]} {k}" for k in ("connect", "read", "write", "timeout") if e[k]]
    return f"**{r['error_total']}** ({', '.join(parts)})"


def xgboost_section(args, x, points):
    """§5: (c) native against (d) the Python worker, the same model and request."""
    out = []
    w = out.append
    w(f"### 5. A built-in XGBoost model through Loam: native (c) and with the Python worker (d), "
      f"{args.duration} s per point")
    w("")
    out += runs_table(points, {"c": "(c) Loam endpoint, native libxgboost", "d": "(d) Loam endpoint → Python worker"})
    w("")
    out += md_head("Connections", "Throughput (c) ÷ (d)", "p50 (c) − (d) µs", "p90 µs", "p99 µs",
                   "CPU µs / invocation (c): Loam server", "(d): Loam server + worker")
    for pt in points:
        c, d = pt["c"], pt["d"]
        pc, pd = c["latency_us"]["p"], d["latency_us"]["p"]
        w(md_row([pt["connections"], f"{c['rps'] / d['rps']:.2f}" if d["rps"] else "—",
                  signed_us(pc["50"] - pd["50"]), signed_us(pc["90"] - pd["90"]), signed_us(pc["99"] - pd["99"]),
                  us(per_inv_us(c, "loam")), us(per_inv_us(d, "loam") + per_inv_us(d, "worker"))]))
    w("")
    deploy = x["deploy_s"]
    w(f"The model: an XGBoost regression Booster trained by the benchmark (xgboost {x['xgboost']}, "
      f"`{', '.join(f'{k}={v}' for k, v in xgbm.PARAMS.items())}`, {xgbm.ROUNDS} rounds on {xgbm.ROWS} seeded rows "
      f"of {xgbm.FEATURES} features), saved with `Booster.save_model` as `xgboost-model` ({x['model_bytes']:,} bytes, "
      f"UBJSON), alone in `model.tar.gz`; image `{xgbm.IMAGE.split('/')[-1]}`, no `SAGEMAKER_PROGRAM`, one "
      f"`{INSTANCE_TYPE}` instance per endpoint. (c) `POST /endpoints/{xgbm.NATIVE_ENDPOINT}/invocations` "
      f"(InService {deploy[xgbm.NATIVE_ENDPOINT]:.2f} s after `CreateEndpoint`): answered in the Loam server "
      f"through libxgboost {x['libxgboost']} (the server logged `{xgbm.NATIVE_EVENT}` for it), no worker process "
      f"(the data directory's `python -m loam_inference` processes were (a)'s and (d)'s only). "
      f"(d) `POST /endpoints/{xgbm.WORKER_ENDPOINT}/invocations` (InService "
      f"{deploy[xgbm.WORKER_ENDPOINT]:.2f} s): the same model with `LOAM_XGBOOST_NATIVE=false`, answered by "
      f"`python -m loam_inference`'s default XGBoost handlers; its worker "
      f"{'kept its pid throughout' if x['restarts'] == 0 else '**restarted**'}.")
    w("")
    w(f"Request: `Content-Type: {xgbm.CONTENT_TYPE}`, `Accept: {xgbm.ACCEPT}`, body `{xgbm.BODY.strip()}\\n` "
      f"({len(xgbm.BODY.encode())} bytes) → `{x['answer'].decode().strip()}\\n`: (c) and (d) answered it byte for "
      "byte alike, and equal to the Booster's own prediction for the row (Python's repr of the float), before and "
      "after the runs. (c)'s Loam server CPU includes the prediction; (d)'s is the front end's, the prediction "
      "is in the worker's.")
    w("")
    return out


def runs_table(points, names):
    """One row per run of the paths in `names` (key → label) at every concurrency."""
    out = md_head("Path", "Connections (wrk threads)", "Invocations/s", "p50 µs", "p90 µs", "p99 µs", "max µs",
                  "Errors", "CPU µs / invocation: Loam server, worker, wrk", "Other load (CPUs)")
    for pt in points:
        for key, label in names.items():
            r = pt[key]
            p = r["latency_us"]["p"]
            loam = us(per_inv_us(r, "loam")) if key != "b" else "—"  # (b) does not go through Loam
            worker = us(per_inv_us(r, "worker")) if "worker" in r["cpu"] else "—"
            out.append(md_row([label, f"{r['connections']} ({r['threads']})", rate(r["rps"]), us(p["50"]),
                               us(p["90"]), us(p["99"]), us(r["latency_us"]["max"]), errors_cell(r),
                               f"{loam}, {worker}, {us(per_inv_us(r, 'wrk'))}", f"{r['other_cpu_s'] / r['wall_s']:.2f}"]))
    return out


def markdown(args, info, points, soak, wall_s, other_cpu_s):
    out = []
    w = out.append
    first = points[0] if points else None
    goals = []
    if first:
        added = first["a"]["latency_us"]["p"]["50"] - first["b"]["latency_us"]["p"]["50"]
        goals.append((f"Loam's added latency per invocation: p50 through Loam − p50 straight to the worker, "
                      f"{first['connections']} connection{'s' if first['connections'] > 1 else ''}",
                      f"< {GOAL_ADDED_US:.0f} µs", f"{us(added)} µs", "yes" if added < GOAL_ADDED_US else "**no**"))
    if soak:
        ok = soak["error_total"] == 0 and info["restarts"] == 0
        long_enough = soak["seconds"] >= SOAK_GOAL_S and soak["connections"] >= SOAK_CONNECTIONS
        measured = (f"{soak['error_total']} errors in {soak['requests']:,} invocations "
                    f"({soak['connections']} connections, {soak['seconds']} s), "
                    f"{info['restarts']} worker restarts")
        met = ("yes" if ok else "**no**") if long_enough else f"not judged: soak shorter than {SOAK_GOAL_S} s"
        goals.append((f"No error through Loam with {SOAK_CONNECTIONS} connections for {SOAK_GOAL_S} s",
                      "0 errors", measured, met))
    out += goals_section(goals)

    w(f"### 1. Invocations through Loam (a) and straight to the worker (b), {args.duration} s per point")
    w("")
    out += runs_table(points, {"a": "(a) Loam endpoint → worker", "b": "(b) worker directly"})
    w("")
    w("Errors are the responses wrk counts as errors (HTTP status ≥ 400; nothing here answers 1xx or 3xx) plus "
      "socket errors (connect, read, write, timeout after "
      f"{WRK_TIMEOUT_S} s). CPU per invocation: the process's user + system time over the run ÷ the invocations; "
      "the Loam server's includes its idle threads. Other load: CPU time the rest of the machine used during the "
      "run (all CPUs' busy time less the Loam server, the worker, wrk and this script), per second of the run.")
    w("")

    w("### 2. What Loam adds (a − b)")
    w("")
    out += md_head("Connections", "Added latency p50 µs", "p90 µs", "p99 µs", "Throughput (a) ÷ (b)",
                   "Loam server CPU µs / invocation")
    for pt in points:
        a, b = pt["a"], pt["b"]
        pa, pb = a["latency_us"]["p"], b["latency_us"]["p"]
        bold = pt is first
        cell = signed_us(pa["50"] - pb["50"])
        w(md_row([pt["connections"], f"**{cell}**" if bold else cell, signed_us(pa["90"] - pb["90"]),
                  signed_us(pa["99"] - pb["99"]), f"{a['rps'] / b['rps']:.2f}" if b["rps"] else "—",
                  us(per_inv_us(a, "loam"))]))
    w("")
    w("Differences of the percentiles of two separate runs, not percentiles of per-request differences.")
    w("")

    if soak:
        p = soak["latency_us"]["p"]
        w(f"### 3. Soak: {soak['connections']} connections through Loam for {soak['seconds']} s")
        w("")
        out += md_head("Invocations", "Invocations/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "Errors",
                       "Worker restarts", "Other load (CPUs)")
        w(md_row([f"{soak['requests']:,}", rate(soak["rps"]), us(p["50"]), us(p["99"]), us(p["99.9"]),
                  us(soak["latency_us"]["max"]), errors_cell(soak), info["restarts"],
                  f"{soak['other_cpu_s'] / soak['wall_s']:.2f}"]))
        w("")

    probe = info.get("probe")
    first_c1 = next((pt for pt in points if pt["connections"] == 1), None)
    if probe and first_c1:
        w("### 4. Where the added time goes: the server's I/O threads")
        w("")
        out += md_head("Loam server", "p50 through Loam µs", "p50 straight to the worker µs", "Added p50 µs",
                       "Loam server CPU µs / invocation")
        b50 = first_c1["b"]["latency_us"]["p"]["50"]
        for label, r in (("default I/O threads", first_c1["a"]), ("`--threads 1`", probe)):
            a50 = r["latency_us"]["p"]["50"]
            w(md_row([label, us(a50), us(b50), signed_us(a50 - b50), us(per_inv_us(r, "loam"))]))
        w("")
        w("One connection, the same worker and handler. Each I/O thread runs an event loop of its own and a "
          "connection, with the worker connections its requests use, stays on one loop, so a request's read, "
          "routing, the proxied exchange and the reply run on one thread whatever `--threads` is: the two "
          "rows should agree, and a gap between them would mean requests crossing threads again (with "
          "Asio's shared multi-threaded scheduler they did, and futex wake-ups doubled what Loam added). "
          "What remains is system calls (a read and a write on each socket, epoll waits), HTTP parsing and "
          "the request's validation against the service model.")
        w("")

    out += xgboost_section(args, info["xgb"], points)

    w("### Set-up")
    w("")
    w(f"- Load: {info['wrk']}, `post.lua`: POST, `Content-Type: {CONTENT_TYPE}`, body `{args.body}` "
      f"({len(args.body.encode())} bytes) to (a) and (b), §5's CSV row to (c) and (d), "
      f"`-t min(c, 2) -c c -d {args.duration}s --timeout {WRK_TIMEOUT_S}s`, after an unrecorded {args.warmup} s "
      "run at the same concurrency; paths alternate a, b, c, d / d, c, b, a per concurrency, one at a time.")
    w(f"- (a) `POST /endpoints/{ENDPOINT}/invocations` on Loam's port; one instance (`{INSTANCE_TYPE}`), "
      f"InService {info['deploy_s']:.2f} s after `CreateEndpoint`; `model.tar.gz` from Loam's built-in S3.")
    w(f"- (b) `POST /invocations` on the direct worker: `{shown(' '.join(info['argv']))}` with the endpoint worker's "
      f"environment from `/proc/<pid>/environ` ({len(info['env'])} variables; differing: "
      f"{', '.join(f'`{k}`' for k in info['env_diff']) or 'none'}); "
      + ", ".join(f"`{k}={shown(info['env'].get(k, ''))}`" for k in ("SAGEMAKER_PROGRAM", "PYTHONPATH")) + ".")
    w(f"- Handler: `bench/serving/code/inference.py` (`model_fn` → None, `transform_fn` returns the body); "
      f"every response body checked equal to the request's before and after the runs.")
    w(f"- Whole run {wall_s:.0f} s; other load over it {other_cpu_s:.0f} CPU-s "
      f"({other_cpu_s / wall_s:.2f} CPUs on average).")
    w("")
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description="Loam serving benchmark: endpoint invocations against the worker direct")
    ap.add_argument("--loam", default="build/loam", help="the loam binary to start")
    ap.add_argument("--python", default=sys.executable, help="the interpreter endpoint workers run (--python)")
    ap.add_argument("--scratch", default="build/bench-data/serving", help="scratch directory (emptied first)")
    ap.add_argument("--markdown-out", help="also write the results tables (markdown) to this file")
    ap.add_argument("--quick", action="store_true", help="smoke sizes (explicit --duration/--soak still win)")
    ap.add_argument("--duration", type=int, help="seconds per measured point (default 10; --quick 2)")
    ap.add_argument("--warmup", type=int, default=1, help="unrecorded seconds before each point (default 1)")
    ap.add_argument("--connections", default="1,8,64", help="comma-separated concurrencies (default 1,8,64)")
    ap.add_argument("--soak", type=int, help=f"seconds of {SOAK_CONNECTIONS} connections through Loam "
                                             "(default 60; --quick 5; 0 skips it)")
    ap.add_argument("--body", default="[[1,2,3]]", help="the JSON request body (default [[1,2,3]])")
    ap.add_argument("--wrk", default="wrk", help="the wrk binary (apt-get install wrk)")
    ap.add_argument("--keep-data", action="store_true", help="keep the server's data directory")
    ap.add_argument("--no-thread-probe", dest="thread_probe", action="store_false",
                    help="skip the diagnostic point through a second server with one I/O thread")
    args = ap.parse_args()
    args.duration = args.duration if args.duration is not None else (2 if args.quick else 10)
    args.soak = args.soak if args.soak is not None else (5 if args.quick else SOAK_GOAL_S)
    try:
        levels = [int(c) for c in args.connections.split(",") if c.strip()]
    except ValueError:
        ap.error("--connections takes integers, e.g. 1,8,64")
    if not levels or min(levels) < 1 or args.duration < 1 or args.warmup < 0 or args.soak < 0:
        ap.error("connections and durations must be positive")
    wrk = shutil.which(args.wrk)
    if wrk is None:
        print(f"{args.wrk} not found: install it (apt-get install wrk; scripts/setup.sh does)", file=sys.stderr)
        return 1
    args.wrk = wrk
    args.loam = str(Path(args.loam).resolve())
    args.python = str(Path(args.python).absolute())  # not resolved: a virtualenv's python is a link

    scratch = Path(args.scratch).resolve()
    fresh_dir(scratch)
    start = time.monotonic()
    body = args.body.encode()

    def log(message):
        print(message, flush=True)

    other_load = OtherLoad()
    server = direct = None
    try:
        server = Server(args.loam, scratch / "data", ["--python", args.python])
        log(f"server pid {server.pid} port {server.port}")
        deploy_s = deploy(server, scratch, log)
        workers = endpoint_workers(server.data_dir)
        if len(workers) != 1:
            raise BenchError(f"expected one endpoint worker process, found {workers}")
        a_pid = workers[0]
        argv, env = read_process(a_pid)
        missing = [k for k in CONTRACT if k not in env]
        if missing:
            raise BenchError(f"the endpoint worker's environment lacks {missing}")
        if env["SAGEMAKER_PROGRAM"] != PROGRAM:
            raise BenchError(f"the endpoint worker runs {env['SAGEMAKER_PROGRAM']!r}, not {PROGRAM!r}")
        a_path = f"/endpoints/{ENDPOINT}/invocations"
        check_echo("through Loam", server.port, a_path, body)
        direct = DirectWorker(argv, env, scratch / "direct")
        d_argv, d_env = read_process(direct.pid)
        env_diff = sorted(k for k in set(env) | set(d_env) if env.get(k) != d_env.get(k))
        if d_argv != argv or env_diff != ["SAGEMAKER_BIND_TO_PORT"]:
            raise BenchError(f"the direct worker differs from the endpoint's: argv {d_argv} vs {argv}, "
                             f"environment {env_diff}")
        check_echo("direct", direct.port, "/invocations", body)
        log(f"endpoint worker pid {a_pid}; direct worker pid {direct.pid} port {direct.port}: `{' '.join(argv)}`")

        # (c) and (d): the XGBoost model natively and through the Python worker. (c) must have no
        # worker process: with every endpoint deployed, the only workers are (a)'s and (d)'s.
        booster, xgb = xgbm.deploy(server, scratch, BUCKET, create_endpoint, log)
        d_pid, xgb["libxgboost"] = xgbm.verify(server, ENDPOINT, a_pid, endpoint_workers(server.data_dir))
        xgb["answer"] = xgbm.expected_answer(booster)
        xgbm.check(server.port, xgb["answer"])
        log(f"(c) native ({xgbm.NATIVE_EVENT}, libxgboost {xgb['libxgboost']}), (d) worker pid {d_pid}; "
            f"both answer {xgb['answer']!r}")

        loam_url = f"http://127.0.0.1:{server.port}"
        xgb_request = (xgbm.BODY, xgbm.CONTENT_TYPE, xgbm.ACCEPT)
        targets = {
            "a": (f"{loam_url}{a_path}", {"loam": server.pid, "worker": a_pid}, None),
            "b": (f"http://127.0.0.1:{direct.port}/invocations", {"loam": server.pid, "worker": direct.pid}, None),
            "c": (f"{loam_url}/endpoints/{xgbm.NATIVE_ENDPOINT}/invocations", {"loam": server.pid}, xgb_request),
            "d": (f"{loam_url}/endpoints/{xgbm.WORKER_ENDPOINT}/invocations", {"loam": server.pid, "worker": d_pid},
                  xgb_request),
        }
        points = []
        for i, c in enumerate(levels):
            pt = {"connections": c}
            for key in (("a", "b", "c", "d") if i % 2 == 0 else ("d", "c", "b", "a")):
                url, procs, request = targets[key]
                if args.warmup:
                    run_wrk(args, url, c, args.warmup, procs, scratch, f"({key}) warm-up {c}", request)
                pt[key] = run_wrk(args, url, c, args.duration, procs, scratch, f"({key})", request)
                log(describe_run(pt[key]))
            points.append(pt)

        soak = None
        if args.soak:
            url, procs, _ = targets["a"]
            soak = run_wrk(args, url, SOAK_CONNECTIONS, args.soak, procs, scratch, "(a) soak")
            log(describe_run(soak))

        # Afterwards: the same workers still serve (no restart), (a) and (b) still echo, (c) still
        # has no worker, and (c) and (d) still give the Booster's answer.
        after = endpoint_workers(server.data_dir)
        restarts = 0 if a_pid in after else 1
        xgb["restarts"] = 0 if d_pid in after else 1
        if any(xgbm.worker_endpoint(pid, server.data_dir) == xgbm.NATIVE_ENDPOINT for pid in after):
            raise BenchError(f"a worker process appeared for {xgbm.NATIVE_ENDPOINT}")
        check_echo("through Loam", server.port, a_path, body)
        check_echo("direct", direct.port, "/invocations", body)
        xgbm.check(server.port, xgb["answer"])
        server.stop()
        server = None

        # Diagnostic: the same 1-connection point through a server with one I/O thread, next
        # to the default's, to show what handing requests between the server's threads costs.
        probe = None
        if args.thread_probe:
            server = Server(args.loam, scratch / "data-1thread", ["--python", args.python, "--threads", "1"])
            deploy(server, scratch, log)
            probe_worker = endpoint_workers(server.data_dir)[0]
            check_echo("through Loam, one I/O thread", server.port, a_path, body)
            url = f"http://127.0.0.1:{server.port}{a_path}"
            procs = {"loam": server.pid, "worker": probe_worker}
            if args.warmup:
                run_wrk(args, url, 1, args.warmup, procs, scratch, "(a, 1 thread) warm-up 1")
            probe = run_wrk(args, url, 1, args.duration, procs, scratch, "(a, 1 thread)")
            log(describe_run(probe))
            server.stop()
            server = None
        direct.stop()
    except (BenchError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, OSError) as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        for proc in (direct, server):
            if proc is not None:
                try:
                    proc.stop()
                except BenchError:
                    pass
        return 1
    info = {"wrk": wrk_version(args.wrk), "deploy_s": deploy_s, "argv": argv, "env": env, "env_diff": env_diff,
            "restarts": restarts, "probe": probe, "xgb": xgb}
    md = markdown(args, info, points, soak, time.monotonic() - start, other_load.cpu_s())
    write_report(md, args.markdown_out)
    if not args.keep_data:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
