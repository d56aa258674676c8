"""Loam's side of the object benchmark: the S3 paths (boto3's transfer manager and single calls,
raw HTTP without client-side hashing), run for every object interleaved with the floor's, each call
timed alone with the server's and this client's CPU over it, and checked outside the timed regions."""

from __future__ import annotations

import http.client
import os
import random
import shutil
import time
from pathlib import Path

from boto3.s3.transfer import TransferConfig

from loam_bench import MIB, BenchError, boto_client, pct
from objects_floor import floor_copy, floor_copy_rw
from objects_server import ObjectServer, Phase, client_cpu_s
from objects_sources import CHUNK, Source, Verifier

BUCKET = "loam-bench-objects"


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
    return boto_client("s3", url, read_timeout=300, s3={"addressing_style": "path"}, max_pool_connections=pool)


def boto_get_stream(s3, key, dest: Path):
    resp = s3.get_object(Bucket=BUCKET, Key=key)
    with open(dest, "wb", buffering=0) as f:
        for chunk in resp["Body"].iter_chunks(CHUNK):
            f.write(chunk)
    return resp["ETag"]


# Paths, in the order they run for each object: (key, label in the report).
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


def run_size(args, label, server: ObjectServer, s3, transfer: TransferConfig, raw: RawHttp, scratch: Path,
             sources: list[Source], reps, large, verifier: Verifier, rng: random.Random):
    """PUT then GET of `reps` objects of one size, each path interleaved per object. Large
    objects: at most `reps` repetitions, fewer (at least --large-min-reps) when the next one would
    end past --large-budget-s."""
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
