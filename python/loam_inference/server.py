"""HTTP/1.1 over a Unix socket or 127.0.0.1 TCP: /ping, /invocations, /execution-parameters.

Persistent connections (Loam's front end keeps a pool of them), a thread per connection, and
every response framed with Content-Length and written with one send where it is small.
"""

from __future__ import annotations

import json
import os
import socketserver
import stat
import sys
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

from .errors import BadRequest, InferenceError, PayloadTooLarge, describe

_REASONS = {status.value: status.phrase for status in HTTPStatus}
# A refused body up to this size is read and dropped so the connection stays usable; a bigger
# one closes the connection instead.
_DRAIN_LIMIT = 1 << 30
# Headers the handler chain may not set: the server frames the response itself.
_RESERVED = frozenset({"content-length", "content-type", "connection", "transfer-encoding"})


class _Headers(dict):
    """Request headers with lowercased names; lookups ignore case (like email.message)."""

    __slots__ = ()

    def get(self, key, default=None):
        return dict.get(self, key.lower(), default)

    def __getitem__(self, key):
        return dict.__getitem__(self, key.lower())

    def __contains__(self, key):
        return dict.__contains__(self, key.lower())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says "Connection: close"
    server_version = "loam-inference"
    # Set per server by make_server.
    service = None
    max_payload = 0
    access_log = False
    execution_parameters = b""

    def log_message(self, format, *args):  # noqa: A002 - base signature
        pass  # no per-request logging by default (see _send for the access log)

    # -- framing ----------------------------------------------------------------------------

    def _send(self, status, body=b"", content_type=None, extra=None):
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
                f"Content-Length: {len(body)}\r\n"]
        if content_type:
            if "\n" in content_type or "\r" in content_type:  # from a handler: keep framing
                content_type = "application/octet-stream"
            head.append(f"Content-Type: {content_type}\r\n")
        if extra:
            head.extend(f"{key}: {value}\r\n" for key, value in extra.items()
                        if key.lower() not in _RESERVED)
        if self.close_connection:
            head.append("Connection: close\r\n")
        elif self.request_version == "HTTP/1.0":
            head.append("Connection: keep-alive\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1", "replace")
        if len(body) <= 65536:
            self.wfile.write(data + body)  # one send: no Nagle/delayed-ACK stall
        else:
            self.wfile.write(data)
            self.wfile.write(body)
        if self.access_log:
            elapsed_ms = (time.monotonic() - self._started) * 1000
            print(f"loam_inference: {self.command} {self.path} {status} {len(body)}B "
                  f"{elapsed_ms:.1f}ms", flush=True)

    def _send_error(self, exc: InferenceError):
        self._send(exc.status, describe(exc).encode("utf-8"), "text/plain")

    def _content_length(self):
        raw = self.headers.get("Content-Length")
        if raw is None:
            return None
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True  # the body cannot be framed
            raise BadRequest(f"bad Content-Length {raw!r}") from None
        return length

    def _too_large(self, length):
        return PayloadTooLarge(
            f"payload of {length} bytes exceeds the {self.max_payload // (1024 * 1024)} MB "
            "limit (SAGEMAKER_MAX_PAYLOAD_IN_MB)"
        )

    def _discard(self, length):
        if length > _DRAIN_LIMIT:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                self.close_connection = True
                return
            length -= len(chunk)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self._content_length()
        if not length:
            return b""
        if length > self.max_payload:
            self._discard(length)
            raise self._too_large(length)
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise BadRequest("connection closed before the whole body arrived")
        return body

    def _read_chunked(self) -> bytes:
        parts, total = [], 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise BadRequest("bad chunked encoding") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > self.max_payload:
                self.close_connection = True
                raise self._too_large(total)
            parts.append(self.rfile.read(size))
            self.rfile.readline(3)  # the CRLF after the chunk

    # -- request parsing ---------------------------------------------------------------------
    # A lean replacement for BaseHTTPRequestHandler.parse_request: its email-package header
    # parsing was most of the per-request cost.

    def handle(self):
        self.close_connection = False
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self):
        self._started = time.monotonic()
        self.command, self.request_version = "", "HTTP/1.1"
        line = self.rfile.readline(65537)
        if not line:
            self.close_connection = True
            return
        if len(line) > 65536:
            return self._refuse(414, "request line too long")
        parts = line.decode("latin-1").split()
        if not parts:
            return  # a stray CRLF between requests
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return self._refuse(400, "bad request line")
        self.command, self.path, version = parts
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            return self._refuse(505, f"{version} is not supported")
        self.request_version = version
        headers = _Headers()
        while True:
            raw = self.rfile.readline(65537)
            if raw in (b"\r\n", b"\n", b""):
                break
            if len(raw) > 65536 or len(headers) >= 100:
                return self._refuse(431, "request headers too large")
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep or not name.strip():
                return self._refuse(400, "bad header line")
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.headers = headers
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.1":
            self.close_connection = "close" in connection
        else:
            self.close_connection = "keep-alive" not in connection
        if headers.get("expect", "").lower() == "100-continue" and version == "HTTP/1.1":
            if not self._continue():
                return
        method = getattr(self, "do_" + self.command, None)
        if method is None:
            return self._refuse(501, f"method {self.command} is not supported")
        method()

    def _refuse(self, status, message):
        self.close_connection = True
        self._send(status, f"{message}".encode("utf-8", "replace"), "text/plain")

    def _continue(self) -> bool:
        """Expect: 100-continue; an oversized body is refused before the client sends it."""
        try:
            length = self._content_length()
        except BadRequest as exc:
            self._send_error(exc)
            return False
        if length is not None and length > self.max_payload:
            self.close_connection = True
            self._send_error(self._too_large(length))
            return False
        self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    # -- routes -----------------------------------------------------------------------------

    def do_GET(self):
        path = self.path.partition("?")[0]
        if path == "/ping":
            self._send(200)
        elif path == "/execution-parameters":
            self._send(200, self.execution_parameters, "application/json")
        elif path == "/invocations":
            self._send(405, b"use POST for /invocations", "text/plain", {"Allow": "POST"})
        else:
            self._send(404, f"no route for GET {path}".encode("utf-8", "replace"), "text/plain")

    def do_POST(self):
        path = self.path.partition("?")[0]
        try:
            body = self._read_body()
        except InferenceError as exc:
            self._send_error(exc)
            return
        if path == "/invocations":
            status, out, content_type, extra = self.service.invoke(body, self.headers)
            self._send(status, out, content_type, extra)
        elif path in ("/ping", "/execution-parameters"):
            self._send(405, f"use GET for {path}".encode(), "text/plain", {"Allow": "GET"})
        else:
            self._send(404, f"no route for POST {path}".encode("utf-8", "replace"), "text/plain")


class _TcpHandler(_Handler):
    disable_nagle_algorithm = True  # TCP_NODELAY, set by StreamRequestHandler.setup


class _ServerMixin:
    daemon_threads = True  # a connection thread never holds up exit
    request_queue_size = 1024  # the front end may open many connections at once

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the client went away; nothing to report
        super().handle_error(request, client_address)


class _TcpServer(_ServerMixin, socketserver.ThreadingTCPServer):
    allow_reuse_address = True  # (not HTTPServer: its server_bind does a reverse DNS lookup)


class _UnixServer(_ServerMixin, socketserver.ThreadingUnixStreamServer):
    pass


def make_server(config, service):
    """Binds and listens (the model is already loaded: accepting means ready)."""
    attributes = {
        "service": service,
        "max_payload": config.max_payload_bytes,
        "access_log": config.access_log,
        "execution_parameters": json.dumps({
            "MaxConcurrentTransforms": config.max_concurrency,
            "BatchStrategy": "MULTI_RECORD",
            "MaxPayloadInMB": config.max_payload_mb,
        }).encode(),
    }
    if config.socket_path:
        path = config.socket_path
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                os.unlink(path)  # a stale socket from an earlier worker
        except FileNotFoundError:
            pass
        handler = type("UnixHandler", (_Handler,), attributes)
        return _UnixServer(path, handler)
    handler = type("TcpHandler", (_TcpHandler,), attributes)
    return _TcpServer(("127.0.0.1", config.port), handler)


def serve_forever(server, config) -> None:
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        if config.socket_path:
            try:
                os.unlink(config.socket_path)
            except OSError:
                pass

