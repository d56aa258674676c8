"""The object benchmark's source files, what their objects must look like (MD5 ETag, multipart
ETag, SHA-256 and CRC32 as boto3 sends them) and the checks of what comes back."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import zlib
from pathlib import Path

from boto3.s3.transfer import TransferConfig

from loam_bench import MIB, BenchError

CHUNK = MIB  # every read and write loop's block size, client and floor


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
