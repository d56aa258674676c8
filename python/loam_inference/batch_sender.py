"""The batch transform's sender: requests POSTed to ``/invocations`` by worker threads.

Up to MaxConcurrentTransforms requests are in flight; a failed one is retried
(InvocationsMaxRetries, InvocationsTimeoutInSeconds) and a 2xx answer turned into what is
written for it (AssembleWith; OutputFilter and JoinSource when DataProcessing is set).  Each
request's ``done`` event is set when it is finished, so that the driver writes in input order.
"""

from __future__ import annotations

import http.client
import queue
import threading
import traceback

from . import batch_filters as bf
from .batch_common import Failed, describe, log, snippet
from .batch_server import Client
from .codecs import media_type


class Sender:
    """The worker threads of one job, fed through ``put``; failures go to ``fail(reason)``."""

    def __init__(self, job, server, dp, abort: threading.Event, fail):
        self.job = job
        self.server = server
        self.dp = dp
        self.abort = abort
        self.fail = fail
        self.split_output = dp is not None and dp.split_output
        self.headers = {"Content-Type": job.content_type or "application/octet-stream"}
        if job.accept:
            self.headers["Accept"] = job.accept
        self.queue = queue.Queue()
        self.threads = []

    def start(self, concurrency: int) -> None:
        for _ in range(concurrency):
            thread = threading.Thread(target=self._worker, name="invocations", daemon=True)
            thread.start()
            self.threads.append(thread)

    def put(self, request) -> None:
        self.queue.put(request)

    def stop(self) -> None:
        """Ends the workers (after their current request; the caller has set ``abort``)."""
        for _ in self.threads:
            self.queue.put(None)

    def _worker(self):
        client = Client(self.server.port, self.job.timeout_s)
        writer = bf.CsvWriter()
        while True:
            item = self.queue.get()
            if item is None or self.abort.is_set():
                if item is not None:
                    item.done.set()
                break
            try:
                data, content_type = self._send(client, item)
                if data is not None:
                    item.output = self._output(item, data, content_type, writer)
            except Failed as exc:
                self.fail(str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug here must not hang the job
                traceback.print_exc()
                self.fail(f"InternalServerError: the batch driver failed on {item.file.rel} "
                          f"{item.what}: {describe(exc)}")
            finally:
                item.body = item.originals = None
                item.done.set()
        client.close()

    def _send(self, client, item):
        """→ ``(body, content type)`` of a 2xx answer, after retries; Failed otherwise."""
        job, rel = self.job, item.file.rel
        attempts = 1 + job.max_retries
        for attempt in range(1, attempts + 1):
            if self.abort.is_set():
                return None, None
            try:
                status, data, content_type = client.request(
                    "POST", "/invocations", item.body, self.headers)
            except TimeoutError:
                reason = f"timed out after {job.timeout_s}s"
                final = f"the model timed out after {job.timeout_s}s for {item.what}"
            except (OSError, http.client.HTTPException) as exc:
                if self.abort.is_set():
                    return None, None
                failure = self.server.exited(f"while transforming {rel} ({item.what})")
                if failure is not None:
                    raise failure
                reason = f"connection error: {describe(exc)}"
                final = f"the model dropped the connection for {item.what}: {describe(exc)}"
            else:
                if 200 <= status < 300:
                    return data, content_type
                reason = f"model answered {status}: {snippet(data)}"
                final = f"the model answered {status} for {item.what}: {snippet(data)}"
            if self.abort.is_set():
                return None, None
            log(f"{rel} request {item.number} ({item.what}): attempt {attempt} failed: {reason}")
            if attempt < attempts:
                self.abort.wait(min(0.1 * attempt, 1.0))
        raise Failed(f"ClientError: {rel}: {final}")

    def _output(self, item, data, content_type, writer) -> bytes:
        if not self.split_output:
            if self.job.assemble_with == "Line" and not data.endswith(b"\n"):
                return data + b"\n"
            return data
        rel = item.file.rel
        media, charset = media_type(content_type or self.job.accept or self.job.content_type)
        out_kind = bf.OUTPUT_TYPES.get(media)
        if out_kind is None:
            raise Failed(f"ClientError: {rel}: JoinSource/OutputFilter need a response that "
                         f"splits into records ({bf.SUPPORTED}); the model answered "
                         f"{content_type or 'without a Content-Type'}")
        try:
            text = data.decode(charset or "utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise Failed(f"ClientError: {rel}: the response for {item.what} cannot be decoded: "
                         f"{describe(exc)}") from None
        try:
            outputs, parse_output = bf.split_response(text, out_kind, media, item.count)
        except bf.RecordError as exc:
            raise Failed(f"ClientError: {rel}: {exc} ({item.what}); with JoinSource or "
                         "OutputFilter the response must hold one record per input record"
                         ) from None
        dp = self.dp
        in_kind, out_filter, join = dp.input_kind, dp.output_filter, dp.join
        originals = item.originals.split(b"\n") if join else [None] * item.count
        lines = []
        number = item.first
        for original, record in zip(originals, outputs):
            kind = out_kind
            try:
                record = parse_output(record)
                if join:
                    record = bf.join(dp.parse(original), in_kind, record, out_kind)
                    kind = in_kind
            except bf.RecordError as exc:
                raise Failed(f"ClientError: {rel}: record {number}: {exc}") from None
            if out_filter is not None:
                try:
                    record = out_filter(record)
                except bf.RecordError as exc:
                    raise Failed(f"ClientError: {rel}: record {number}: OutputFilter "
                                 f"{exc}") from None
            lines.append(bf.serialise(record, kind, writer))
            number += 1
        del outputs, originals, text
        lines.append("")
        return "\n".join(lines).encode("utf-8")
