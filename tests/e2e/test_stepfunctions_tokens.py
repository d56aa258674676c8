"""``.waitForTaskToken`` tasks end to end with boto3: the execution makes its call, then waits;
the test reads the token from the TaskScheduled event's parameters (the state passes
``$$.Task.Token`` to ``aws-sdk:sagemaker:listModels`` as a harmless ``NameContains`` filter) and
answers with SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from botocore.exceptions import ClientError

from sfn_helpers import (
    TOKEN_PARAMETERS,
    TOKEN_RESOURCE,
    answer_token,
    assert_continuous,
    create_machine,
    details,
    expect_error,
    history,
    sfn_client,
    start,
    succeeded,
    task_token,
    token_machine,
    types_of,
    wait_done,
    wait_status,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sfn(server):
    return sfn_client(server.url)


def waiting(sfn, label: str, payload=None, **task) -> tuple[str, str]:
    """Starts a token machine; returns (execution ARN, the token it waits on) once it waits."""
    execution = start(sfn, create_machine(sfn, label, token_machine(**task)), payload if payload is not None else {})
    token = task_token(sfn, execution)
    assert wait_status(sfn, execution, ["RUNNING"])["status"] == "RUNNING"
    return execution, token


def test_execution_waits_for_the_token_then_takes_send_task_success_output(sfn):
    execution, token = waiting(sfn, "tokenok", {"order": 7})
    events = history(sfn, execution)
    assert types_of(events) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                "TaskSubmitted"]
    scheduled = details(events[2])
    assert scheduled["resourceType"] == "aws-sdk:sagemaker"
    assert scheduled["resource"] == "listModels.waitForTaskToken"
    # The call was made: its answer is recorded, and the task still waits.
    assert json.loads(details(events[4])["output"]) == {"Models": []}
    time.sleep(0.5)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"

    answer_token(sfn.send_task_success, taskToken=token, output=json.dumps({"approved": True, "by": "e2e"}))
    desc = succeeded(sfn, execution)
    assert json.loads(desc["output"]) == {"order": 7, "answer": {"approved": True, "by": "e2e"}}
    events = history(sfn, execution)
    assert types_of(events) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "PassStateEntered",
                                "PassStateExited", "ExecutionSucceeded"]
    assert_continuous(events)
    assert json.loads(details(events[5])["output"]) == {"approved": True, "by": "e2e"}


def test_send_task_failure_is_caught_by_its_error_name(sfn):
    execution, token = waiting(sfn, "tokenfail", {"order": 8}, Catch=[
        {"ErrorEquals": ["Approval.Denied"], "ResultPath": "$.denied", "Next": "Done"}])
    answer_token(sfn.send_task_failure, taskToken=token, error="Approval.Denied", cause="not today")
    desc = succeeded(sfn, execution)
    assert json.loads(desc["output"]) == {"order": 8, "denied": {"Error": "Approval.Denied", "Cause": "not today"}}
    events = history(sfn, execution)
    failed = [e for e in events if e["type"] == "TaskFailed"]
    assert len(failed) == 1
    assert details(failed[0])["error"] == "Approval.Denied" and details(failed[0])["cause"] == "not today"
    assert "TaskSucceeded" not in types_of(events)


def test_send_task_failure_not_caught_fails_the_execution(sfn):
    execution, token = waiting(sfn, "tokenfailhard", Catch=[
        {"ErrorEquals": ["Something.Else"], "Next": "Done"}])
    answer_token(sfn.send_task_failure, taskToken=token, error="Worker.Crashed", cause="segfault")
    desc = wait_done(sfn, execution)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "Worker.Crashed" and desc["cause"] == "segfault"
    assert types_of(history(sfn, execution))[-2:] == ["TaskFailed", "ExecutionFailed"]


def test_heartbeats_keep_a_task_alive_past_its_heartbeat_seconds(sfn):
    heartbeat_s = 2
    execution, token = waiting(sfn, "heartbeat", HeartbeatSeconds=heartbeat_s, TimeoutSeconds=120)
    scheduled = details(next(e for e in history(sfn, execution) if e["type"] == "TaskScheduled"))
    assert scheduled["heartbeatInSeconds"] == heartbeat_s and scheduled["timeoutInSeconds"] == 120
    task_started = next(e for e in history(sfn, execution) if e["type"] == "TaskStarted")["timestamp"]
    # Beat every quarter second until well past one heartbeat period after the task started.
    beats = 0
    while dt.datetime.now(dt.timezone.utc) < task_started + dt.timedelta(seconds=heartbeat_s + 1):
        answer_token(sfn.send_task_heartbeat, taskToken=token)
        beats += 1
        time.sleep(0.25)
    assert beats >= 4
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING", types_of(history(sfn, execution))
    answer_token(sfn.send_task_success, taskToken=token, output='{"alive": true}')
    assert json.loads(succeeded(sfn, execution)["output"])["answer"] == {"alive": True}
    assert "TaskTimedOut" not in types_of(history(sfn, execution))


def test_missed_heartbeat_times_the_task_out(sfn):
    execution = start(sfn, create_machine(sfn, "noheartbeat", token_machine(HeartbeatSeconds=1)), {})
    desc = wait_done(sfn, execution)
    assert desc["status"] == "FAILED" and desc["error"] == "States.HeartbeatTimeout", desc
    events = history(sfn, execution)
    assert types_of(events)[-3:] == ["TaskSubmitted", "TaskTimedOut", "ExecutionFailed"]
    timed_out = details(events[-2])
    assert timed_out["error"] == "States.HeartbeatTimeout" and timed_out["resourceType"] == "aws-sdk:sagemaker"


def test_heartbeat_timeout_is_caught_by_name(sfn):
    definition = token_machine(HeartbeatSeconds=1, Catch=[
        {"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.late", "Next": "Done"}])
    execution = start(sfn, create_machine(sfn, "heartbeatcatch", definition), {"k": 1})
    out = json.loads(succeeded(sfn, execution)["output"])
    assert out["k"] == 1 and out["late"]["Error"] == "States.HeartbeatTimeout"


def test_task_timeout_seconds_times_a_waiting_task_out(sfn):
    execution = start(sfn, create_machine(sfn, "tokentimeout", token_machine(TimeoutSeconds=1)), {})
    desc = wait_done(sfn, execution)
    assert desc["status"] == "FAILED" and desc["error"] == "States.Timeout", desc
    events = history(sfn, execution)
    assert types_of(events)[-2:] == ["TaskTimedOut", "ExecutionFailed"]
    assert details(events[-2])["error"] == "States.Timeout"


def test_execution_timeout_ends_a_wait_for_a_token(sfn):
    definition = {"TimeoutSeconds": 1, **token_machine()}
    execution = start(sfn, create_machine(sfn, "tokenexectimeout", definition), {})
    desc = wait_done(sfn, execution)
    assert desc["status"] == "TIMED_OUT", desc
    events = history(sfn, execution)
    assert types_of(events)[-2:] == ["TaskSubmitted", "ExecutionTimedOut"], types_of(events)
    assert events[-1]["timestamp"] - events[0]["timestamp"] >= dt.timedelta(seconds=1)


def test_token_answers_only_once(sfn):
    execution, token = waiting(sfn, "tokenonce")
    answer_token(sfn.send_task_success, taskToken=token, output='{"n": 1}')
    assert json.loads(succeeded(sfn, execution)["output"])["answer"] == {"n": 1}
    # A second answer changes nothing.
    with pytest.raises(ClientError):
        sfn.send_task_success(taskToken=token, output='{"n": 2}')
    assert json.loads(sfn.describe_execution(executionArn=execution)["output"])["answer"] == {"n": 1}
    assert types_of(history(sfn, execution)).count("TaskSucceeded") == 1


def test_answering_a_closed_task_is_task_timed_out(sfn):
    execution, token = waiting(sfn, "tokenclosed")
    answer_token(sfn.send_task_success, taskToken=token, output="{}")
    succeeded(sfn, execution)
    expect_error(sfn.send_task_success, "TaskTimedOut", taskToken=token, output="{}")
    expect_error(sfn.send_task_failure, "TaskTimedOut", taskToken=token, error="Late")
    expect_error(sfn.send_task_heartbeat, "TaskTimedOut", taskToken=token)


def test_answering_a_timed_out_task_is_task_timed_out(sfn):
    execution = start(sfn, create_machine(sfn, "tokenexpired", token_machine(HeartbeatSeconds=1)), {})
    token = task_token(sfn, execution)
    assert wait_done(sfn, execution)["error"] == "States.HeartbeatTimeout"
    expect_error(sfn.send_task_success, "TaskTimedOut", taskToken=token, output="{}")


def test_a_retried_token_task_waits_on_a_new_token(sfn):
    definition = token_machine(Retry=[{"ErrorEquals": ["Worker.Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}])
    execution = start(sfn, create_machine(sfn, "tokenretry", definition), {"try": True})
    first = task_token(sfn, execution)
    answer_token(sfn.send_task_failure, taskToken=first, error="Worker.Flaky", cause="try again")
    deadline = time.monotonic() + 30
    while (types_of(events := history(sfn, execution)).count("TaskSubmitted") < 2
           and time.monotonic() < deadline):
        time.sleep(0.05)
    scheduled = [e for e in events if e["type"] == "TaskScheduled"]
    assert len(scheduled) == 2, types_of(events)
    second = json.loads(details(scheduled[1])["parameters"])["NameContains"]
    assert second != first
    # The first attempt's token answers nothing any more.
    with pytest.raises(ClientError):
        sfn.send_task_success(taskToken=first, output='{"stale": true}')
    answer_token(sfn.send_task_success, taskToken=second, output='{"attempt": 2}')
    assert json.loads(succeeded(sfn, execution)["output"]) == {"try": True, "answer": {"attempt": 2}}
    assert types_of(history(sfn, execution)).count("TaskFailed") == 1


def test_stop_execution_while_it_waits_for_a_token(sfn):
    execution, token = waiting(sfn, "tokenstop")
    sfn.stop_execution(executionArn=execution)
    assert wait_done(sfn, execution)["status"] == "ABORTED"
    events = history(sfn, execution)
    assert types_of(events)[-2:] == ["TaskSubmitted", "ExecutionAborted"]
    with pytest.raises(ClientError):
        sfn.send_task_success(taskToken=token, output="{}")
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"


def test_each_waiting_task_gets_its_own_token(sfn):
    """Two token tasks in a row, and two executions of one machine: four distinct tokens,
    each answering only its own task."""
    definition = {"StartAt": "First", "States": {
        "First": {"Type": "Task", "Resource": TOKEN_RESOURCE, "Parameters": TOKEN_PARAMETERS, "ResultPath": "$.first",
                  "Next": "Second"},
        "Second": {"Type": "Task", "Resource": TOKEN_RESOURCE, "Parameters": TOKEN_PARAMETERS,
                   "ResultPath": "$.second", "End": True}}}
    arn = create_machine(sfn, "twotokens", definition)
    a, b = start(sfn, arn, {"who": "a"}), start(sfn, arn, {"who": "b"})
    token_a1, token_b1 = task_token(sfn, a), task_token(sfn, b)
    assert token_a1 != token_b1
    answer_token(sfn.send_task_success, taskToken=token_b1, output='"b1"')
    answer_token(sfn.send_task_success, taskToken=token_a1, output='"a1"')

    def second_token(execution):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            scheduled = [e for e in history(sfn, execution) if e["type"] == "TaskScheduled"]
            submitted = [e for e in history(sfn, execution) if e["type"] == "TaskSubmitted"]
            if len(scheduled) == 2 and len(submitted) == 2:
                return json.loads(details(scheduled[1])["parameters"])["NameContains"]
            time.sleep(0.05)
        pytest.fail(f"{execution} never reached its second token task: {types_of(history(sfn, execution))}")

    token_a2, token_b2 = second_token(a), second_token(b)
    assert len({token_a1, token_b1, token_a2, token_b2}) == 4
    answer_token(sfn.send_task_success, taskToken=token_a2, output='"a2"')
    answer_token(sfn.send_task_success, taskToken=token_b2, output='"b2"')
    assert json.loads(succeeded(sfn, a)["output"]) == {"who": "a", "first": "a1", "second": "a2"}
    assert json.loads(succeeded(sfn, b)["output"]) == {"who": "b", "first": "b1", "second": "b2"}


def test_an_answer_sent_as_soon_as_the_token_exists_is_never_lost(sfn):
    """A worker that answers the moment it has the token (here: read from TaskScheduled, which is
    written before the call is made) may answer before the execution begins to wait on it; the
    answer is kept for it rather than refused."""
    machine = create_machine(sfn, "tokenfast", token_machine())
    for i in range(8):
        execution = start(sfn, machine, {"i": i})
        token = None
        while token is None:
            scheduled = [e for e in history(sfn, execution) if e["type"] == "TaskScheduled"]
            if scheduled:
                token = json.loads(details(scheduled[0])["parameters"])["NameContains"]
        sfn.send_task_success(taskToken=token, output=json.dumps({"i": i}))  # no retry
        assert json.loads(succeeded(sfn, execution)["output"])["answer"] == {"i": i}
