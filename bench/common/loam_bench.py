"""What Loam's Python benchmarks (bench/jobs/, bench/objects/) share: the ``loam server`` they
start, the boto3 clients they point at it, the machine's CPU accounting, percentiles and the
Markdown they write.

The benchmarks are run as scripts (scripts/bench.sh: ``.venv/bin/python bench/<name>/bench_<name>.py``);
each puts this directory on ``sys.path`` before importing this module.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

REGION = "us-east-1"
MIB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")



def terminate(proc, timeout=20):
    """SIGTERM, then SIGKILL if the process has not ended within `timeout` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------
# Statistics and Markdown
# ---------------------------------------------------------------------------


def pct(values, q):
    """Linear-interpolated percentile (q in [0, 100]), as numpy's default."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def md_row(cells):
    """One Markdown table row: ``| a | b | c |``."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def md_head(*columns):
    """A Markdown table's header row and its separator."""
    return [md_row(columns), md_row(["---"] * len(columns))]


def goals_section(goals):
    """The ``### Goals`` table both benchmarks open their report with: one (goal, target, measured,
    met) row each."""
    return ["### Goals", "", *md_head("Goal", "Target", "Measured", "Met"), *(md_row(g) for g in goals), ""]


def write_report(md, markdown_out):
    """Prints the report after the progress lines and, with --markdown-out, writes it there too
    (scripts/bench.sh puts that file into docs/benchmarks.md)."""
    print()
    print(md, end="")
    if markdown_out:
        Path(markdown_out).write_text(md)


def fresh_dir(path: Path):
    """Empties `path` (creating it and its parents)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


def proc_cpu_ticks(pid):
    """(own user+system, reaped children's user+system) of a process, in clock ticks (/proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14.
    own = int(fields[11]) + int(fields[12])
    children = int(fields[13]) + int(fields[14])
    return own, children


class Server:
    """``loam server --port 0`` on a fresh data dir; the bound port is read from its log.
    `extra_args` go after the address flags; `startup` holds the last event of each kind the server
    logged until it listened."""

    def __init__(self, binary, data_dir: Path, extra_args=()):
        self.data_dir = data_dir
        fresh_dir(data_dir)
        self.log_path = data_dir.parent / f"{data_dir.name}.server.log"
        args = [binary, "server", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", "0",
                *extra_args, "--log-level", "info"]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        self.startup = {}
        deadline = time.monotonic() + 30
        while self.port is None:
            if self.proc.poll() is not None:
                raise BenchError(f"loam server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"loam server did not report its port within 30 s:\n{self.log_tail()}")
            for event in self.events():
                if "event" in event:
                    self.startup[event["event"]] = event
                if event.get("event") == "server.listening":
                    self.port = int(event["port"])
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid

    def events(self):
        out = []
        with open(self.log_path, "rb") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def log_tail(self, n=4000):
        return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")

    def cpu_ticks(self):
        """(own user+system, reaped children's user+system) in clock ticks."""
        return proc_cpu_ticks(self.pid)

    def stop(self):
        terminate(self.proc)
        self.log.close()
        if self.proc.returncode not in (0, -signal.SIGTERM):
            raise BenchError(f"loam server exited with {self.proc.returncode}:\n{self.log_tail()}")


def boto_client(service, url, read_timeout, **config):
    """A boto3 client for `service` at `url` with dummy credentials and no retries; `config` adds
    botocore Config fields."""
    return boto3.session.Session().client(
        service, endpoint_url=url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(**config, retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                      read_timeout=read_timeout))


# ---------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------


def machine_busy_s():
    """CPU seconds all CPUs spent busy since boot (/proc/stat), to tell other load apart."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def own_cpu_s():
    """This process's CPU seconds plus its reaped children's (the servers it started, and what they
    ran)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class OtherLoad:
    """CPU time the rest of the machine used from construction on: all CPUs' busy time less this
    process's and its reaped children's."""

    def __init__(self):
        self.busy0, self.own0 = machine_busy_s(), own_cpu_s()

    def cpu_s(self):
        return max(0.0, (machine_busy_s() - self.busy0) - (own_cpu_s() - self.own0))
