"""The object benchmark's floors: the same bytes copied on the same file system without Loam (an
in-kernel copy and a user-space buffer loop, each to a temporary file renamed into place, as Loam
stores an object), and the hashing passes of client and server timed alone."""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import time
import zlib
from pathlib import Path

from objects_sources import CHUNK, Source


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
