"""Step Functions executions survive the server: a crash (SIGKILL) or a graceful stop (SIGTERM)
while an execution waits, then a start on the same data dir, and the execution resumes from its
recorded history and ends as it would have, with one continuous history (ids 1..N, nothing
recorded twice, the events before the stop unchanged). A Wait is not started over, and a
``.waitForTaskToken`` task's token stays valid.

Each test runs a private server (``loam_server_factory``); timing is asserted only with margins
of a whole Wait.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from sfn_helpers import (
    answer_token,
    assert_continuous,
    create_machine,
    details,
    expect_error,
    history,
    pass_wait_pass,
    sfn_client,
    start,
    succeeded,
    task_token,
    token_machine,
    types_of,
    wait_done,
    wait_for_event,
    wait_status,
)

pytestmark = pytest.mark.timeout(120)

WAIT_S = 3
PASS_WAIT_PASS_TYPES = ["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered",
                        "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
TOKEN_TYPES = ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted",
               "TaskSucceeded", "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def event(events, event_type) -> dict:
    found = [e for e in events if e["type"] == event_type]
    assert len(found) == 1, (event_type, types_of(events))
    return found[0]


def test_kill9_mid_wait_resumes_without_starting_the_wait_over(loam_server_factory):
    srv = loam_server_factory()
    sfn = sfn_client(srv.url)
    arn = create_machine(sfn, "crashwait", pass_wait_pass(WAIT_S), tags=[{"key": "keep", "value": "me"}])
    done_before = start(sfn, create_machine(sfn, "crashdone", {"StartAt": "P", "States": {
        "P": {"Type": "Pass", "End": True}}}), {"done": True})
    done_history = history(sfn, succeeded(sfn, done_before, server=srv)["executionArn"])
    execution = start(sfn, arn, {"x": 1})
    entered = wait_for_event(sfn, execution, "WaitStateEntered", server=srv)
    before = history(sfn, execution)
    assert types_of(before) == PASS_WAIT_PASS_TYPES[:4]
    started = sfn.describe_execution(executionArn=execution)

    srv.kill9()
    # Stay down until the Wait is over: the resumed execution owes no more waiting.
    time.sleep(max(0.0, (entered["timestamp"] + dt.timedelta(seconds=WAIT_S, milliseconds=300) - now_utc())
                   .total_seconds()))
    restarted_at = now_utc()
    srv.start()
    sfn = sfn_client(srv.url)

    desc = succeeded(sfn, execution, server=srv)
    assert json.loads(desc["output"]) == {"x": 1, "before": {"step": "before"}, "after": {"step": "after"}}
    assert desc["startDate"] == started["startDate"] and desc["name"] == started["name"]
    after = history(sfn, execution)
    assert types_of(after) == PASS_WAIT_PASS_TYPES
    assert_continuous(after)
    assert after[:len(before)] == before
    exited = event(after, "WaitStateExited")
    # The Wait lasted its seconds from when it was entered, not from the restart: had it started
    # over, it would end a whole Wait after the restart.
    assert exited["timestamp"] - entered["timestamp"] >= dt.timedelta(seconds=WAIT_S)
    assert exited["timestamp"] < restarted_at + dt.timedelta(seconds=WAIT_S), (restarted_at, exited)

    # What ended before the crash is as it was; the machines and their tags are still there.
    assert history(sfn, done_before) == done_history
    assert sfn.describe_execution(executionArn=done_before)["status"] == "SUCCEEDED"
    assert sfn.describe_state_machine(stateMachineArn=arn)["status"] == "ACTIVE"
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "keep", "value": "me"}]
    assert [e["status"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]] == ["SUCCEEDED"]


def test_graceful_stop_mid_wait_resumes_and_waits_the_rest(loam_server_factory):
    srv = loam_server_factory()
    sfn = sfn_client(srv.url)
    execution = start(sfn, create_machine(sfn, "termwait", pass_wait_pass(WAIT_S)), {"y": 2})
    waiting_task = start(sfn, create_machine(sfn, "termtoken", token_machine()), {"z": 3})
    entered = wait_for_event(sfn, execution, "WaitStateEntered", server=srv)
    token = task_token(sfn, waiting_task, server=srv)
    before = history(sfn, execution)
    before_task = history(sfn, waiting_task)

    srv.stop()  # SIGTERM: asserts a clean exit (status 0) within 10 s, the Wait notwithstanding
    srv.start()
    sfn = sfn_client(srv.url)

    desc = succeeded(sfn, execution, server=srv)
    assert json.loads(desc["output"])["y"] == 2
    after = history(sfn, execution)
    assert types_of(after) == PASS_WAIT_PASS_TYPES
    assert_continuous(after)
    assert after[:len(before)] == before
    # Restarted well inside the Wait, the execution still waited all of it (counted from entry).
    assert event(after, "WaitStateExited")["timestamp"] - entered["timestamp"] >= dt.timedelta(seconds=WAIT_S)

    # The execution that waited for a token waits again, on the same token.
    assert sfn.describe_execution(executionArn=waiting_task)["status"] == "RUNNING"
    answer_token(sfn.send_task_success, taskToken=token, output='{"after": "stop"}')
    assert json.loads(succeeded(sfn, waiting_task, server=srv)["output"]) == {"z": 3, "answer": {"after": "stop"}}
    task_after = history(sfn, waiting_task)
    assert types_of(task_after) == TOKEN_TYPES
    assert_continuous(task_after)
    assert task_after[:len(before_task)] == before_task


def test_kill9_while_waiting_for_a_token_keeps_the_token_valid(loam_server_factory):
    srv = loam_server_factory()
    sfn = sfn_client(srv.url)
    execution = start(sfn, create_machine(sfn, "crashtoken", token_machine(HeartbeatSeconds=60)), {"job": 1})
    token = task_token(sfn, execution, server=srv)
    before = history(sfn, execution)
    assert types_of(before) == TOKEN_TYPES[:5]

    srv.kill9()
    srv.start()
    sfn = sfn_client(srv.url)

    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    # A heartbeat and the answer, with the token handed out before the crash.
    answer_token(sfn.send_task_heartbeat, taskToken=token)
    answer_token(sfn.send_task_success, taskToken=token, output='{"result": "ok"}')
    desc = succeeded(sfn, execution, server=srv)
    assert json.loads(desc["output"]) == {"job": 1, "answer": {"result": "ok"}}
    after = history(sfn, execution)
    # The task was scheduled, and its call made (TaskSubmitted), once.
    assert types_of(after) == TOKEN_TYPES
    assert_continuous(after)
    assert after[:len(before)] == before
    assert json.loads(details(event(after, "TaskSucceeded"))["output"]) == {"result": "ok"}


def test_kill9_then_stop_a_resumed_execution(loam_server_factory):
    srv = loam_server_factory()
    sfn = sfn_client(srv.url)
    arn = create_machine(sfn, "crashstop", {"StartAt": "Long", "States": {
        "Long": {"Type": "Wait", "Seconds": 600, "End": True}}})
    execution = start(sfn, arn, {})
    wait_for_event(sfn, execution, "WaitStateEntered", server=srv)

    srv.kill9()
    srv.start()
    sfn = sfn_client(srv.url)

    assert wait_status(sfn, execution, ["RUNNING"])["status"] == "RUNNING"
    sfn.stop_execution(executionArn=execution)
    assert wait_done(sfn, execution, server=srv)["status"] == "ABORTED"
    events = history(sfn, execution)
    assert types_of(events) == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    assert_continuous(events)
    # A name that was used before the crash is still taken.
    expect_error(sfn.start_execution, "ExecutionAlreadyExists", stateMachineArn=arn,
                 name=execution.rsplit(":", 1)[1])
