"""loam_bench_objects: PUT/GET throughput of Loam's S3 API against the local disk (docs/benchmarks.md).

Starts the real ``loam server`` (``--port 0``, a fresh data directory under ``--scratch``) and moves
objects through its path-style S3 API with the real boto3 ``s3`` client, as users do, each figure
set against a floor measured in the same run and interleaved with it: the same bytes copied on the
same file system (the scratch directory holds the server's data directory, the sources, the floor's
files and the downloads).

Object sizes: ``--small-mib`` (1 MiB, ``--small-reps`` objects) and ``--large-mib`` (256 MiB, up to
``--large-reps`` repetitions, as many as fit in ``--large-budget-s``, at least ``--large-min-reps``).
For every object the paths below run in this order, each call timed alone, with the server's and
this process's CPU time over it. What a path wrote is deleted as soon as it is checked, except the
two copies the GETs read, so dirty page cache stays small and writeback of earlier writes does not
land in later timings (the machine's dirty + writeback total is sampled and reported).

PUT (a source file -> an object):
  - floor: ``shutil.copyfile`` (Linux: ``sendfile``, an in-kernel copy) of the source to a
    temporary file next to the destination, then ``os.replace`` into place, as Loam stores an
    object; no fsync, as Loam does not fsync either (src/objects/local_bucket_store.cc);
  - floor, user space: the same with a 1 MiB ``read``/``write`` loop (what a server receiving
    bytes into a buffer cannot do better than);
  - boto3 ``upload_file`` with the default ``TransferConfig`` (multipart above 8 MiB, 8 MiB
    parts, 10 threads);
  - boto3 ``put_object`` with the open file as Body (one request, streamed);
  - raw HTTP PUT (``http.client``, 1 MiB writes) with ``x-amz-content-sha256: UNSIGNED-PAYLOAD``
    and no checksum header: what the server costs without any client-side hashing;
  - large objects only, first ``--diag-reps`` repetitions: raw HTTP PUT with the payload SHA-256
    and CRC32 headers boto3 sends, computed before the clock starts: the server's full cost for
    boto3's request, without the client's hashing.
GET (an object -> a destination file):
  - floor: ``shutil.copyfile`` of the floor's stored file to the destination (tmp + rename);
  - boto3 ``download_file`` (default ``TransferConfig``: HeadObject, then 8 MiB ranged GETs on
    10 threads for large objects);
  - boto3 ``get_object`` streaming the body to the file in 1 MiB chunks (botocore validates the
    object's CRC32 on the way, as it does by default);
  - raw HTTP GET (``http.client``) read in 1 MiB chunks into the file.

Correctness is checked as the benchmark goes, outside the timed regions: every PUT's ETag is
compared with the MD5 of its source (multipart: the MD5 of the parts' MD5s, ``-<parts>``); every
download's size is checked; downloads are hashed in full for every 10th small object and the first
large repetition of each path, and in four random 1 MiB windows for the other large ones.

The server's memory: ``VmHWM`` (peak RSS) from /proc/<pid>/status, reset between phases through
/proc/<pid>/clear_refs, and ``VmRSS`` sampled every 20 ms while objects move. Its CPU
time per phase from /proc/<pid>/stat.

Goal: for 256 MiB objects, Loam's PUT and GET throughput reach at least 70% of the floor's.

After the objects, single hashing passes over the large source are timed alone (section 2 of the
report): what botocore computes before sending a PUT over plain HTTP (SHA-256, CRC32) and what the
server's digest pass computes (MD5, plus SHA-256 and CRC32 when boto3's headers ask), with the
libraries Loam uses (OpenSSL, zlib).

Usage: .venv/bin/python bench/objects/bench_objects.py --loam build/loam --scratch build/bench-data/objects
       [--quick] [--small-reps N] [--large-reps N] [--large-budget-s S] [--small-mib N] [--large-mib N]
       [--markdown-out F]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

import boto3  # noqa: E402
import botocore  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402
from botocore.config import Config  # noqa: E402

REGION = "us-east-1"
BUCKET = "loam-bench-objects"
MIB = 1024 * 1024
CHUNK = MIB
GOAL_RATIO = 0.70
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------
# Statistics and formatting
# ---------------------------------------------------------------------------


def pct(values, q):
    """Linear-interpolated percentile (q in [0, 100]), as numpy's default."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def fmt_pct(x):
    return f"{x * 100:.0f}%"


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


class Server:
    """``loam server --port 0`` on a fresh data dir; the bound port is read from its log."""

    def __init__(self, binary, data_dir: Path):
        self.data_dir = data_dir
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        self.log_path = data_dir.parent / f"{data_dir.name}.server.log"
        args = [binary, "server", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", "0",
                "--log-level", "info"]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        self.threads = None
        deadline = time.monotonic() + 30
        while self.port is None:
            if self.proc.poll() is not None:
                raise BenchError(f"loam server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"loam server did not report its port within 30 s:\n{self.log_tail()}")
            for event in self.events():
                if event.get("event") == "server.listening":
                    self.port = int(event["port"])
                    self.threads = event.get("threads")
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

    def status_kib(self, field):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise BenchError(f"no {field} in /proc/{self.pid}/status")

    def rss_mib(self):
        """Current RSS, from /proc/<pid>/statm (cheaper to read than status)."""
        with open(f"/proc/{self.pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE / MIB

    def hwm_mib(self):
        return self.status_kib("VmHWM") / 1024

    def reset_hwm(self):
        """Resets VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def cpu_s(self):
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self.proc.returncode not in (0, -signal.SIGTERM):
            raise BenchError(f"loam server exited with {self.proc.returncode}:\n{self.log_tail()}")


def dirty_mib():
    """Dirty + under-writeback page cache, machine-wide (/proc/meminfo), in MiB."""
    total = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("Dirty:", "Writeback:")):
                total += int(line.split()[1])
    return total / 1024


class RssSampler:
    """Samples the server's RSS (and the machine's dirty page cache) every `interval` s on a
    thread while active."""

    def __init__(self, server: Server, interval=0.02):
        self.server = server
        self.interval = interval
        self.max_mib = 0.0
        self.max_dirty_mib = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self.max_mib = self.server.rss_mib()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.max_mib = max(self.max_mib, self.server.rss_mib())
                self.max_dirty_mib = max(self.max_dirty_mib, dirty_mib())
                self.samples += 1
            except OSError:
                return

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------------
# Sources, hashes, verification
# ---------------------------------------------------------------------------


def write_random(path: Path, size, prefix=b""):
    with open(path, "wb") as f:
        f.write(prefix)
        left = size - len(prefix)
        while left > 0:
            n = min(left, 8 * MIB)
            f.write(os.urandom(n))
            left -= n


def file_digest(path: Path, name="md5"):
    h = hashlib.new(name)
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            h.update(b)
    return h


def multipart_etag(path: Path, part_size):
    md5s = []
    with open(path, "rb") as f:
        while True:
            b = f.read(part_size)
            if not b:
                break
            md5s.append(hashlib.md5(b).digest())
    return f'"{hashlib.md5(b"".join(md5s)).hexdigest()}-{len(md5s)}"'


class Source:
    """A source file and what its object must look like."""

    def __init__(self, path: Path, transfer: TransferConfig):
        self.path = path
        self.size = path.stat().st_size
        self.md5 = file_digest(path, "md5").hexdigest()
        self.etag = f'"{self.md5}"'
        # What upload_file stores: multipart from the threshold on (s3transfer's rule), else one PUT.
        self.mp_etag = (multipart_etag(path, transfer.multipart_chunksize)
                        if self.size >= transfer.multipart_threshold else self.etag)
        self.sha256_hex = file_digest(path, "sha256").hexdigest()
        crc = 0
        with open(path, "rb") as f:
            while True:
                b = f.read(CHUNK)
                if not b:
                    break
                crc = zlib.crc32(b, crc)
        self.crc32_b64 = base64.b64encode(crc.to_bytes(4, "big")).decode()


class Verifier:
    def __init__(self):
        self.checked_full = 0
        self.checked_windows = 0
        self.checked_size = 0
        self.checked_etag = 0

    def etag(self, what, got, want):
        if got != want:
            raise BenchError(f"{what}: ETag {got} but the source's is {want}")
        self.checked_etag += 1

    def download(self, what, dest: Path, src: Source, full: bool, rng: random.Random):
        size = dest.stat().st_size
        if size != src.size:
            raise BenchError(f"{what}: downloaded {size} bytes, the object has {src.size}")
        self.checked_size += 1
        if full:
            got = file_digest(dest, "md5").hexdigest()
            if got != src.md5:
                raise BenchError(f"{what}: downloaded bytes differ from the source (MD5 {got} != {src.md5})")
            self.checked_full += 1
            return
        with open(dest, "rb") as a, open(src.path, "rb") as b:
            for _ in range(4):
                off = rng.randrange(0, max(1, src.size - MIB))
                a.seek(off)
                b.seek(off)
                if a.read(MIB) != b.read(MIB):
                    raise BenchError(f"{what}: downloaded bytes differ from the source at offset {off}")
        self.checked_windows += 1


# ---------------------------------------------------------------------------
# The paths
# ---------------------------------------------------------------------------


def floor_copy(src: Path, dst: Path):
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def floor_copy_rw(src: Path, dst: Path):
    tmp = dst.with_name(dst.name + ".tmp")
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as fi, open(tmp, "wb", buffering=0) as fo:
        while True:
            n = fi.readinto(buf)
            if not n:
                break
            done = 0
            while done < n:
                done += fo.write(view[done:n])
    os.replace(tmp, dst)


class RawHttp:
    """One keep-alive connection speaking plain HTTP to the S3 API (no SDK, no hashing)."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300, blocksize=CHUNK)
        self.last_used = time.monotonic()

    def _fresh(self):
        # The server closes connections idle for 75 s: start a new one well before that.
        if time.monotonic() - self.last_used > 30:
            self.conn.close()
        self.last_used = time.monotonic()

    def put(self, key, path: Path, size, headers=None):
        h = {"Content-Length": str(size), "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
             "Content-Type": "application/octet-stream"}
        h.update(headers or {})
        self._fresh()
        with open(path, "rb") as f:
            self.conn.request("PUT", f"/{BUCKET}/{key}", body=f, headers=h)
            resp = self.conn.getresponse()
            data = resp.read()
        self.last_used = time.monotonic()
        if resp.status != 200:
            raise BenchError(f"raw PUT {key} -> HTTP {resp.status}: {data[:500]!r}")
        return resp.getheader("ETag")

    def get(self, key, dest: Path):
        self._fresh()
        self.conn.request("GET", f"/{BUCKET}/{key}")
        resp = self.conn.getresponse()
        if resp.status != 200:
            data = resp.read()
            raise BenchError(f"raw GET {key} -> HTTP {resp.status}: {data[:500]!r}")
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        with open(dest, "wb", buffering=0) as f:
            while True:
                n = resp.readinto(buf)
                if not n:
                    break
                f.write(view[:n])
        self.last_used = time.monotonic()
        return resp.getheader("ETag")


def boto_s3(url, pool):
    return boto3.session.Session().client(
        "s3", endpoint_url=url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1, "mode": "standard"},
                      connect_timeout=5, read_timeout=300, max_pool_connections=pool))


def boto_get_stream(s3, key, dest: Path):
    resp = s3.get_object(Bucket=BUCKET, Key=key)
    with open(dest, "wb", buffering=0) as f:
        for chunk in resp["Body"].iter_chunks(CHUNK):
            f.write(chunk)
    return resp["ETag"]


class Phase:
    """Server CPU, client CPU and the server's peak RSS over one phase."""

    def __init__(self, server: Server, sample_rss=True):
        self.server = server
        self.sample_rss = sample_rss
        self.sampler = None

    def __enter__(self):
        self.hwm_reset = self.server.reset_hwm()
        self.rss_start = self.server.rss_mib()
        self.cpu0 = self.server.cpu_s()
        t = os.times()
        self.client0 = t.user + t.system
        self.t0 = time.perf_counter()
        if self.sample_rss:
            self.sampler = RssSampler(self.server).__enter__()
        return self

    def __exit__(self, *exc):
        if self.sampler:
            self.sampler.__exit__(*exc)
        self.wall = time.perf_counter() - self.t0
        self.server_cpu = self.server.cpu_s() - self.cpu0
        t = os.times()
        self.client_cpu = t.user + t.system - self.client0
        self.hwm = self.server.hwm_mib()
        self.rss_end = self.server.rss_mib()
        self.rss_sampled_max = self.sampler.max_mib if self.sampler else None
        self.dirty_max = self.sampler.max_dirty_mib if self.sampler else None
        self.rss_samples = self.sampler.samples if self.sampler else 0

    def summary(self):
        return {"wall": self.wall, "server_cpu": self.server_cpu, "client_cpu": self.client_cpu,
                "hwm": self.hwm, "hwm_reset": self.hwm_reset, "rss_start": self.rss_start, "rss_end": self.rss_end,
                "rss_sampled_max": self.rss_sampled_max, "rss_samples": self.rss_samples,
                "dirty_max": self.dirty_max}


def client_cpu_s():
    t = os.times()
    return t.user + t.system


# Paths, in the order they run for each object. (key, label, kind)
PUT_PATHS = [
    ("floor", "Floor: `shutil.copyfile` (sendfile) to tmp + rename, no fsync"),
    ("floor_rw", "Floor, user space: 1 MiB read/write loop to tmp + rename, no fsync"),
    ("upload_file", "boto3 `upload_file` (default TransferConfig)"),
    ("put_object", "boto3 `put_object`, file as Body (one request)"),
    ("raw", "Raw HTTP PUT, UNSIGNED-PAYLOAD, no checksum (no client hashing)"),
    ("raw_hdrs", "Raw HTTP PUT with boto3's SHA-256 and CRC32 headers, computed beforehand"),
]
GET_PATHS = [
    ("floor", "Floor: `shutil.copyfile` of the stored file to the destination (tmp + rename)"),
    ("download_file", "boto3 `download_file` (default TransferConfig)"),
    ("get_object", "boto3 `get_object`, body streamed to the file in 1 MiB chunks"),
    ("raw", "Raw HTTP GET, read in 1 MiB chunks into the file"),
]


def run_size(args, label, server, s3, transfer, raw, scratch: Path, sources, reps, large, verifier, rng):
    """PUT then GET of `reps` objects of one size, each path interleaved per object. Large
    objects: at most `reps` repetitions, fewer (at least --large-min-reps) when the next one would
    end past --large-budget-s."""
    part = transfer.multipart_chunksize
    floor_dir = scratch / "floor" / label
    dl_dir = scratch / "downloads" / label
    floor_dir.mkdir(parents=True, exist_ok=True)
    dl_dir.mkdir(parents=True, exist_ok=True)
    put_paths = [p for p, _ in PUT_PATHS if large or p != "raw_hdrs"]
    puts = {p: [] for p in put_paths}
    gets = {p: [] for p, _ in GET_PATHS}
    cpu = {"puts": {p: [] for p in put_paths}, "gets": {p: [] for p, _ in GET_PATHS}}  # (server, client) s
    phases = {}
    last_cpu = [0.0, 0.0]

    def timed(fn, *a):
        """Wall time of one call; the server's and this client's CPU over it go to last_cpu
        (read outside the timed region; the server's in clock ticks)."""
        s0, c0 = server.cpu_s(), client_cpu_s()
        t0 = time.perf_counter()
        r = fn(*a)
        dt = time.perf_counter() - t0
        last_cpu[:] = [server.cpu_s() - s0, client_cpu_s() - c0]
        return dt, r

    def put_one(i, src: Source):
        key = f"{label}/{i}"
        # Alternate which floor runs first, so neither always follows the other's writes.
        floors = ["floor", "floor_rw"] if i % 2 == 0 else ["floor_rw", "floor"]
        for p in floors + [p for p in put_paths if not p.startswith("floor")]:
            if p == "raw_hdrs" and i >= args.diag_reps:
                continue
            if p == "floor":
                dt, _ = timed(floor_copy, src.path, floor_dir / f"{i}")
            elif p == "floor_rw":
                dt, _ = timed(floor_copy_rw, src.path, floor_dir / f"{i}.rw")
                (floor_dir / f"{i}.rw").unlink()
            elif p == "upload_file":
                dt, _ = timed(s3.upload_file, str(src.path), BUCKET, f"{key}.mp", None, None, transfer)
                etag = s3.head_object(Bucket=BUCKET, Key=f"{key}.mp")["ETag"]
                verifier.etag(f"upload_file {key}", etag, src.mp_etag)
                if large and i == 0:
                    # Read back the object upload_file assembled from its parts, once.
                    dest = dl_dir / f"{i}.mp-check"
                    raw.get(f"{key}.mp", dest)
                    verifier.download(f"multipart object {key}.mp", dest, src, True, rng)
                    dest.unlink()
                s3.delete_object(Bucket=BUCKET, Key=f"{key}.mp")
            elif p == "put_object":
                def put():
                    with open(src.path, "rb") as f:
                        return s3.put_object(Bucket=BUCKET, Key=key, Body=f)["ETag"]
                dt, etag = timed(put)
                verifier.etag(f"put_object {key}", etag, src.etag)
            elif p == "raw":
                dt, etag = timed(raw.put, f"{key}.raw", src.path, src.size)
                verifier.etag(f"raw PUT {key}", etag, src.etag)
                s3.delete_object(Bucket=BUCKET, Key=f"{key}.raw")
            elif p == "raw_hdrs":
                hdrs = {"x-amz-content-sha256": src.sha256_hex, "x-amz-checksum-crc32": src.crc32_b64,
                        "x-amz-sdk-checksum-algorithm": "CRC32"}
                dt, etag = timed(raw.put, f"{key}.raw", src.path, src.size, hdrs)
                verifier.etag(f"raw PUT with headers {key}", etag, src.etag)
                s3.delete_object(Bucket=BUCKET, Key=f"{key}.raw")
            puts[p].append(dt)
            cpu["puts"][p].append(tuple(last_cpu))

    def get_one(i, src: Source, full):
        key = f"{label}/{i}"
        for p, _ in GET_PATHS:
            dest = dl_dir / f"{i}.{p}"
            if p == "floor":
                dt, _ = timed(floor_copy, floor_dir / f"{i}", dest)
            elif p == "download_file":
                dt, _ = timed(s3.download_file, BUCKET, key, str(dest), None, None, transfer)
            elif p == "get_object":
                dt, etag = timed(boto_get_stream, s3, key, dest)
                verifier.etag(f"get_object {key}", etag, src.etag)
            elif p == "raw":
                dt, etag = timed(raw.get, key, dest)
                verifier.etag(f"raw GET {key}", etag, src.etag)
            gets[p].append(dt)
            cpu["gets"][p].append(tuple(last_cpu))
            verifier.download(f"{p} {key}", dest, src, full, rng)
            dest.unlink()

    # What each path wrote is deleted as soon as it is checked (outside the timed regions), except
    # the two copies the GETs read (the floor's file, put_object's object): dirty page cache stays
    # small, so writeback of earlier writes does not land in the middle of later timings.
    def cleanup(i):
        s3.delete_object(Bucket=BUCKET, Key=f"{label}/{i}")
        (floor_dir / f"{i}").unlink(missing_ok=True)

    if large:
        # Large objects: each repetition puts and gets one object, then deletes it, so the disk
        # holds a few copies at a time and writeback of earlier repetitions stays small.
        src = sources[0]
        t_start = time.perf_counter()
        with Phase(server) as ph_all:
            for i in range(reps):
                t_rep = time.perf_counter()
                os.sync()  # little to write (the previous repetition's files are gone): a clean start
                with Phase(server) as ph:
                    put_one(i, src)
                phases.setdefault("put", []).append(ph.summary())
                with Phase(server) as ph:
                    get_one(i, src, full=(i == 0))
                phases.setdefault("get", []).append(ph.summary())
                cleanup(i)
                print(f"[{label}] {i + 1}/{reps}: PUT " + ", ".join(
                    f"{p} {src.size / MIB / puts[p][-1]:.0f}" for p in put_paths) + " MiB/s; GET " + ", ".join(
                    f"{p} {src.size / MIB / gets[p][-1]:.0f}" for p, _ in GET_PATHS) + " MiB/s", flush=True)
                now = time.perf_counter()
                if i + 1 >= args.large_min_reps and i + 1 < reps and \
                        now - t_start + (now - t_rep) > args.large_budget_s:
                    print(f"[{label}] stopping after {i + 1} repetitions: another would end past the "
                          f"{args.large_budget_s:.0f} s budget", flush=True)
                    break
        phases["all"] = ph_all.summary()
    else:
        with Phase(server) as ph:
            for i in range(reps):
                put_one(i, sources[i % len(sources)])
        phases["put"] = ph.summary()
        puts.pop("raw_hdrs", None)
        cpu["puts"].pop("raw_hdrs", None)
        print(f"[{label}] PUT {reps} objects: " + ", ".join(
            f"{p} p50 {pct(puts[p], 50) * 1000:.1f} ms" for p in put_paths), flush=True)
        with Phase(server) as ph:
            for i in range(reps):
                get_one(i, sources[i % len(sources)], full=(i % 10 == 0))
        phases["get"] = ph.summary()
        print(f"[{label}] GET {reps} objects: " + ", ".join(
            f"{p} p50 {pct(gets[p], 50) * 1000:.1f} ms" for p, _ in GET_PATHS), flush=True)
        for i in range(reps):
            cleanup(i)
    shutil.rmtree(floor_dir, ignore_errors=True)
    shutil.rmtree(dl_dir, ignore_errors=True)
    return {"label": label, "size": sources[0].size, "reps": len(gets["floor"]), "planned": reps, "puts": puts,
            "gets": gets, "cpu": cpu, "phases": phases, "put_paths": [p for p in put_paths if puts.get(p)]}


def hash_costs(src: Source, reps=3):
    """Single passes over the large source, 1 MiB reads each, timed alone: what botocore does to a
    PUT body over plain HTTP before sending it (a SHA-256 pass for the signed payload, a CRC32 pass
    for the default request checksum), and the server's digest pass (MD5 for the ETag, plus SHA-256
    and CRC32 when boto3 sends those headers) with the same libraries Loam uses (OpenSSL, zlib)."""
    out = {}
    for name in ("sha256", "crc32", "read", "md5", "md5+sha256+crc32"):
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            with open(src.path, "rb") as f:
                if name == "sha256":
                    h = hashlib.sha256()
                    for b in iter(lambda: f.read(CHUNK), b""):
                        h.update(b)
                elif name == "crc32":
                    c = 0
                    for b in iter(lambda: f.read(CHUNK), b""):
                        c = zlib.crc32(b, c)
                elif name == "md5":
                    h = hashlib.md5()
                    for b in iter(lambda: f.read(CHUNK), b""):
                        h.update(b)
                elif name == "md5+sha256+crc32":
                    h1, h2, c = hashlib.md5(), hashlib.sha256(), 0
                    for b in iter(lambda: f.read(CHUNK), b""):
                        h1.update(b)
                        h2.update(b)
                        c = zlib.crc32(b, c)
                else:
                    for b in iter(lambda: f.read(CHUNK), b""):
                        pass
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
    return out


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

PUT_LABEL = dict(PUT_PATHS)
GET_LABEL = dict(GET_PATHS)


def mib_s(size, seconds):
    return size / MIB / seconds if seconds > 0 else float("nan")


def markdown(args, small, large, hashes, server_info, verifier, wall_s, other_cpu_s):
    out = []
    w = out.append
    lsize = large["size"] / MIB
    ssize = small["size"] / MIB
    get_paths = [p for p, _ in GET_PATHS]
    boto_paths = ("upload_file", "put_object", "download_file", "get_object")

    def med_s(r, kind, p):
        return statistics.median(r[kind][p])

    def med_rate(r, kind, p):
        return mib_s(r["size"], med_s(r, kind, p))

    def agg_rate(r, kind, p):
        return mib_s(r["size"] * len(r[kind][p]), sum(r[kind][p]))

    # Goals
    goals = []
    for kind, path, label in (("puts", "upload_file", "PUT, boto3 `upload_file`"),
                              ("puts", "put_object", "PUT, boto3 `put_object`"),
                              ("gets", "download_file", "GET, boto3 `download_file`"),
                              ("gets", "get_object", "GET, boto3 `get_object`")):
        ratio = med_rate(large, kind, path) / med_rate(large, kind, "floor")
        goals.append((f"{lsize:.0f} MiB {label}, Loam / floor (median MiB/s)", f">= {GOAL_RATIO:.0%}", fmt_pct(ratio),
                      "yes" if ratio >= GOAL_RATIO else "**no**"))
    for kind, label in (("puts", "PUT"), ("gets", "GET")):
        ratio = med_rate(large, kind, "raw") / med_rate(large, kind, "floor")
        goals.append((f"{lsize:.0f} MiB {label}, raw HTTP (the server without client-side hashing), Loam / floor",
                      "(reported)", fmt_pct(ratio), "n/a"))
    for kind, path, label in (("puts", "put_object", "PUT, boto3 `put_object`"),
                              ("gets", "get_object", "GET, boto3 `get_object`")):
        ratio = agg_rate(small, kind, path) / agg_rate(small, kind, "floor")
        goals.append((f"{ssize:g} MiB {label}, Loam / floor (objects/s)", "(reported)", fmt_pct(ratio), "n/a"))
    lp = large["phases"]["all"]
    large_phases = large["phases"]["put"] + large["phases"]["get"]
    large_peak = max(max(x["hwm"], x["rss_sampled_max"] or 0) for x in large_phases + [lp])
    growth = large_peak - server_info["rss_idle"]
    goals.append((f"Server peak RSS while moving {lsize:.0f} MiB objects, above its idle RSS",
                  "bounded: < 64 MiB", f"{growth:.0f} MiB", "yes" if growth < 64 else "**no**"))
    w("### Goals")
    w("")
    w("| Goal | Target | Measured | Met |")
    w("| --- | --- | --- | --- |")
    for g in goals:
        w("| " + " | ".join(g) + " |")
    w("")

    # Large objects
    stopped = (f"; stopped after {large['reps']} of {large['planned']} planned: another would have ended past the "
               f"{args.large_budget_s:.0f} s budget") if large["reps"] < large["planned"] else ""
    w(f"### 1. {lsize:.0f} MiB objects ({large['reps']} repetitions{stopped}; every path once per repetition, "
      f"interleaved)")
    w("")
    w("| Operation | Path | n | MiB/s (median time) | slowest | fastest | median s | vs floor | server CPU s "
      "| client CPU s |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, paths, names in (("puts", large["put_paths"], PUT_LABEL), ("gets", get_paths, GET_LABEL)):
        floor = med_rate(large, kind, "floor")
        for p in paths:
            rates = [mib_s(large["size"], t) for t in large[kind][p]]
            ratio = med_rate(large, kind, p) / floor
            name = f"**{names[p]}**" if p in boto_paths else names[p]
            w(f"| {'PUT' if kind == 'puts' else 'GET'} | {name} | {len(rates)} | {fmt_rate(med_rate(large, kind, p))} "
              "| "
              f"{fmt_rate(min(rates))} | {fmt_rate(max(rates))} | {statistics.median(large[kind][p]):.2f} | "
              f"{fmt_pct(ratio)} | {statistics.median(c[0] for c in large['cpu'][kind][p]):.2f} | "
              f"{statistics.median(c[1] for c in large['cpu'][kind][p]):.2f} |")
    w("")
    w("MiB/s of the object's bytes over the call's wall time, client and server on the same machine. "
      "Floor and Loam files live on the same file system; nothing is fsynced (Loam writes an object to a "
      "temporary file and renames it into place without fsync, and so does the floor). GETs read the object "
      "`put_object` stored in the same repetition. CPU columns: medians of the server process's CPU time (all its "
      "threads, from /proc, in 10 ms ticks) and this benchmark process's (boto3's threads included; the floor's "
      "copy is its own system time) over each call.")
    w("")

    # Where the time goes
    put_s = {p: med_s(large, "puts", p) for p in large["put_paths"]}
    get_s = {p: med_s(large, "gets", p) for p in get_paths}
    parts = -(-large["size"] // (8 * MIB))
    w(f"### 2. Where the time goes ({lsize:.0f} MiB, medians)")
    w("")
    w("| Step | Seconds | MiB/s | What it is |")
    w("| --- | --- | --- | --- |")
    rows = [
        ("Floor PUT: in-kernel copy + rename", put_s["floor"], "the disk floor"),
        ("Floor PUT + one MD5 pass (derived: the two times added)", put_s["floor"] + hashes["md5"],
         "the least any S3 server pays that computes the MD5 ETag in a pass of its own, as Loam does"),
        ("Floor PUT, user space: 1 MiB read/write + rename", put_s["floor_rw"],
         "the floor through a user-space buffer"),
        ("Raw HTTP PUT, no client hashing", put_s["raw"],
         "server: socket → spool file, then one read pass for MD5 (the ETag), then rename"),
    ]
    if "raw_hdrs" in put_s:
        rows.append(("Raw HTTP PUT with boto3's SHA-256 + CRC32 headers", put_s["raw_hdrs"],
                     "the same; the server's digest pass also computes SHA-256 and CRC32 to check them"))
    rows += [
        ("One MD5 pass over the file (OpenSSL, 1 MiB reads)", hashes["md5"],
         "the server's digest pass for an unsigned PUT, timed alone in this process"),
        ("One MD5 + SHA-256 + CRC32 pass (OpenSSL, zlib)", hashes["md5+sha256+crc32"],
         "the server's digest pass for boto3's PUT, timed alone"),
        ("Client: SHA-256 pass over the file", hashes["sha256"],
         "botocore signs the payload over plain HTTP: one full pass before sending"),
        ("Client: CRC32 pass over the file", hashes["crc32"],
         "botocore's default request checksum (`when_supported`), sent as a header: another full pass"),
        ("Reading the file alone (1 MiB reads)", hashes["read"], "page-cache read, for scale"),
        ("**boto3 `put_object`**", put_s["put_object"],
         "client hashing passes + sending (urllib3) + the server's part"),
        ("**boto3 `upload_file`**", put_s["upload_file"],
         f"{parts} part{'' if parts == 1 else 's'} of 8 MiB on 10 threads (each part as above), then "
         "CompleteMultipartUpload concatenates the parts (copy_file_range) and renames"
         if large["size"] >= 8 * MIB else "one PutObject below 8 MiB"),
        ("Floor GET: in-kernel copy + rename", get_s["floor"], "the disk floor"),
        ("Raw HTTP GET into a file", get_s["raw"],
         "server: file → 256 KiB buffer → socket; client: socket → 1 MiB buffer → file"),
        ("**boto3 `get_object`** streamed to a file", get_s["get_object"],
         "plus urllib3's reads and botocore's CRC32 validation of the body"),
        ("**boto3 `download_file`**", get_s["download_file"], "HeadObject, then 8 MiB ranged GETs on 10 threads"),
    ]
    for label, secs, what in rows:
        w(f"| {label} | {secs:.2f} | {fmt_rate(mib_s(large['size'], secs))} | {what} |")
    w("")
    w("CPU over all repetitions of the large objects (every PUT and GET path, floors and checks included): "
      f"server {lp['server_cpu']:.1f} s, this client {lp['client_cpu']:.1f} s, over {lp['wall']:.1f} s of wall time.")
    w("")

    # Small objects
    sp = small["phases"]
    w(f"### 3. {ssize:g} MiB objects ({small['reps']} objects, every path once per object, interleaved)")
    w("")
    w("| Operation | Path | objects/s | MiB/s | p50 ms | p90 ms | vs floor | server CPU ms/object "
      "| client CPU ms/object |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, paths, names in (("puts", small["put_paths"], PUT_LABEL), ("gets", get_paths, GET_LABEL)):
        floor = agg_rate(small, kind, "floor")
        for p in paths:
            t = small[kind][p]
            rate = agg_rate(small, kind, p)
            name = f"**{names[p]}**" if p in boto_paths else names[p]
            w(f"| {'PUT' if kind == 'puts' else 'GET'} | {name} | {fmt_rate(len(t) / sum(t))} | {fmt_rate(rate)} | "
              f"{pct(t, 50) * 1000:.1f} | {pct(t, 90) * 1000:.1f} | {fmt_pct(rate / floor)} | "
              f"{sum(c[0] for c in small['cpu'][kind][p]) / len(t) * 1000:.1f} | "
              f"{sum(c[1] for c in small['cpu'][kind][p]) / len(t) * 1000:.1f} |")
    w("")
    w(f"objects/s and MiB/s over the summed time of each path's {small['reps']} calls, one at a time "
      "(`upload_file` and `download_file` send one PutObject, or HeadObject + GetObject, below 8 MiB). "
      f"Server CPU: {sp['put']['server_cpu']:.1f} s over the PUT phase, {sp['get']['server_cpu']:.1f} s over the "
      f"GET phase; this client: {sp['put']['client_cpu']:.1f} s and {sp['get']['client_cpu']:.1f} s.")
    w("")

    # Memory
    w("### 4. Server memory")
    w("")
    w("| Phase | Object size | Moved through the server | Peak RSS (VmHWM) | Max RSS sampled every 20 ms | RSS after |")
    w("| --- | --- | --- | --- | --- | --- |")
    w(f"| Idle, after start-up | | | {server_info['hwm_idle']:.0f} MiB | | {server_info['rss_idle']:.0f} MiB |")
    n_get = len([p for p in get_paths if p != "floor"])
    for r, sized in ((small, f"{ssize:g} MiB"), (large, f"{lsize:.0f} MiB")):
        n_put = sum(len(r["puts"][p]) for p in r["put_paths"] if not p.startswith("floor"))
        for kind, n in (("put", n_put), ("get", n_get * r["reps"])):
            ph = r["phases"][kind]
            if isinstance(ph, list):
                hwm = max(x["hwm"] for x in ph)
                sampled = max(x["rss_sampled_max"] or 0 for x in ph)
                after = ph[-1]["rss_end"]
            else:
                hwm, sampled, after = ph["hwm"], ph["rss_sampled_max"], ph["rss_end"]
            moved = r["size"] * n / MIB
            moved_s = f"{moved / 1024:.1f} GiB" if moved >= 1024 else f"{moved:.0f} MiB"
            w(f"| {kind.upper()} | {sized} | {moved_s} ({n} objects) | {hwm:.0f} MiB | "
              f"{f'{sampled:.0f} MiB' if sampled else '—'} | {after:.0f} MiB |")
    w("")
    reset_ok = all(x["hwm_reset"] for x in large["phases"]["put"])
    w("VmHWM " + ("is reset at the start of each phase (/proc/<pid>/clear_refs), so each row is that phase's own peak"
                  if reset_ok else "could not be reset between phases here, so it is the peak since start-up")
      + f"; the sampler took {sum(x['rss_samples'] for x in large_phases)} samples over the large phases. "
      "Uploads are spooled to a file as they arrive and downloads are served from the file through a fixed "
      "buffer, so memory does not grow with the object. The machine's dirty + under-writeback page cache peaked at "
      f"{max(x['dirty_max'] or 0 for x in large_phases):.0f} MiB during the large phases "
      f"({max(x['dirty_max'] or 0 for x in small['phases'].values()):.0f} MiB during the small ones).")
    w("")

    w(f"Correctness, checked outside the timed regions: {verifier.checked_etag} ETags against the sources' MD5 "
      f"(multipart: MD5 of the parts' MD5s), {verifier.checked_size} download sizes, {verifier.checked_full} "
      f"downloads hashed in full, {verifier.checked_windows} compared in four random 1 MiB windows; all matched.")
    w("")
    w(f"Sizes: {small['reps']} × {ssize:g} MiB, up to {large['planned']} × {lsize:.0f} MiB within "
      f"{args.large_budget_s:.0f} s (at least {args.large_min_reps}){' (--quick)' if args.quick else ''}; random "
      f"(incompressible) bytes. Server: `loam server --port 0`, {server_info['threads']} I/O threads (default). "
      f"Client: boto3 {boto3.__version__} / botocore {botocore.__version__} on Python {sys.version.split()[0]}, "
      "path-style addressing, plain HTTP, default TransferConfig. "
      f"Benchmark wall time {wall_s:.0f} s; CPU time used by other processes on the machine meanwhile: "
      f"{other_cpu_s:.1f} s.")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def machine_busy_s():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def own_cpu_s():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main():
    ap = argparse.ArgumentParser(description="Loam object benchmark: S3 PUT/GET against copying on the local disk")
    ap.add_argument("--loam", default="build/loam", help="the loam binary to start")
    ap.add_argument("--scratch", default="build/bench-data/objects", help="scratch directory (emptied first)")
    ap.add_argument("--markdown-out", help="also write the results tables (markdown) to this file")
    ap.add_argument("--quick", action="store_true", help="smoke sizes (explicit sizes still win)")
    ap.add_argument("--small-mib", type=float, default=1.0, help="small object size in MiB (default 1)")
    ap.add_argument("--large-mib", type=int, help="large object size in MiB (default 256; --quick 32)")
    ap.add_argument("--small-reps", type=int, help="small objects (default 200; --quick 20)")
    ap.add_argument("--large-reps", type=int, help="large repetitions at most (default 5; --quick 2)")
    ap.add_argument("--large-min-reps", type=int, default=2, help="large repetitions at least (default 2)")
    ap.add_argument("--large-budget-s", type=float, default=90.0,
                    help="start no large repetition that would end past this many seconds (default 90)")
    ap.add_argument("--diag-reps", type=int, default=1,
                    help="large repetitions that also run the raw PUT with boto3's headers (default 1)")
    ap.add_argument("--keep-data", action="store_true", help="keep the server's data directory")
    args = ap.parse_args()
    args.large_mib = args.large_mib if args.large_mib is not None else (32 if args.quick else 256)
    args.small_reps = args.small_reps if args.small_reps is not None else (20 if args.quick else 200)
    args.large_reps = args.large_reps if args.large_reps is not None else (2 if args.quick else 5)
    if args.small_reps < 1 or args.large_reps < 1 or args.large_mib < 1 or args.small_mib <= 0:
        ap.error("sizes and repetitions must be positive")
    args.loam = str(Path(args.loam).resolve())

    scratch = Path(args.scratch).resolve()
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    transfer = TransferConfig()  # boto3's defaults, as `aws s3 cp` and most code use them
    rng = random.Random(1)
    start = time.time()

    # Sources: distinct small objects (so a mix-up of keys shows), one large one.
    small_size = int(args.small_mib * MIB)
    src_dir = scratch / "sources"
    src_dir.mkdir()
    small_sources = []
    for i in range(min(args.small_reps, 20)):
        p = src_dir / f"small-{i}"
        write_random(p, small_size, prefix=f"loam-bench-object-{i:06d}".encode())
        small_sources.append(Source(p, transfer))
    large_path = src_dir / "large"
    write_random(large_path, args.large_mib * MIB)
    large_source = Source(large_path, transfer)
    os.sync()  # start with no dirty pages from the set-up
    print(f"sources ready in {time.time() - start:.1f} s", flush=True)

    busy0, own0 = machine_busy_s(), own_cpu_s()
    verifier = Verifier()
    server = Server(args.loam, scratch / "data")
    try:
        time.sleep(0.2)
        server_info = {"rss_idle": server.rss_mib(), "hwm_idle": server.hwm_mib(), "threads": server.threads}
        s3 = boto_s3(server.url, pool=transfer.max_request_concurrency + 2)
        s3.create_bucket(Bucket=BUCKET)
        raw = RawHttp(server.port)
        print(f"server pid {server.pid} port {server.port}, idle RSS {server_info['rss_idle']:.0f} MiB", flush=True)
        # Warm-up: connections, botocore's models and the server's first requests.
        for i in range(3):
            with open(small_sources[0].path, "rb") as f:
                s3.put_object(Bucket=BUCKET, Key=f"warmup/{i}", Body=f)
            s3.get_object(Bucket=BUCKET, Key=f"warmup/{i}")["Body"].read()
            s3.delete_object(Bucket=BUCKET, Key=f"warmup/{i}")
        small = run_size(args, "small", server, s3, transfer, raw, scratch, small_sources, args.small_reps, False,
                         verifier, rng)
        large = run_size(args, "large", server, s3, transfer, raw, scratch, [large_source], args.large_reps, True,
                         verifier, rng)
        hashes = hash_costs(large_source)
        server.stop()
    except (BenchError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, OSError) as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        try:
            server.stop()
        except BenchError:
            pass
        return 1
    other = max(0.0, (machine_busy_s() - busy0) - (own_cpu_s() - own0))
    md = markdown(args, small, large, hashes, server_info, verifier, time.time() - start, other)
    print()
    print(md, end="")
    if args.markdown_out:
        Path(args.markdown_out).write_text(md)
    if not args.keep_data:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
