"""Helpers for the Step Functions suites: the real boto3 ``stepfunctions`` client against Loam.

Loam speaks AWS JSON 1.0 (``X-Amz-Target: AWSStepFunctions.<Op>``) in region us-east-1,
account 000000000000. Its Task states run ``arn:aws:states:::sagemaker:*`` and
``arn:aws:states:::aws-sdk:sagemaker:*`` only; ``.waitForTaskToken`` tasks here use
``aws-sdk:sagemaker:listModels`` with the token as ``NameContains`` (a harmless filter: the
call is made, answers no models, and the task then waits for SendTaskSuccess/Failure).

Every wait polls with a generous time limit and never asserts on how long anything took.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Callable, Iterable

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "000000000000"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/loam-sfn-e2e"
SM_ARN_PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"
EXEC_ARN_PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:"

DONE = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
TIMEOUT_S = 30.0
POLL_S = 0.05

# The token task Loam can wait on: the SDK call happens (ListModels, filtered by the token,
# finds nothing) and then the state waits for the token.
TOKEN_RESOURCE = "arn:aws:states:::aws-sdk:sagemaker:listModels.waitForTaskToken"
TOKEN_PARAMETERS = {"NameContains.$": "$$.Task.Token"}


def sfn_client(url: str, *, sync: bool = False):
    """The real boto3 Step Functions client pointed at Loam. Retries are off, so an error is
    the server's own answer. ``sync``: StartSyncExecution's client (boto3 prefixes that
    operation's host with ``sync-``; Loam serves every operation on one endpoint)."""
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60,
                    inject_host_prefix=not sync)
    return boto3.session.Session().client(
        "stepfunctions", endpoint_url=url, region_name=REGION, aws_access_key_id="test",
        aws_secret_access_key="test", config=config)


def unique(label: str) -> str:
    return f"e2e-{label}-{uuid.uuid4().hex[:10]}"


def create_machine(sfn, label: str, definition: dict, **kwargs) -> str:
    """Creates a state machine named after ``label`` and returns its ARN."""
    name = kwargs.pop("name", None) or unique(label)
    kwargs.setdefault("roleArn", ROLE_ARN)
    out = sfn.create_state_machine(name=name, definition=json.dumps(definition), **kwargs)
    assert out["stateMachineArn"] == SM_ARN_PREFIX + name
    return out["stateMachineArn"]


def start(sfn, machine_arn: str, payload=None, **kwargs) -> str:
    """Starts an execution with ``payload`` (JSON-encoded) as its input and returns its ARN."""
    if payload is not None:
        kwargs["input"] = json.dumps(payload)
    return sfn.start_execution(stateMachineArn=machine_arn, **kwargs)["executionArn"]


def _fail(sfn, execution_arn: str, what: str, timeout: float, server=None):
    try:
        desc = sfn.describe_execution(executionArn=execution_arn)
        types = [e["type"] for e in history(sfn, execution_arn)]
    except Exception as e:  # the server may be the thing that is broken
        desc, types = repr(e), []
    log = f"\n--- server log ---\n{server.log_tail(4000)}" if server is not None else ""
    pytest.fail(f"{execution_arn}: {what} not seen within {timeout:.0f}s\n"
                f"describe: {desc}\nhistory: {types}{log}", pytrace=False)


def wait_status(sfn, execution_arn: str, statuses: Iterable[str] = DONE, timeout: float = TIMEOUT_S,
                server=None) -> dict:
    """Polls DescribeExecution until the status is one of ``statuses``; returns the response."""
    statuses = tuple(statuses)
    deadline = time.monotonic() + timeout
    while True:
        desc = sfn.describe_execution(executionArn=execution_arn)
        if desc["status"] in statuses:
            return desc
        if time.monotonic() > deadline:
            _fail(sfn, execution_arn, f"a status in {statuses}", timeout, server)
        time.sleep(POLL_S)


def wait_done(sfn, execution_arn: str, timeout: float = TIMEOUT_S, server=None) -> dict:
    return wait_status(sfn, execution_arn, DONE, timeout, server)


def succeeded(sfn, execution_arn: str, timeout: float = TIMEOUT_S, server=None) -> dict:
    """Waits for the end and asserts SUCCEEDED; returns DescribeExecution's answer."""
    desc = wait_done(sfn, execution_arn, timeout, server)
    assert desc["status"] == "SUCCEEDED", (desc, [e["type"] for e in history(sfn, execution_arn)])
    return desc


def history(sfn, execution_arn: str, **kwargs) -> list[dict]:
    """The whole history, every page (GetExecutionHistory's nextToken followed)."""
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, **kwargs,
                                         **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def types_of(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def wait_for_event(sfn, execution_arn: str, event_type: str, timeout: float = TIMEOUT_S, server=None) -> dict:
    """Polls the history until an event of ``event_type`` is recorded; returns the first one."""
    deadline = time.monotonic() + timeout
    while True:
        for e in history(sfn, execution_arn):
            if e["type"] == event_type:
                return e
        if time.monotonic() > deadline:
            _fail(sfn, execution_arn, f"a {event_type} event", timeout, server)
        time.sleep(POLL_S)


def task_token(sfn, execution_arn: str, timeout: float = TIMEOUT_S, server=None) -> str:
    """The token of the waiting ``.waitForTaskToken`` task (TOKEN_PARAMETERS puts it in the
    TaskScheduled event's parameters). Returns once the call was made (TaskSubmitted)."""
    scheduled = wait_for_event(sfn, execution_arn, "TaskScheduled", timeout, server)
    wait_for_event(sfn, execution_arn, "TaskSubmitted", timeout, server)
    token = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["NameContains"]
    assert isinstance(token, str) and token
    return token


def answer_token(call: Callable, timeout: float = 10.0, **kwargs) -> dict:
    """Calls SendTaskSuccess/Failure/Heartbeat (``call``), retrying TaskDoesNotExist for a
    moment only: Loam registers a token with the thread that waits on it, a beat after it
    records TaskSubmitted (and after a restart, once the resumed execution gets there)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call(**kwargs)
        except ClientError as e:
            if e.response["Error"]["Code"] != "TaskDoesNotExist" or time.monotonic() > deadline:
                raise
        time.sleep(POLL_S)


def expect_error(call: Callable, code: str, status: int = 400, **kwargs) -> ClientError:
    """Calls ``call(**kwargs)``; asserts a ClientError with that AWS error code, HTTP status
    and a message."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value
    assert err.response["Error"]["Code"] == code, (
        f"expected {code}, got {err.response['Error']!r} for {sorted(kwargs)}")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status, err.response
    assert err.response["Error"].get("Message"), f"error without a message: {err.response!r}"
    return err


def details(event: dict) -> dict:
    """An event's ``...EventDetails`` member ({} when it has none)."""
    members = [k for k in event if k.endswith("EventDetails")]
    assert len(members) <= 1, event
    return event[members[0]] if members else {}


def assert_continuous(events: list[dict]) -> None:
    """Ids 1..N in order, each event pointing at its predecessor (a linear history: no
    Parallel or Map states), no duplicates."""
    ids = [e["id"] for e in events]
    assert ids == list(range(1, len(events) + 1)), ids
    assert [e["previousEventId"] for e in events] == list(range(0, len(events))), events
    assert events[0]["type"] == "ExecutionStarted", types_of(events)


# A linear machine: Pass, Wait ``seconds``, Pass.
def pass_wait_pass(seconds: int) -> dict:
    return {"StartAt": "Before", "States": {
        "Before": {"Type": "Pass", "Result": {"step": "before"}, "ResultPath": "$.before", "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": seconds, "Next": "After"},
        "After": {"Type": "Pass", "Result": {"step": "after"}, "ResultPath": "$.after", "End": True}}}


def token_machine(**task) -> dict:
    """One ``.waitForTaskToken`` task (extra fields of the Task state in ``task``), then a Pass."""
    state = {"Type": "Task", "Resource": TOKEN_RESOURCE, "Parameters": TOKEN_PARAMETERS,
             "ResultPath": "$.answer", "Next": "Done", **task}
    return {"StartAt": "Callback", "States": {"Callback": state, "Done": {"Type": "Pass", "End": True}}}
