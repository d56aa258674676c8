"""The batch transform's model server: ``python -m loam_inference`` as a child process.

Started on a free 127.0.0.1 port with the job's settings in its environment, waited for with
``GET /ping``, asked ``GET /execution-parameters``; its stderr is relayed to the driver's (the
last line kept for failure reasons), and it is stopped with the job.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from .batch_common import UNLIMITED_MB, Failed, describe, log, snippet


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _death_signal():
    """A preexec_fn that has the child SIGKILLed if the driver dies without cleaning up.

    Linux's PR_SET_PDEATHSIG, looked up here (in the parent) so that the child, between fork
    and exec, only makes the call; None where it is not available.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return None
    prctl.restype = ctypes.c_int
    args = (ctypes.c_int(1), ctypes.c_ulong(signal.SIGKILL))  # PR_SET_PDEATHSIG

    def preexec():
        prctl(*args)

    return preexec


class Client:
    """One persistent HTTP/1.1 connection to the model server (reopened after errors)."""

    def __init__(self, port: int, timeout: float):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            data = resp.read()
        except BaseException:
            self.close()
            raise
        if resp.will_close:
            self.close()
        return resp.status, data, resp.getheader("Content-Type")

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None


class ModelServer:
    """The child model server of one job (``port`` is set once ``start`` returns)."""

    def __init__(self, job):
        self.job = job
        self.child = None
        self.port = None
        self.last_stderr = ""
        self._stderr_thread = None

    def _read_stderr(self, stream):
        out = getattr(sys.stderr, "buffer", None)
        for line in iter(stream.readline, b""):
            text = line.decode("utf-8", "replace").strip()
            if text:
                self.last_stderr = text
            try:
                if out is not None:
                    out.write(line)
                    out.flush()
                else:
                    sys.stderr.write(line.decode("utf-8", "replace"))
            except (OSError, ValueError):
                pass
        stream.close()

    def _child_env(self, port: int) -> dict:
        job = self.job
        env = dict(os.environ)
        for name in ("LOAM_TRANSFORM_CONFIG", "LOAM_WORKER_SOCKET"):
            env.pop(name, None)
        env["SAGEMAKER_BIND_TO_PORT"] = str(port)
        env["SAGEMAKER_BATCH"] = "true"
        if job.max_payload_mb is not None:
            env["SAGEMAKER_MAX_PAYLOAD_IN_MB"] = str(job.max_payload_mb or UNLIMITED_MB)
        if job.batch_strategy:
            env["SAGEMAKER_BATCH_STRATEGY"] = (
                "MULTI_RECORD" if job.batch_strategy == "MultiRecord" else "SINGLE_RECORD")
        if job.max_concurrent:
            env["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"] = str(job.max_concurrent)
        return env

    def _exit_failure(self, when: str, last: str) -> Failed:
        """The failure of a server that has exited ``when``, with ``last``, its stderr line."""
        code = self.child.returncode
        if code < 0:
            exited = f"was killed by signal {-code} {when}"
        else:
            exited = f"exited {when} with status {code}"
        return Failed(f"ClientError: the model server {exited}: {last or '(nothing on stderr)'}")

    def exited(self, when: str) -> Failed | None:
        """After a dropped connection (which often means a dying server): the failure to end
        the job with if the server has exited, else None."""
        try:
            self.child.wait(0.5)
        except subprocess.TimeoutExpired:
            pass
        if self.child.poll() is None:
            return None
        self._stderr_thread.join(2)
        return self._exit_failure(when, self.last_stderr)

    def start(self) -> None:
        job = self.job
        preexec = _death_signal()
        for attempt in range(3):
            self.port = free_port()
            self.last_stderr = ""
            self.child = subprocess.Popen(
                [sys.executable, "-m", "loam_inference"],
                env=self._child_env(self.port), stdin=subprocess.DEVNULL, stdout=None,
                stderr=subprocess.PIPE, preexec_fn=preexec,
            )
            self._stderr_thread = threading.Thread(
                target=self._read_stderr, args=(self.child.stderr,), name="model-server-stderr",
                daemon=True)
            self._stderr_thread.start()
            log(f"model server pid {self.child.pid} on 127.0.0.1:{self.port}")
            deadline = time.monotonic() + job.startup_timeout_s
            client = Client(self.port, 5)
            while True:
                if self.child.poll() is not None:
                    self._stderr_thread.join(5)
                    last = self.last_stderr
                    if "Address already in use" in last and attempt < 2:
                        log(f"port {self.port} was taken meanwhile; starting again on another")
                        break
                    raise self._exit_failure("during startup", last)
                try:
                    status, _, _ = client.request("GET", "/ping")
                    if status == 200:
                        client.close()
                        return
                except (OSError, http.client.HTTPException):
                    pass
                if time.monotonic() > deadline:
                    last = f"; its last stderr line: {self.last_stderr}" if self.last_stderr else ""
                    raise Failed(f"ClientError: the model server did not answer GET /ping with 200 "
                                 f"within {job.startup_timeout_s}s{last}")
                time.sleep(0.05)
            self.child.wait()

    def stop(self) -> None:
        child = self.child
        if child is None:
            return
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._stderr_thread is not None:
            self._stderr_thread.join(2)

    def execution_parameters(self) -> dict:
        try:
            client = Client(self.port, 30)
            status, data, _ = client.request("GET", "/execution-parameters")
            client.close()
        except (OSError, http.client.HTTPException) as exc:
            log(f"GET /execution-parameters failed ({describe(exc)}): using the defaults")
            return {}
        if status != 200:
            log(f"GET /execution-parameters answered {status}: using the defaults")
            return {}
        try:
            params = json.loads(data)
        except ValueError:
            params = None
        if not isinstance(params, dict):
            log(f"GET /execution-parameters is not a JSON object ({snippet(data, 100)}): "
                "using the defaults")
            return {}
        return params
