"""The object benchmark's report: the Markdown tables scripts/bench.sh puts into
docs/benchmarks.md (goals, large objects, where the time goes, small objects, server memory)."""

from __future__ import annotations

import statistics
import sys

import boto3
import botocore

from loam_bench import MIB, goals_section, md_head, md_row, pct
from objects_s3 import GET_PATHS, PUT_PATHS

GOAL_RATIO = 0.70

PUT_LABEL = dict(PUT_PATHS)
GET_LABEL = dict(GET_PATHS)


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def fmt_pct(x):
    return f"{x * 100:.0f}%"


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

    def path_rows(r):
        """(operation, label, kind, path) for each PUT path of one size, then each GET path; boto3's in bold."""
        for kind, paths, names in (("puts", r["put_paths"], PUT_LABEL), ("gets", get_paths, GET_LABEL)):
            for p in paths:
                yield "PUT" if kind == "puts" else "GET", f"**{names[p]}**" if p in boto_paths else names[p], kind, p

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
    out += goals_section(goals)

    # Large objects
    stopped = (f"; stopped after {large['reps']} of {large['planned']} planned: another would have ended past the "
               f"{args.large_budget_s:.0f} s budget") if large["reps"] < large["planned"] else ""
    w(f"### 1. {lsize:.0f} MiB objects ({large['reps']} repetitions{stopped}; every path once per repetition, "
      f"interleaved)")
    w("")
    out += md_head("Operation", "Path", "n", "MiB/s (median time)", "slowest", "fastest", "median s", "vs floor",
                   "server CPU s", "client CPU s")
    for op, name, kind, p in path_rows(large):
        rates = [mib_s(large["size"], t) for t in large[kind][p]]
        cpu = large["cpu"][kind][p]
        w(md_row([op, name, len(rates), fmt_rate(med_rate(large, kind, p)), fmt_rate(min(rates)),
                  fmt_rate(max(rates)), f"{statistics.median(large[kind][p]):.2f}",
                  fmt_pct(med_rate(large, kind, p) / med_rate(large, kind, "floor")),
                  f"{statistics.median(c[0] for c in cpu):.2f}", f"{statistics.median(c[1] for c in cpu):.2f}"]))
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
    out += md_head("Operation", "Path", "objects/s", "MiB/s", "p50 ms", "p90 ms", "vs floor", "server CPU ms/object",
                   "client CPU ms/object")
    for op, name, kind, p in path_rows(small):
        t = small[kind][p]
        rate = agg_rate(small, kind, p)
        cpu = small["cpu"][kind][p]
        w(md_row([op, name, fmt_rate(len(t) / sum(t)), fmt_rate(rate), f"{pct(t, 50) * 1000:.1f}",
                  f"{pct(t, 90) * 1000:.1f}", fmt_pct(rate / agg_rate(small, kind, "floor")),
                  f"{sum(c[0] for c in cpu) / len(t) * 1000:.1f}", f"{sum(c[1] for c in cpu) / len(t) * 1000:.1f}"]))
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
