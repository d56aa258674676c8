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

The code: this entry point (arguments, sources, the run), objects_s3.py (Loam's paths and the run
of one object size), objects_floor.py (the floor and the hashing passes), objects_server.py (the
server's CPU and memory, per phase), objects_sources.py (sources and checks), objects_report.py
(the Markdown); ../common/loam_bench.py holds what the benchmarks share.

Usage: .venv/bin/python bench/objects/bench_objects.py --loam build/loam --scratch build/bench-data/objects
       [--quick] [--small-reps N] [--large-reps N] [--large-budget-s S] [--small-mib N] [--large-mib N]
       [--markdown-out F]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))

from loam_bench import MIB, BenchError, OtherLoad, fresh_dir, write_report  # noqa: E402

import botocore  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402

from objects_floor import hash_costs  # noqa: E402
from objects_report import markdown  # noqa: E402
from objects_s3 import BUCKET, RawHttp, boto_s3, run_size  # noqa: E402
from objects_server import ObjectServer  # noqa: E402
from objects_sources import Source, Verifier, write_random  # noqa: E402


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
    fresh_dir(scratch)
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

    other_load = OtherLoad()
    verifier = Verifier()
    server = ObjectServer(args.loam, scratch / "data")
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
    md = markdown(args, small, large, hashes, server_info, verifier, time.time() - start, other_load.cpu_s())
    write_report(md, args.markdown_out)
    if not args.keep_data:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
