"""The batch transform's requests: an input file split into records and packed into requests.

A file is read (gunzipped with CompressionType Gzip) in blocks of whole records; with SplitType
Line its records are packed into requests (BatchStrategy, MaxPayloadInMB), through the
InputFilter first when DataProcessing is set; with SplitType None the whole file is one.
"""

from __future__ import annotations

import gzip
import os
import threading
import zlib
from dataclasses import dataclass

from . import batch_filters as bf
from .batch_common import MIB, READ_SIZE, UNLIMITED_MB, Failed, describe
from .codecs import media_type

def _drop_empty(block: bytes) -> bytes:
    """Whole ``\\n``-terminated records starting at a record boundary, without empty ones."""
    if block.startswith((b"\n", b"\r\n")) or b"\n\n" in block or b"\n\r\n" in block:
        kept = [line for line in block.split(b"\n") if line and line != b"\r"]
        return b"\n".join(kept) + b"\n" if kept else b""
    return block


class Blocks:
    """A file's records in blocks of whole, non-empty, ``\\n``-terminated records.

    A last record without a newline gets one in the last block, and ``added_newline`` is set
    before that block is handed out.
    """

    def __init__(self, read, size: int):
        self.read = read
        self.size = size
        self.added_newline = False

    def __iter__(self):
        pending = []  # pieces of an unfinished line
        while True:
            data = self.read(self.size)
            if not data:
                break
            cut = data.rfind(b"\n")
            if cut < 0:
                pending.append(data)
                continue
            head = data if cut + 1 == len(data) else data[: cut + 1]
            if pending:
                pending.append(head)
                head = b"".join(pending)
                pending = []
            if cut + 1 < len(data):
                pending.append(data[cut + 1:])
            block = _drop_empty(head)
            if block:
                yield block
        tail = b"".join(pending)
        if tail and tail != b"\r":
            self.added_newline = True
            yield tail + b"\n"


@dataclass
class Request:
    """One POST /invocations: a record range of one file, and (when done) what to write."""

    file: "OutputFile"
    number: int  # 1-based within its file
    body: bytes | None
    first: int  # first record (1-based)
    count: int  # records in it (1 for SplitType None)
    originals: bytes | None  # the input records (newline-separated), for JoinSource Input
    whole_file: bool = False
    output: bytes | None = None
    done: threading.Event | None = None

    def __post_init__(self):
        self.done = threading.Event()

    @property
    def what(self) -> str:
        if self.whole_file:
            return "the whole file"
        if self.count == 1:
            return f"record {self.first}"
        return f"records {self.first}-{self.first + self.count - 1}"


class DataProcessing:
    """The job's DataProcessing (InputFilter, OutputFilter, JoinSource Input), checked before
    anything starts: Failed where it cannot apply.  An identity filter is left unset."""

    def __init__(self, job):
        self.input_filter = self.output_filter = None
        self.join = job.join_source == "Input"
        used = ", ".join(name for name, on in (
            ("InputFilter", job.input_filter), ("OutputFilter", job.output_filter),
            ("JoinSource Input", self.join)) if on)
        if job.split_type != "Line":
            raise Failed(f"ClientError: DataProcessing ({used}) needs SplitType Line; "
                         f"SplitType is {job.split_type}")
        media, charset = media_type(job.content_type)
        if media not in bf.INPUT_TYPES:
            raise Failed(f"ClientError: DataProcessing ({used}) supports ContentType "
                         f"{bf.SUPPORTED}; ContentType is {job.content_type or 'not set'}")
        self.input_kind = bf.INPUT_TYPES[media]
        self.input_charset = charset or "utf-8"
        try:
            "".encode(self.input_charset)
        except LookupError:
            raise Failed(f"ClientError: unknown charset {charset!r} in ContentType "
                         f"{job.content_type}") from None
        try:
            if job.input_filter:
                self.input_filter = bf.JsonPath(job.input_filter)
            if job.output_filter:
                self.output_filter = bf.JsonPath(job.output_filter)
        except bf.FilterSyntaxError as exc:
            failed_input = self.input_filter is None and job.input_filter
            which = "InputFilter" if failed_input else "OutputFilter"
            raise Failed(f"ClientError: {which}: {exc}") from None
        if self.input_filter is not None and self.input_filter.identity:
            self.input_filter = None
        if self.output_filter is not None and self.output_filter.identity:
            self.output_filter = None
        self.split_output = bool(self.output_filter or self.join)

    @staticmethod
    def of(job):
        """The job's DataProcessing, or None where it sets none."""
        if job.input_filter or job.output_filter or job.join_source == "Input":
            return DataProcessing(job)
        return None

    def parse(self, line: bytes):
        """An input record (bytes, without its newline) → CSV fields or a JSON value."""
        try:
            text = line.decode(self.input_charset)
        except UnicodeDecodeError as exc:
            raise bf.RecordError(f"the record is not valid {self.input_charset}: {exc}") from None
        if self.input_kind == bf.CSV_RECORDS:
            return bf.parse_csv_line(text)
        return bf.parse_json_text(text)


class RequestReader:
    """Reads input files into ``Request`` objects, packed for the settled payload limit."""

    def __init__(self, job, payload_mb: int, multi: bool, dp: DataProcessing | None):
        self.job = job
        self.payload_mb = payload_mb
        self.enforce_limit = payload_mb > 0
        self.limit = (payload_mb or UNLIMITED_MB) * MIB
        self.multi = multi
        self.dp = dp

    def _opener(self, rel: str):
        path = os.path.join(self.job.input_dir, rel)
        try:
            raw = open(path, "rb")
        except OSError as exc:
            raise Failed(f"ClientError: cannot open the input {rel}: "
                         f"{exc.strerror or describe(exc)}") from None
        gzipped = self.job.compression == "Gzip"
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw

        def read(size):
            try:
                return stream.read(size)
            except (OSError, EOFError, zlib.error) as exc:
                if gzipped:
                    raise Failed(f"ClientError: {rel} cannot be decompressed (CompressionType "
                                 f"Gzip): {describe(exc)}") from None
                raise Failed(f"ClientError: cannot read the input {rel}: {describe(exc)}") from None

        def close():
            try:
                stream.close()
            finally:
                raw.close()

        return raw, read, close

    def _too_large(self, rel: str, size: int) -> Failed:
        return Failed(f"ClientError: a record of {size} bytes in {rel} is larger than "
                      f"MaxPayloadInMB ({self.payload_mb} MB)")

    def requests(self, out):
        """``out``'s input file's requests, in order, as ``Request`` objects (not yet sent)."""
        rel = out.rel
        raw, read, close = self._opener(rel)
        try:
            if self.job.split_type == "None":
                yield from self._whole_file(out, raw, read)
                return
            blocks = Blocks(read, max(READ_SIZE, self.limit))
            if self.dp is not None:
                source = self._filtered(out, blocks)
            elif self.multi:
                source = self._packed(out, blocks)
            else:
                source = self._single(out, blocks)
            number = 0
            for body, first, count, originals in source:
                number += 1
                yield Request(out, number, body, first, count, originals)
        finally:
            close()

    def _whole_file(self, out, raw, read):
        rel = out.rel
        limit = self.limit if self.enforce_limit else None
        if self.job.compression == "None":
            size = os.fstat(raw.fileno()).st_size
            if limit is not None and size > limit:
                raise self._file_too_large(rel, size)
        parts, size = [], 0
        while True:
            data = read(READ_SIZE)
            if not data:
                break
            size += len(data)
            if limit is None or size <= limit:
                parts.append(data)
            else:
                parts = []  # keep counting, to say how big it is
        if limit is not None and size > limit:
            raise self._file_too_large(rel, size)
        if size:
            yield Request(out, 1, b"".join(parts), 1, 1, None, whole_file=True)

    def _file_too_large(self, rel, size):
        return Failed(f"ClientError: the file {rel} ({size} bytes) is larger than MaxPayloadInMB "
                      f"({self.payload_mb} MB); set SplitType to Line to split it")

    def _packed(self, out, blocks):
        """MultiRecord: as many whole records per request as fit in the payload limit."""
        limit, enforce, rel = self.limit, self.enforce_limit, out.rel
        carry = b""
        record = 1
        for block in blocks:
            buf = carry + block if carry else block
            n = len(buf)
            pos = 0
            while n - pos > limit:
                newline = buf.rfind(b"\n", pos, pos + limit)
                if newline >= 0:
                    end = newline + 1
                    body = buf[pos:end]
                    count = body.count(b"\n")
                else:  # the next record alone is bigger than the limit
                    end = buf.find(b"\n", pos) + 1
                    body = buf[pos:end]
                    count = 1
                    if blocks.added_newline and end == n:
                        body = body[:-1]
                    if enforce and len(body) > limit:
                        raise self._too_large(rel, len(body))
                yield body, record, count, None
                record += count
                pos = end
            carry = buf[pos:] if pos else buf
        if carry:
            count = carry.count(b"\n")
            if blocks.added_newline and count == 1:
                carry = carry[:-1]
            yield carry, record, count, None

    def _single(self, out, blocks):
        """SingleRecord: one record (with its newline) per request."""
        limit, enforce, rel = self.limit, self.enforce_limit, out.rel
        record = 1
        for block in blocks:
            n = len(block)
            pos = 0
            find = block.find
            while pos < n:
                end = find(b"\n", pos) + 1
                body = block[pos:end]
                if end == n and blocks.added_newline:
                    body = body[:-1]
                if enforce and len(body) > limit:
                    raise self._too_large(rel, len(body))
                yield body, record, 1, None
                record += 1
                pos = end

    def _filtered(self, out, blocks):
        """DataProcessing: records parsed, filtered (InputFilter) and packed; originals kept."""
        limit, enforce, rel, multi = self.limit, self.enforce_limit, out.rel, self.multi
        dp = self.dp
        kind, charset = dp.input_kind, dp.input_charset
        in_filter, keep = dp.input_filter, dp.join
        writer = bf.CsvWriter()
        parts, originals, size, first, number = [], [], 0, 1, 0
        for block in blocks:
            lines = block.split(b"\n")
            lines.pop()
            for line in lines:
                number += 1
                if in_filter is not None:
                    try:
                        record = dp.parse(line)
                    except bf.RecordError as exc:
                        raise Failed(f"ClientError: {rel}: record {number}: {exc}") from None
                    try:
                        value = in_filter(record)
                    except bf.RecordError as exc:
                        raise Failed(f"ClientError: {rel}: record {number}: InputFilter "
                                     f"{exc}") from None
                    payload = bf.serialise(value, kind, writer).encode(charset) + b"\n"
                else:
                    payload = line + b"\n"
                if enforce and len(payload) > limit:
                    raise self._too_large(rel, len(payload))
                if not multi:
                    yield payload, number, 1, line if keep else None
                    continue
                if parts and size + len(payload) > limit:
                    yield (b"".join(parts), first, len(parts),
                           b"\n".join(originals) if keep else None)
                    parts, originals, size, first = [], [], 0, number
                parts.append(payload)
                if keep:
                    originals.append(line)
                size += len(payload)
        if parts:
            yield b"".join(parts), first, len(parts), b"\n".join(originals) if keep else None
