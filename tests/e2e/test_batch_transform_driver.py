"""End-to-end tests for ``python -m loam_inference.batch``, one batch transform instance.

Each test writes the JSON config Loam writes (``LOAM_TRANSFORM_CONFIG``), stages input files
and runs the driver as a real subprocess with the environment an endpoint worker gets; the
driver starts a real ``python -m loam_inference`` model server.  Scripts under
tests/e2e/handlers/ stand in for the user's inference code: ``batch_echo.py`` answers each
request with its body and logs what it saw (records per request, requests in flight);
predictions of the scikit-learn model are compared with its own ``predict``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPO_ROOT / "python"
HANDLERS_DIR = Path(__file__).resolve().parent / "handlers"
sys.path.insert(0, str(PYTHON_DIR))

from loam_inference import batch_filters  # noqa: E402

MIB = 1024 * 1024
RAISING_MESSAGE = "deliberate failure in predict_fn"
BROKEN_MESSAGE = "deliberate model_fn failure: this model cannot be loaded"

BASE_CONFIG = {
    "job_name": "driver-test",
    "content_type": "text/csv",
    "accept": None,
    "split_type": "Line",
    "compression": "None",
    "batch_strategy": "MultiRecord",
    "max_payload_mb": 6,
    "max_concurrent_transforms": 1,
    "assemble_with": "Line",
    "invocations_timeout_s": 30,
    "invocations_max_retries": 0,
    "input_filter": None,
    "output_filter": None,
    "join_source": "None",
    "startup_timeout_s": 60,
}


# ---------------------------------------------------------------------------------------------
# Helpers


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    failure: str | None
    outputs: dict  # path relative to the output dir -> bytes (every file there)
    log: list  # batch_echo's per-request entries

    def output(self, name: str) -> bytes:
        assert name in self.outputs, f"no {name} in {sorted(self.outputs)}\n{self.logs()}"
        return self.outputs[name]

    def logs(self) -> str:
        return f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr[-4000:]}"


class Job:
    """One instance's staged inputs, config and environment; ``run`` or ``launch`` the driver."""

    def __init__(self, base: Path, files: dict, model_dir: Path, program: str | None = None,
                 env: dict | None = None, **config):
        self.base = base
        self.input_dir = base / "input"
        self.output_dir = base / "output"
        self.failure_file = base / "failure" / "message"
        self.handler_log = base / "handler.log"
        for rel, data in files.items():
            path = self.input_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.config = dict(BASE_CONFIG, input_dir=str(self.input_dir), inputs=list(files),
                           output_dir=str(self.output_dir), failure_file=str(self.failure_file))
        self.config.update(config)
        self.config_path = base / "transform.json"
        self.config_path.write_text(json.dumps(self.config))
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("SAGEMAKER_", "LOAM_", "BATCH_TEST_"))}
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(PYTHON_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
        self.env["SM_MODEL_DIR"] = str(model_dir)
        self.env["LOAM_CODE_DIR"] = str(HANDLERS_DIR)
        self.env["LOAM_TRANSFORM_CONFIG"] = str(self.config_path)
        self.env["BATCH_TEST_LOG"] = str(self.handler_log)
        if program:
            self.env["SAGEMAKER_PROGRAM"] = program
        self.env.update(env or {})
        self.stdout_path = base / "stdout.log"
        self.stderr_path = base / "stderr.log"

    def launch(self) -> subprocess.Popen:
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            return subprocess.Popen([sys.executable, "-m", "loam_inference.batch"],
                                    cwd=self.base, env=self.env, stdout=out, stderr=err)

    def result(self, code: int) -> Result:
        outputs = {}
        for path in sorted(self.output_dir.rglob("*")):
            if path.is_file():
                outputs[path.relative_to(self.output_dir).as_posix()] = path.read_bytes()
        log = []
        if self.handler_log.exists():
            log = [json.loads(line) for line in self.handler_log.read_text().splitlines()]
        failure = self.failure_file.read_text() if self.failure_file.exists() else None
        return Result(code, self.stdout_path.read_text(errors="replace"),
                      self.stderr_path.read_text(errors="replace"), failure, outputs, log)

    def run(self, timeout: float = 60) -> Result:
        proc = self.launch()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"the driver did not finish within {timeout}s\n{self.result(-9).logs()}")
        return self.result(code)


def ok(result: Result) -> Result:
    assert result.code == 0, f"driver exited with {result.code}: {result.failure}\n{result.logs()}"
    assert result.failure is None
    return result


def failed(result: Result) -> str:
    assert result.code == 1, f"driver exited with {result.code}\n{result.logs()}"
    assert result.failure is not None and result.failure.endswith("\n"), result.logs()
    assert result.failure.count("\n") == 1, result.failure  # one line
    return result.failure.rstrip("\n")


def csv_rows(rows) -> bytes:
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()


def greedy_requests(lines: list[bytes], limit: int) -> int:
    """How many requests MultiRecord packing makes of these newline-terminated records."""
    requests, size = 0, 0
    for line in lines:
        if size and size + len(line) > limit:
            requests, size = requests + 1, 0
        size += len(line)
    return requests + (1 if size else 0)


# ---------------------------------------------------------------------------------------------
# Models


@pytest.fixture(scope="module")
def sklearn_model(tmp_path_factory):
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(3)
    x = rng.random((400, 4))
    y = x @ np.array([1.5, -2.0, 3.0, 0.5]) + rng.normal(0, 0.05, 400)
    model = RandomForestRegressor(n_estimators=8, max_depth=6, random_state=0).fit(x, y)
    model_dir = tmp_path_factory.mktemp("sklearn-model")
    joblib.dump(model, model_dir / "model.joblib")
    return model_dir, model


@pytest.fixture
def empty_model_dir(tmp_path) -> Path:
    path = tmp_path / "model"
    path.mkdir()
    return path


def echo_job(tmp_path, model_dir, files, env=None, **config) -> Job:
    return Job(tmp_path / "job", files, model_dir, program="batch_echo.py", env=env, **config)


# ---------------------------------------------------------------------------------------------
# Splitting, batching, assembling


def test_csv_multi_record_predictions_match_the_model(tmp_path, sklearn_model):
    """30 000 CSV rows (≈2.3 MB), MultiRecord with MaxPayloadInMB 1: greedy packing into
    requests of at most 1 MB (the model server is told the same limit and would answer 413),
    two in flight; every output line is the model's own prediction for that row."""
    model_dir, model = sklearn_model
    x = np.random.default_rng(5).random((30000, 4))
    body = csv_rows(x)
    result = ok(Job(tmp_path, {"data.csv": body}, model_dir, accept="text/csv",
                    max_payload_mb=1, max_concurrent_transforms=2).run())
    lines = result.output("data.csv.out").decode().splitlines()
    assert len(lines) == len(x)
    got = np.array([float(line) for line in lines])
    expected = model.predict(x)
    mismatched = np.flatnonzero(got != expected)
    assert mismatched.size == 0, (mismatched[:5], got[mismatched[:5]], expected[mismatched[:5]])
    requests = greedy_requests(body.splitlines(keepends=True), MIB)
    assert requests == 3
    assert f"data.csv: 30000 records in {requests} requests -> data.csv.out" in result.stdout
    assert "MaxConcurrentTransforms=2, BatchStrategy=MultiRecord, MaxPayloadInMB=1;" in result.stdout
    assert list(result.outputs) == ["data.csv.out"]


def test_single_record_one_request_per_record(tmp_path, empty_model_dir):
    """SingleRecord: one request per non-empty line, each with its newline; empty lines
    (``\\n`` and ``\\r\\n``) are no records; a last line without newline is sent as it is and
    AssembleWith Line gives it one."""
    data = b"r1,1\nr2,2\n\nr3,3\r\n\r\nr4,4"
    result = ok(echo_job(tmp_path, empty_model_dir, {"single.csv": data},
                         batch_strategy="SingleRecord").run())
    assert [entry["body"] for entry in result.log] == ["r1,1\n", "r2,2\n", "r3,3\r\n", "r4,4"]
    assert all(entry["records"] == 1 for entry in result.log)
    assert result.output("single.csv.out") == b"r1,1\nr2,2\nr3,3\r\nr4,4\n"
    assert "single.csv: 4 records in 4 requests" in result.stdout


def test_split_none_sends_each_file_whole(tmp_path, empty_model_dir):
    data = b"a,1\nb,2\n\nc,3\n"
    result = ok(echo_job(tmp_path, empty_model_dir, {"whole.csv": data}, split_type="None",
                         batch_strategy="SingleRecord").run())
    assert [entry["body"] for entry in result.log] == [data.decode()]
    assert result.output("whole.csv.out") == data
    assert "whole.csv: 1 records in 1 requests" in result.stdout


def test_gzip_input_is_decompressed_before_splitting(tmp_path, empty_model_dir):
    lines = [f"row-{i},{i * 0.5}\n".encode() for i in range(500)]
    data = b"".join(lines)
    result = ok(echo_job(tmp_path, empty_model_dir, {"part.csv.gz": gzip.compress(data)},
                         compression="Gzip", batch_strategy="MultiRecord").run())
    assert result.output("part.csv.gz.out") == data
    assert [entry["records"] for entry in result.log] == [500]
    assert "part.csv.gz: 500 records in 1 requests" in result.stdout


def test_corrupt_gzip_fails_naming_the_file(tmp_path, empty_model_dir):
    result = echo_job(tmp_path, empty_model_dir, {"bad.csv.gz": b"this is not gzip\n"},
                      compression="Gzip").run()
    reason = failed(result)
    assert reason.startswith("ClientError: bad.csv.gz cannot be decompressed (CompressionType Gzip): "), reason
    assert result.outputs == {}


def test_several_files_and_a_subdirectory_give_one_out_each(tmp_path, empty_model_dir):
    files = {
        "a.csv": b"a1\na2\n",
        "sub/b.csv": b"b1\nb2\nb3\n",
        "sub/deeper/c.csv": b"c1",
        "empty.csv": b"",
        "blank.csv": b"\n\n",
    }
    result = ok(echo_job(tmp_path, empty_model_dir, files, max_concurrent_transforms=3).run())
    assert result.outputs == {
        "a.csv.out": b"a1\na2\n",
        "sub/b.csv.out": b"b1\nb2\nb3\n",
        "sub/deeper/c.csv.out": b"c1\n",
        "empty.csv.out": b"",
        "blank.csv.out": b"",
    }
    assert sorted(entry["body"] for entry in result.log) == ["a1\na2\n", "b1\nb2\nb3\n", "c1"]
    assert "sub/b.csv: 3 records in 1 requests -> sub/b.csv.out" in result.stdout
    assert "empty.csv: 0 records in 0 requests" in result.stdout
    assert "done: 5 file(s), 6 records in 3 requests" in result.stdout


@pytest.mark.parametrize("assemble, expected", [("None", b"abc"), ("Line", b"a\nb\nc\n")])
def test_assemble_with(tmp_path, empty_model_dir, assemble, expected):
    """The script answers each record without its newline: AssembleWith None concatenates the
    answers as they are, Line ends each with a newline."""
    result = ok(echo_job(tmp_path, empty_model_dir, {"x.txt": b"a\nb\nc\n"},
                         env={"BATCH_TEST_STRIP": "1"}, batch_strategy="SingleRecord",
                         assemble_with=assemble).run())
    assert result.output("x.txt.out") == expected
    assert len(result.log) == 3


def test_order_is_kept_with_four_requests_in_flight(tmp_path, empty_model_dir):
    """MaxConcurrentTransforms 4 and answers that take 0-40 ms at random: four requests in
    flight (never more), the output in input order."""
    data = b"".join(f"id-{i},{i}\n".encode() for i in range(80))
    result = ok(echo_job(tmp_path, empty_model_dir, {"order.csv": data},
                         env={"BATCH_TEST_RANDOM_SLEEP": "0.04"}, batch_strategy="SingleRecord",
                         max_concurrent_transforms=4).run())
    assert result.output("order.csv.out") == data
    assert len(result.log) == 80
    assert max(entry["inflight"] for entry in result.log) == 4
    completion_order = [int(entry["body"].split(",")[1]) for entry in result.log]
    assert completion_order != sorted(completion_order)  # answers did come back out of order


def test_execution_parameters_fill_what_the_job_leaves_unset(tmp_path, empty_model_dir):
    """MaxConcurrentTransforms, MaxPayloadInMB and BatchStrategy left null come from the model
    server's GET /execution-parameters (SAGEMAKER_MODEL_SERVER_WORKERS=3, its default 6 MB,
    MULTI_RECORD)."""
    data = b"".join(f"r{i}\n".encode() for i in range(12))
    env = {"SAGEMAKER_MODEL_SERVER_WORKERS": "3", "BATCH_TEST_SLEEP": "0.15"}
    result = ok(echo_job(tmp_path / "single", empty_model_dir, {"p.csv": data}, env=env,
                         batch_strategy="SingleRecord", max_concurrent_transforms=None,
                         max_payload_mb=None).run())
    assert len(result.log) == 12
    assert max(entry["inflight"] for entry in result.log) == 3
    assert "MaxConcurrentTransforms=3, BatchStrategy=SingleRecord, MaxPayloadInMB=6 " in result.stdout
    assert result.output("p.csv.out") == data

    result = ok(echo_job(tmp_path / "multi", empty_model_dir, {"p.csv": data}, env=env,
                         batch_strategy=None, max_concurrent_transforms=0,
                         max_payload_mb=None).run())
    assert [entry["records"] for entry in result.log] == [12]
    assert "MaxConcurrentTransforms=3, BatchStrategy=MultiRecord, MaxPayloadInMB=6 " in result.stdout


# ---------------------------------------------------------------------------------------------
# Failures


def test_record_larger_than_max_payload_fails(tmp_path, empty_model_dir):
    record = b"1.0," * (400 * 1024) + b"1.0\n"  # 1.56 MB
    data = b"small\n" + record + b"after\n"
    result = echo_job(tmp_path / "line", empty_model_dir, {"big.csv": data}, max_payload_mb=1,
                      batch_strategy="MultiRecord").run()
    assert failed(result) == (f"ClientError: a record of {len(record)} bytes in big.csv is larger "
                              "than MaxPayloadInMB (1 MB)")
    assert result.outputs == {}  # the partial output is removed
    assert all("after" not in entry["body"] for entry in result.log)

    result = echo_job(tmp_path / "none", empty_model_dir, {"big.csv": data}, max_payload_mb=1,
                      split_type="None").run()
    assert failed(result) == (f"ClientError: the file big.csv ({len(data)} bytes) is larger than "
                              "MaxPayloadInMB (1 MB); set SplitType to Line to split it")
    assert result.outputs == {} and result.log == []


def test_handler_that_raises_is_retried_then_fails_the_job(tmp_path, sklearn_model):
    model_dir, _ = sklearn_model
    rows = csv_rows(np.random.default_rng(1).random((5, 4)))
    result = Job(tmp_path, {"ok.csv": b"", "data.csv": rows}, model_dir,
                 program="raising_inference.py", invocations_max_retries=2).run()
    reason = failed(result)
    message = f"ValueError: {RAISING_MESSAGE} (5 rows)"
    assert reason == f"ClientError: data.csv: the model answered 500 for records 1-5: {message}"
    for attempt in (1, 2, 3):
        assert (f"loam_inference.batch: data.csv request 1 (records 1-5): attempt {attempt} "
                f"failed: model answered 500: {message}") in result.stdout, result.logs()
    assert "attempt 4" not in result.stdout
    assert result.outputs == {"ok.csv.out": b""}  # the file finished before is kept


def test_model_that_cannot_load_fails_with_the_servers_last_line(tmp_path, empty_model_dir):
    result = Job(tmp_path, {"a.csv": b"1,2\n"}, empty_model_dir, program="broken_model_fn.py").run()
    assert failed(result) == ("ClientError: the model server exited during startup with status 1: "
                              f"loam_inference: model_fn failed: RuntimeError: {BROKEN_MESSAGE}")
    assert result.outputs == {}


def test_model_server_not_ready_in_time_is_killed(tmp_path, empty_model_dir):
    pid_file = tmp_path / "worker.pid"
    started = time.monotonic()
    result = echo_job(tmp_path, empty_model_dir, {"a.csv": b"x\n"}, startup_timeout_s=1,
                      env={"BATCH_TEST_LOAD_SLEEP": "60", "BATCH_TEST_PID_FILE": str(pid_file)}).run()
    assert failed(result) == ("ClientError: the model server did not answer GET /ping with 200 "
                              "within 1s")
    assert time.monotonic() - started < 20
    worker_pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)


def test_request_timeout_is_retried_then_fails(tmp_path, empty_model_dir):
    result = echo_job(tmp_path, empty_model_dir, {"t.csv": b"only\n"}, invocations_timeout_s=1,
                      invocations_max_retries=1, env={"BATCH_TEST_SLEEP": "4"}).run()
    assert failed(result) == "ClientError: t.csv: the model timed out after 1s for record 1"
    assert "t.csv request 1 (record 1): attempt 1 failed: timed out after 1s" in result.stdout
    assert "t.csv request 1 (record 1): attempt 2 failed: timed out after 1s" in result.stdout


def test_model_server_that_dies_mid_job_fails_it(tmp_path, empty_model_dir):
    result = echo_job(tmp_path, empty_model_dir, {"a.csv": b"a\n", "c.csv": b"c1\nboom\nc3\n"},
                      batch_strategy="SingleRecord", invocations_max_retries=3,
                      env={"BATCH_TEST_EXIT_ON": "boom"}).run()
    assert failed(result) == ("ClientError: the model server exited while transforming c.csv "
                              "(record 2) with status 3: batch_echo: exiting on purpose")
    assert "attempt 1 failed" not in result.stdout  # not retried against a dead server
    assert [entry["body"] for entry in result.log] == ["a\n", "c1\n"]


def test_bad_configurations_fail_before_the_model_server_starts(tmp_path, empty_model_dir):
    pid_file = tmp_path / "never.pid"
    env = {"BATCH_TEST_PID_FILE": str(pid_file)}
    result = echo_job(tmp_path / "a", empty_model_dir, {"a.csv": b"x\n"}, env=env,
                      input_filter="$[*]").run()
    assert failed(result).startswith("ClientError: InputFilter: unsupported JSONPath expression '$[*]'")
    result = echo_job(tmp_path / "b", empty_model_dir, {"a.csv": b"x\n"}, env=env,
                      split_type="None", join_source="Input").run()
    assert failed(result) == ("ClientError: DataProcessing (JoinSource Input) needs SplitType Line; "
                              "SplitType is None")
    result = echo_job(tmp_path / "c", empty_model_dir, {"a.csv": b"x\n"}, env=env,
                      content_type="application/x-npy", output_filter="$[0]").run()
    assert failed(result).startswith("ClientError: DataProcessing (OutputFilter) supports "
                                     "ContentType text/csv, application/json or application/jsonlines")
    result = echo_job(tmp_path / "d", empty_model_dir, {"a.csv": b"x\n"}, env=env,
                      split_type="RecordIO").run()
    assert failed(result).startswith("ClientError: bad transform config ")
    assert "split_type='RecordIO'" in result.failure
    assert not pid_file.exists()


# ---------------------------------------------------------------------------------------------
# DataProcessing


def test_csv_input_filter_join_and_output_filter(tmp_path, sklearn_model):
    """SageMaker's documented id-column recipe: InputFilter ``$[1:]`` drops the id, JoinSource
    Input appends the prediction to the original row, OutputFilter ``$[0,-1]`` keeps id and
    prediction.  An id with a comma stays one quoted CSV field."""
    model_dir, model = sklearn_model
    x = np.random.default_rng(9).random((60, 4))
    ids = [f"id-{i}" if i != 7 else "id, seven" for i in range(len(x))]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [name, *(repr(float(v)) for v in row)] for name, row in zip(ids, x))
    data = buffer.getvalue().encode()
    result = ok(Job(tmp_path, {"rows.csv": data}, model_dir, accept="text/csv",
                    input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]",
                    max_concurrent_transforms=2).run())
    expected = [f"{name},{float(p)!r}" if "," not in name else f'"{name}",{float(p)!r}'
                for name, p in zip(ids, model.predict(x))]
    assert result.output("rows.csv.out").decode().split("\n") == expected + [""]
    assert "rows.csv: 60 records in 1 requests" in result.stdout


def test_csv_filters_with_several_requests(tmp_path, sklearn_model):
    """MultiRecord with filtered rows bigger than MaxPayloadInMB 1 MB in total: several requests,
    each answer split back into its records and joined to the right rows."""
    model_dir, model = sklearn_model
    x = np.random.default_rng(10).random((16000, 4))
    data = "".join(f"{i}," + ",".join(repr(float(v)) for v in row) + "\n"
                   for i, row in enumerate(x)).encode()
    result = ok(Job(tmp_path, {"big.csv": data}, model_dir, accept="text/csv",
                    input_filter="$[1:]", join_source="Input", output_filter="$[0,-1]",
                    max_payload_mb=1, max_concurrent_transforms=3).run())
    lines = result.output("big.csv.out").decode().splitlines()
    assert [line.split(",")[0] for line in lines] == [str(i) for i in range(len(x))]
    got = np.array([float(line.split(",")[1]) for line in lines])
    assert np.array_equal(got, model.predict(x))
    filtered = [line.split(b",", 1)[1] for line in data.splitlines(keepends=True)]
    requests = greedy_requests(filtered, MIB)
    assert requests >= 2
    assert f"big.csv: 16000 records in {requests} requests" in result.stdout


def test_json_lines_filter_and_join_add_sagemaker_output(tmp_path, sklearn_model):
    """JSON Lines records: InputFilter ``$.features`` sends only the features; JoinSource Input
    adds ``SageMakerOutput`` to each record; an OutputFilter projection keeps two keys, in the
    order it names them."""
    model_dir, model = sklearn_model
    x = np.random.default_rng(12).random((25, 4))
    records = [{"id": f"r{i}", "features": [float(v) for v in row], "meta": {"n": i}}
               for i, row in enumerate(x)]
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    predictions = [float(p) for p in model.predict(x)]
    common = dict(content_type="application/jsonlines", accept="application/jsonlines",
                  input_filter="$.features", join_source="Input", batch_strategy="MultiRecord")

    result = ok(Job(tmp_path / "join", {"rows.jsonl": data}, model_dir, **common).run())
    lines = result.output("rows.jsonl.out").decode().splitlines()
    assert lines == [json.dumps({**r, "SageMakerOutput": p}, separators=(",", ":"))
                     for r, p in zip(records, predictions)]

    result = ok(Job(tmp_path / "projected", {"rows.jsonl": data}, model_dir,
                    output_filter="$['SageMakerOutput','id']", **common).run())
    lines = result.output("rows.jsonl.out").decode().splitlines()
    assert lines == [json.dumps({"SageMakerOutput": p, "id": r["id"]}, separators=(",", ":"))
                     for r, p in zip(records, predictions)]


def test_jsonpath_subset():
    record = {"a": {"b": [10, 20, 30]}, "k": "v", "x y": 1}
    fields = ["id", "1", "2", "3"]
    cases = [
        ("$", fields, fields),
        ("$[0]", fields, "id"),
        ("$[1:]", fields, ["1", "2", "3"]),
        ("$[:-1]", fields, ["id", "1", "2"]),
        ("$[0,-1]", fields, ["id", "3"]),
        ("$[::2]", fields, ["id", "2"]),
        ("$.a.b", record, [10, 20, 30]),
        ("$.a.b[-1]", record, 30),
        ("$['a']['b'][0:2]", record, [10, 20]),
        ('$["x y"]', record, 1),
        ("$['k','a']", record, {"k": "v", "a": {"b": [10, 20, 30]}}),
        ("$[0:2].n", [{"n": 1}, {"n": 2}, {"n": 3}], [1, 2]),
    ]
    for expression, value, expected in cases:
        assert batch_filters.JsonPath(expression)(value) == expected, expression
    assert list(batch_filters.JsonPath("$['k','a']")(record)) == ["k", "a"]
    for bad in ("$..a", "$[*]", "$.*", "a.b", "$[?(@.a)]", "$[1", "$['a','b'].c", "$[0:1:0]"):
        with pytest.raises(batch_filters.FilterSyntaxError) as info:
            batch_filters.JsonPath(bad)
        assert repr(bad) in str(info.value)
    with pytest.raises(batch_filters.RecordError, match="index out of range"):
        batch_filters.JsonPath("$[9]")(fields)
    with pytest.raises(batch_filters.RecordError, match="no key 'missing'"):
        batch_filters.JsonPath("$.missing")(record)


# ---------------------------------------------------------------------------------------------
# Stopping


def test_sigterm_stops_the_driver_and_its_model_server(tmp_path, empty_model_dir):
    pid_file = tmp_path / "worker.pid"
    data = b"".join(f"r{i}\n".encode() for i in range(200))
    job = echo_job(tmp_path, empty_model_dir, {"slow.csv": data},
                   env={"BATCH_TEST_SLEEP": "0.3", "BATCH_TEST_PID_FILE": str(pid_file)},
                   batch_strategy="SingleRecord", max_concurrent_transforms=1)
    proc = job.launch()
    try:
        deadline = time.monotonic() + 30
        while not (job.handler_log.exists() and job.handler_log.read_text().strip()):
            assert proc.poll() is None, job.result(proc.returncode).logs()
            assert time.monotonic() < deadline, job.result(-1).logs()
            time.sleep(0.05)
        worker_pid = int(pid_file.read_text())
        os.kill(worker_pid, 0)  # running
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = job.result(code)
    assert code == 0, result.logs()
    assert "stopped (SIGTERM)" in result.stdout
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)
    assert result.outputs == {}  # nothing half-written left behind
    assert len(result.log) < 200
