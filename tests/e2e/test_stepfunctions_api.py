"""Step Functions end to end with boto3's ``stepfunctions`` client (and the AWS SDK for
JavaScript v3's ``@aws-sdk/client-sfn``): state machines, executions of every state type and of
``aws-sdk:sagemaker`` request-response tasks, execution history, listing and paging, updates,
deletes, tags, validation, express workflows, stops and timeouts, and the AWS error code of
every bad request. Each test states Step Functions' documented behaviour.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sfn_helpers import (
    ACCOUNT,
    EXEC_ARN_PREFIX,
    REGION,
    ROLE_ARN,
    SM_ARN_PREFIX,
    assert_continuous,
    create_machine,
    details,
    expect_error,
    history,
    pass_wait_pass,
    sfn_client,
    start,
    succeeded,
    types_of,
    unique,
    wait_done,
    wait_for_event,
    wait_status,
)

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "tests" / "node"
SFN_FLOW = NODE_DIR / "sfn_flow.mjs"

PASS = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}
LONG_WAIT = {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 600, "End": True}}}
MISSING_MODEL = "e2e-no-such-model"


@pytest.fixture(scope="module")
def sfn(server):
    return sfn_client(server.url)


@pytest.fixture(scope="module")
def sfn_sync(server):
    """For StartSyncExecution (no ``sync-`` host prefix)."""
    return sfn_client(server.url, sync=True)


def event_of(events, event_type, nth=0):
    found = [e for e in events if e["type"] == event_type]
    assert len(found) > nth, (event_type, types_of(events))
    return found[nth]


# ---------------------------------------------------------------------------
# Executions of every state type
# ---------------------------------------------------------------------------

FLOW = {
    "Comment": "Choice, Parallel (one branch waits), Map with ItemSelector and an intrinsic, Succeed",
    "StartAt": "Route",
    "States": {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Fan"}],
                  "Default": "TooSmall"},
        "TooSmall": {"Type": "Fail", "Error": "Input.TooSmall", "Cause": "n must be greater than 1"},
        "Fan": {"Type": "Parallel", "ResultPath": "$.branches", "Next": "Each", "Branches": [
            {"StartAt": "One", "States": {"One": {"Type": "Pass", "Result": "one", "End": True}}},
            {"StartAt": "Nap", "States": {
                "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Two"},
                "Two": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": True}}}]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.doubled", "Next": "Done",
                 "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
                 "ItemProcessor": {"StartAt": "Double", "States": {"Double": {
                     "Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.value, $.value)", "at.$": "$.index"},
                     "End": True}}}},
        "Done": {"Type": "Succeed"},
    },
}


def test_choice_parallel_map_and_succeed(sfn):
    arn = create_machine(sfn, "flow", FLOW)
    execution = start(sfn, arn, {"n": 5, "items": [1, 2, 3]}, name="flow-run")
    assert execution == f"{EXEC_ARN_PREFIX}{arn.rsplit(':', 1)[1]}:flow-run"
    desc = succeeded(sfn, execution)
    assert json.loads(desc["output"]) == {
        "n": 5, "items": [1, 2, 3], "branches": ["one", {"n": 5}],
        "doubled": [{"twice": 2, "at": 0}, {"twice": 4, "at": 1}, {"twice": 6, "at": 2}]}
    assert desc["stateMachineArn"] == arn and desc["name"] == "flow-run"
    assert json.loads(desc["input"]) == {"n": 5, "items": [1, 2, 3]}
    assert desc["stopDate"] >= desc["startDate"]

    events = history(sfn, execution)
    types = types_of(events)
    assert types[:5] == ["ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited", "ParallelStateEntered",
                         "ParallelStateStarted"]
    assert types[-4:] == ["MapStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"]
    for t in ("ParallelStateSucceeded", "ParallelStateExited", "WaitStateEntered", "WaitStateExited", "MapStateStarted",
              "MapStateSucceeded"):
        assert types.count(t) == 1, (t, types)
    assert types.count("MapIterationStarted") == types.count("MapIterationSucceeded") == 3
    assert [details(e)["index"] for e in events if e["type"] == "MapIterationStarted"] == [0, 1, 2]
    assert details(event_of(events, "MapStateStarted")) == {"length": 3}
    assert "Fail" not in "".join(types)
    # Ids are 1..N, each event after the one it names.
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["previousEventId"] < e["id"] for e in events)
    assert json.loads(details(events[-1])["output"]) == json.loads(desc["output"])


def test_fail_state_fails_the_execution(sfn):
    arn = create_machine(sfn, "fail", FLOW)
    execution = start(sfn, arn, {"n": 0})
    desc = wait_done(sfn, execution)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "Input.TooSmall" and desc["cause"] == "n must be greater than 1"
    assert "output" not in desc
    events = history(sfn, execution)
    # A Fail state has no Exited event: the execution fails right after it is entered.
    assert types_of(events) == ["ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited", "FailStateEntered",
                                "ExecutionFailed"]
    assert details(events[-1]) == {"error": "Input.TooSmall", "cause": "n must be greater than 1"}


def test_parallel_branch_failure_is_caught_by_its_error_name(sfn):
    definition = {"StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "ResultPath": "$.results", "Next": "Unused",
                 "Catch": [{"ErrorEquals": ["Branch.Broke"], "ResultPath": "$.caught", "Next": "Handled"}],
                 "Branches": [
                     {"StartAt": "Fine", "States": {"Fine": {"Type": "Pass", "End": True}}},
                     {"StartAt": "Broke", "States": {"Broke": {"Type": "Fail", "Error": "Branch.Broke",
                                                               "Cause": "second branch"}}}]},
        "Unused": {"Type": "Succeed"},
        "Handled": {"Type": "Pass", "End": True}}}
    execution = start(sfn, create_machine(sfn, "parfail", definition), {"in": 1})
    out = json.loads(succeeded(sfn, execution)["output"])
    assert out == {"in": 1, "caught": {"Error": "Branch.Broke", "Cause": "second branch"}}
    events = history(sfn, execution)
    # The API has no details member for ParallelStateFailed; the failing branch's FailStateEntered
    # is recorded, and the catcher gets the branch's error as it was.
    assert details(event_of(events, "ParallelStateFailed")) == {}
    assert details(event_of(events, "FailStateEntered"))["name"] == "Broke"
    assert "ParallelStateSucceeded" not in types_of(events)
    assert types_of(events)[-3:] == ["PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_choice_without_match_fails_with_no_choice_matched(sfn):
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "StringEquals": "yes", "Next": "Y"}]},
        "Y": {"Type": "Succeed"}}}
    desc = wait_done(sfn, start(sfn, create_machine(sfn, "nochoice", definition), {"x": "no"}))
    assert desc["status"] == "FAILED" and desc["error"] == "States.NoChoiceMatched", desc


def test_pass_result_path_and_input_output_paths(sfn):
    definition = {"StartAt": "Shape", "States": {
        "Shape": {"Type": "Pass", "InputPath": "$.inner", "Parameters": {"copy.$": "$.v", "fixed": 1,
                                                                         "name.$": "$$.Execution.Name"},
                  "ResultPath": "$.shaped", "OutputPath": "$.shaped", "End": True}}}
    execution = start(sfn, create_machine(sfn, "paths", definition), {"inner": {"v": [1, 2]}}, name="paths-run")
    assert json.loads(succeeded(sfn, execution)["output"]) == {"copy": [1, 2], "fixed": 1, "name": "paths-run"}


# ---------------------------------------------------------------------------
# aws-sdk:sagemaker request-response tasks
# ---------------------------------------------------------------------------


def test_sdk_list_models_task(sfn):
    definition = {"StartAt": "List", "States": {"List": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:listModels",
        "Parameters": {"MaxResults": 5, "NameContains": "no-model-has-this-name"},
        "ResultSelector": {"models.$": "$.Models"}, "ResultPath": "$.listed", "End": True}}}
    execution = start(sfn, create_machine(sfn, "listmodels", definition), {"keep": True})
    assert json.loads(succeeded(sfn, execution)["output"]) == {"keep": True, "listed": {"models": []}}
    events = history(sfn, execution)
    assert types_of(events) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    scheduled = details(event_of(events, "TaskScheduled"))
    assert scheduled["resourceType"] == "aws-sdk:sagemaker" and scheduled["resource"] == "listModels"
    assert scheduled["region"] == REGION
    assert json.loads(scheduled["parameters"]) == {"MaxResults": 5, "NameContains": "no-model-has-this-name"}
    assert details(event_of(events, "TaskStarted")) == {"resourceType": "aws-sdk:sagemaker", "resource": "listModels"}
    task_succeeded = details(event_of(events, "TaskSucceeded"))
    assert json.loads(task_succeeded["output"]) == {"Models": []}
    assert task_succeeded["outputDetails"] == {"truncated": False}


def describe_missing_model(catch_on: list[str] | None, retry_on: list[str] | None = None) -> dict:
    state = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeModel",
             "Parameters": {"ModelName": MISSING_MODEL}, "End": True}
    if retry_on:
        state["Retry"] = [{"ErrorEquals": retry_on, "IntervalSeconds": 1, "MaxAttempts": 1}]
    states = {"Describe": state}
    if catch_on:
        state["Catch"] = [{"ErrorEquals": catch_on, "ResultPath": "$.error", "Next": "Handled"}]
        states["Handled"] = {"Type": "Pass", "End": True}
    return {"StartAt": "Describe", "States": states}


def test_sdk_error_is_named_after_the_service_and_caught_by_name(sfn):
    """An AWS SDK integration's error is ``<Service>.<Exception>``: DescribeModel of a missing
    model answers SageMaker's ValidationException, so SageMaker.ValidationException. It is
    retried once, then caught."""
    arn = create_machine(sfn, "sdkcatch", describe_missing_model(["SageMaker.ValidationException"],
                                                                 retry_on=["SageMaker.ValidationException"]))
    execution = start(sfn, arn, {"a": 1})
    out = json.loads(succeeded(sfn, execution)["output"])
    assert out["a"] == 1
    assert out["error"]["Error"] == "SageMaker.ValidationException"
    assert MISSING_MODEL in out["error"]["Cause"]
    events = history(sfn, execution)
    types = types_of(events)
    # The first attempt, the retry, then the catcher's Pass state.
    assert types.count("TaskScheduled") == 2 and types.count("TaskFailed") == 2, types
    failed = details(event_of(events, "TaskFailed", 1))
    assert failed["error"] == "SageMaker.ValidationException"
    assert failed["resourceType"] == "aws-sdk:sagemaker" and failed["resource"] == "describeModel"
    assert types[-3:] == ["PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_sdk_error_is_caught_by_states_task_failed(sfn):
    execution = start(sfn, create_machine(sfn, "sdktaskfailed", describe_missing_model(["States.TaskFailed"])), {})
    out = json.loads(succeeded(sfn, execution)["output"])
    assert out["error"]["Error"] == "SageMaker.ValidationException"


def test_sdk_error_not_caught_fails_the_execution(sfn):
    arn = create_machine(sfn, "sdkuncaught", describe_missing_model(["SageMaker.ResourceNotFound"]))
    execution = start(sfn, arn, {})
    desc = wait_done(sfn, execution)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "SageMaker.ValidationException" and MISSING_MODEL in desc["cause"]
    events = history(sfn, execution)
    assert types_of(events)[-2:] == ["TaskFailed", "ExecutionFailed"]
    assert details(events[-1])["error"] == "SageMaker.ValidationException"


# ---------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------

DETAILS_MEMBER = {
    "ExecutionStarted": "executionStartedEventDetails",
    "PassStateEntered": "stateEnteredEventDetails", "PassStateExited": "stateExitedEventDetails",
    "WaitStateEntered": "stateEnteredEventDetails", "WaitStateExited": "stateExitedEventDetails",
    "ExecutionSucceeded": "executionSucceededEventDetails",
}


@pytest.fixture(scope="module")
def finished_run(sfn):
    """A finished Pass / Wait 1 s / Pass execution: (arn, its whole history)."""
    arn = create_machine(sfn, "history", pass_wait_pass(1))
    execution = start(sfn, arn, {"x": 1})
    succeeded(sfn, execution)
    return execution, history(sfn, execution)


def test_history_event_types_and_details(sfn, finished_run):
    execution, events = finished_run
    assert types_of(events) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered",
                                "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert_continuous(events)
    for e in events:
        assert isinstance(e["timestamp"], dt.datetime)
        members = [k for k in e if k.endswith("EventDetails")]
        assert members == [DETAILS_MEMBER[e["type"]]], e
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    started = details(events[0])
    assert json.loads(started["input"]) == {"x": 1} and started["inputDetails"] == {"truncated": False}
    entered = details(events[1])
    assert entered["name"] == "Before" and json.loads(entered["input"]) == {"x": 1}
    exited = details(events[2])
    assert exited["name"] == "Before" and json.loads(exited["output"]) == {"x": 1, "before": {"step": "before"}}
    assert details(events[3])["name"] == details(events[4])["name"] == "Pause"
    # The Wait state waited its second (on the server's own clock).
    assert events[4]["timestamp"] - events[3]["timestamp"] >= dt.timedelta(seconds=1)
    final = json.loads(details(events[-1])["output"])
    assert final == {"x": 1, "before": {"step": "before"}, "after": {"step": "after"}}


def test_history_pages_follow_next_token(sfn, finished_run):
    execution, events = finished_run
    pages, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=execution, maxResults=3,
                                         **({"nextToken": token} if token else {}))
        pages.append([e["id"] for e in page["events"]])
        token = page.get("nextToken")
        if not token:
            break
    assert pages == [[1, 2, 3], [4, 5, 6], [7, 8]]
    # boto3's paginator walks the same pages.
    paginator = sfn.get_paginator("get_execution_history")
    walked = [e["id"] for p in paginator.paginate(executionArn=execution, PaginationConfig={"PageSize": 3})
              for e in p["events"]]
    assert walked == [e["id"] for e in events]


def test_history_reverse_order(sfn, finished_run):
    execution, events = finished_run
    first = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=5)
    assert [e["id"] for e in first["events"]] == [8, 7, 6, 5, 4]
    assert first["events"][0]["type"] == "ExecutionSucceeded"
    rest = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=5,
                                     nextToken=first["nextToken"])
    assert [e["id"] for e in rest["events"]] == [3, 2, 1] and "nextToken" not in rest
    everything = sfn.get_execution_history(executionArn=execution, reverseOrder=True)["events"]
    assert everything == list(reversed(events))


def test_history_without_execution_data(sfn, finished_run):
    execution, events = finished_run
    bare = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)["events"]
    assert types_of(bare) == types_of(events)
    for e in bare:
        d = details(e)
        assert not {"input", "output", "parameters"} & set(d), e
    assert details(bare[1])["name"] == "Before"


# ---------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------


def test_list_executions_filters_and_pages(sfn):
    definition = {"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Default": "Ok", "Choices": [
            {"Variable": "$.mode", "StringEquals": "fail", "Next": "Boom"},
            {"Variable": "$.mode", "StringEquals": "wait", "Next": "Long"}]},
        "Ok": {"Type": "Succeed"},
        "Boom": {"Type": "Fail", "Error": "Boom"},
        "Long": {"Type": "Wait", "Seconds": 600, "End": True}}}
    arn = create_machine(sfn, "listexec", definition)
    names = []
    for i, mode in enumerate(["ok", "fail", "ok", "ok", "wait"]):
        names.append(f"run-{i}-{mode}")
        start(sfn, arn, {"mode": mode}, name=names[-1])
    for name in names[:4]:
        wait_done(sfn, f"{EXEC_ARN_PREFIX}{arn.rsplit(':', 1)[1]}:{name}")
    running = f"{EXEC_ARN_PREFIX}{arn.rsplit(':', 1)[1]}:{names[4]}"
    wait_status(sfn, running, ["RUNNING"])
    try:
        everything = sfn.list_executions(stateMachineArn=arn)["executions"]
        # Most recent first.
        assert [e["name"] for e in everything] == list(reversed(names))
        assert all(e["stateMachineArn"] == arn and e["executionArn"].endswith(":" + e["name"]) for e in everything)
        assert {e["name"]: e["status"] for e in everything} == {
            "run-0-ok": "SUCCEEDED", "run-1-fail": "FAILED", "run-2-ok": "SUCCEEDED", "run-3-ok": "SUCCEEDED",
            "run-4-wait": "RUNNING"}
        assert "stopDate" not in everything[0] and all("stopDate" in e for e in everything[1:])

        def names_with(status):
            return [e["name"] for e in sfn.list_executions(stateMachineArn=arn, statusFilter=status)["executions"]]

        assert names_with("SUCCEEDED") == ["run-3-ok", "run-2-ok", "run-0-ok"]
        assert names_with("FAILED") == ["run-1-fail"]
        assert names_with("RUNNING") == ["run-4-wait"]
        assert names_with("ABORTED") == [] and names_with("TIMED_OUT") == []

        pages, token = [], None
        while True:
            page = sfn.list_executions(stateMachineArn=arn, maxResults=2, **({"nextToken": token} if token else {}))
            pages.append([e["name"] for e in page["executions"]])
            token = page.get("nextToken")
            if not token:
                break
        assert pages == [names[4:2:-1], names[2:0:-1], names[:1]]
        first = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED", maxResults=2)
        second = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED", maxResults=2,
                                     nextToken=first["nextToken"])
        assert [e["name"] for e in first["executions"] + second["executions"]] == ["run-3-ok", "run-2-ok", "run-0-ok"]
        assert "nextToken" not in second
    finally:
        sfn.stop_execution(executionArn=running)


def test_list_state_machines_pages(fresh_server):
    sfn = sfn_client(fresh_server.url)
    assert sfn.list_state_machines()["stateMachines"] == []
    created = {}
    for i in range(5):
        kind = "EXPRESS" if i == 2 else "STANDARD"
        arn = create_machine(sfn, f"listsm{i}", PASS, type=kind)
        created[arn] = kind
    pages, token = [], None
    while True:
        page = sfn.list_state_machines(maxResults=2, **({"nextToken": token} if token else {}))
        pages.append(page["stateMachines"])
        token = page.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    listed = [m for p in pages for m in p]
    assert {m["stateMachineArn"]: m["type"] for m in listed} == created
    for m in listed:
        assert m["stateMachineArn"] == SM_ARN_PREFIX + m["name"]
        assert isinstance(m["creationDate"], dt.datetime)
    walked = [m["stateMachineArn"] for p in sfn.get_paginator("list_state_machines").paginate(
        PaginationConfig={"PageSize": 3}) for m in p["stateMachines"]]
    assert walked == [m["stateMachineArn"] for m in listed]


# ---------------------------------------------------------------------------
# State machines: describe, update, delete, idempotent create, tags
# ---------------------------------------------------------------------------


def test_describe_state_machine(sfn):
    name = unique("describe")
    arn = create_machine(sfn, "describe", PASS, name=name)
    desc = sfn.describe_state_machine(stateMachineArn=arn)
    assert desc["stateMachineArn"] == arn and desc["name"] == name
    assert desc["status"] == "ACTIVE" and desc["type"] == "STANDARD"
    assert json.loads(desc["definition"]) == PASS
    assert desc["roleArn"] == ROLE_ARN
    assert isinstance(desc["creationDate"], dt.datetime)
    assert desc["loggingConfiguration"]["level"] == "OFF"
    assert desc["revisionId"]


def test_update_keeps_the_definition_of_running_executions(sfn):
    old = {"StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Say"},
        "Say": {"Type": "Pass", "Result": "old", "ResultPath": "$.said", "End": True}}}
    new = {"StartAt": "Say", "States": {"Say": {"Type": "Pass", "Result": "new", "ResultPath": "$.said", "End": True}}}
    arn = create_machine(sfn, "update", old)
    before = sfn.describe_state_machine(stateMachineArn=arn)
    running = start(sfn, arn, {})
    wait_status(sfn, running, ["RUNNING"])
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(new))
    assert updated["revisionId"] and updated["revisionId"] != before["revisionId"]
    assert isinstance(updated["updateDate"], dt.datetime)

    after = sfn.describe_state_machine(stateMachineArn=arn)
    assert json.loads(after["definition"]) == new and after["revisionId"] == updated["revisionId"]
    assert after["creationDate"] == before["creationDate"]
    for_running = sfn.describe_state_machine_for_execution(executionArn=running)
    assert for_running["stateMachineArn"] == arn
    assert json.loads(for_running["definition"]) == old
    assert for_running["revisionId"] == before["revisionId"]
    # The running execution finishes with the definition it started with; new ones use the new one.
    assert json.loads(succeeded(sfn, running)["output"]) == {"said": "old"}
    fresh = start(sfn, arn, {})
    assert json.loads(succeeded(sfn, fresh)["output"]) == {"said": "new"}
    assert json.loads(sfn.describe_state_machine_for_execution(executionArn=fresh)["definition"]) == new


def test_update_role_only(sfn):
    arn = create_machine(sfn, "updaterole", PASS)
    other_role = f"arn:aws:iam::{ACCOUNT}:role/another-role"
    sfn.update_state_machine(stateMachineArn=arn, roleArn=other_role)
    desc = sfn.describe_state_machine(stateMachineArn=arn)
    assert desc["roleArn"] == other_role and json.loads(desc["definition"]) == PASS


def test_delete_state_machine(sfn):
    name = unique("delete")
    arn = create_machine(sfn, "delete", pass_wait_pass(1), name=name)
    running = start(sfn, arn, {})
    wait_status(sfn, running, ["RUNNING"])
    assert sfn.delete_state_machine(stateMachineArn=arn)["ResponseMetadata"]["HTTPStatusCode"] == 200
    expect_error(sfn.describe_state_machine, "StateMachineDoesNotExist", stateMachineArn=arn)
    expect_error(sfn.start_execution, "StateMachineDoesNotExist", stateMachineArn=arn)
    listed = [m["stateMachineArn"] for p in sfn.get_paginator("list_state_machines").paginate()
              for m in p["stateMachines"]]
    assert arn not in listed
    # An execution that was running goes on to its end.
    succeeded(sfn, running)
    # Deleting again (nothing left) succeeds; the name can be used again, for a new definition.
    sfn.delete_state_machine(stateMachineArn=arn)
    assert create_machine(sfn, "delete", PASS, name=name) == arn
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == PASS


def test_create_state_machine_is_idempotent(sfn):
    name = unique("idem")
    first = sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE_ARN)
    again = sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE_ARN)
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert again["creationDate"] == first["creationDate"]
    other = {"StartAt": "Other", "States": {"Other": {"Type": "Pass", "End": True}}}
    expect_error(sfn.create_state_machine, "StateMachineAlreadyExists", name=name, definition=json.dumps(other),
                 roleArn=ROLE_ARN)
    expect_error(sfn.create_state_machine, "StateMachineAlreadyExists", name=name, definition=json.dumps(PASS),
                 roleArn=ROLE_ARN, type="EXPRESS")
    assert json.loads(sfn.describe_state_machine(stateMachineArn=first["stateMachineArn"])["definition"]) == PASS


def test_create_idempotency_ignores_role_arn(sfn):
    name = unique("idemrole")
    first = sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE_ARN)
    # AWS: "If a following request has a different roleArn or tags, Step Functions will ignore these
    # differences and treat it as an idempotent request of the previous" (CreateStateMachine).
    again = sfn.create_state_machine(name=name, definition=json.dumps(PASS),
                                     roleArn=f"arn:aws:iam::{ACCOUNT}:role/another-role")
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert sfn.describe_state_machine(stateMachineArn=first["stateMachineArn"])["roleArn"] == ROLE_ARN


def test_create_idempotency_does_not_update_tags(sfn):
    name = unique("idemtags")
    arn = sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE_ARN,
                                   tags=[{"key": "first", "value": "1"}])["stateMachineArn"]
    sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE_ARN,
                             tags=[{"key": "second", "value": "2"}])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "first", "value": "1"}]


def test_create_with_other_logging_configuration_is_refused(sfn):
    name = unique("idemlog")
    sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE_ARN)
    expect_error(sfn.create_state_machine, "StateMachineAlreadyExists", name=name, definition=json.dumps(PASS),
                 roleArn=ROLE_ARN, loggingConfiguration={
                     "level": "ALL", "includeExecutionData": True, "destinations": [{"cloudWatchLogsLogGroup": {
                         "logGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:sfn-e2e:*"}}]})


def test_tags(sfn):
    arn = create_machine(sfn, "tags", PASS, tags=[{"key": "team", "value": "ml"}, {"key": "env", "value": "test"}])

    def tags():
        return sorted((t["key"], t["value"]) for t in sfn.list_tags_for_resource(resourceArn=arn)["tags"])

    assert tags() == [("env", "test"), ("team", "ml")]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "platform"}, {"key": "cost", "value": "42"}])
    assert tags() == [("cost", "42"), ("env", "test"), ("team", "platform")]
    sfn.untag_resource(resourceArn=arn, tagKeys=["env", "not-there"])
    assert tags() == [("cost", "42"), ("team", "platform")]
    missing = arn + "-missing"
    expect_error(sfn.list_tags_for_resource, "ResourceNotFound", resourceArn=missing)
    expect_error(sfn.tag_resource, "ResourceNotFound", resourceArn=missing, tags=[{"key": "a", "value": "b"}])
    expect_error(sfn.untag_resource, "ResourceNotFound", resourceArn=missing, tagKeys=["a"])


def test_tag_resource_with_malformed_arn_is_invalid_arn(sfn):
    expect_error(sfn.tag_resource, "InvalidArn", resourceArn="not-an-arn", tags=[{"key": "a", "value": "b"}])
    expect_error(sfn.tag_resource, "InvalidArn", resourceArn="arn:aws:s3:::some-bucket",
                 tags=[{"key": "a", "value": "b"}])


FIFTY_ONE_TAGS = [{"key": f"k{i}", "value": "v"} for i in range(51)]


def test_too_many_tags_is_too_many_tags(sfn):
    tagged = create_machine(sfn, "manytags", PASS)
    expect_error(sfn.tag_resource, "TooManyTags", resourceArn=tagged, tags=FIFTY_ONE_TAGS)
    expect_error(sfn.create_state_machine, "TooManyTags", name=unique("manytags"), definition=json.dumps(PASS),
                 roleArn=ROLE_ARN, tags=FIFTY_ONE_TAGS)


def test_create_refused_for_its_tags_creates_nothing(sfn):
    name = unique("manytagsleft")
    with pytest.raises(ClientError):
        sfn.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE_ARN, tags=FIFTY_ONE_TAGS)
    expect_error(sfn.describe_state_machine, "StateMachineDoesNotExist", stateMachineArn=SM_ARN_PREFIX + name)


# ---------------------------------------------------------------------------
# Validation, express workflows, stop, timeout
# ---------------------------------------------------------------------------


def test_validate_state_machine_definition(sfn):
    ok = sfn.validate_state_machine_definition(definition=json.dumps(FLOW))
    assert ok["result"] == "OK" and ok["diagnostics"] == []
    cases = [
        ("{not json", "INVALID_JSON_DESCRIPTION", None),
        (json.dumps({"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": True}}}), "SCHEMA_VALIDATION_FAILED",
         "/States/A/Type"),
        (json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}),
         "MISSING_TRANSITION_TARGET", "/States/A/Next"),
    ]
    for definition, code, location in cases:
        out = sfn.validate_state_machine_definition(definition=definition)
        assert out["result"] == "FAIL", (definition, out)
        assert len(out["diagnostics"]) == 1, out
        diagnostic = out["diagnostics"][0]
        assert diagnostic["severity"] == "ERROR" and diagnostic["code"] == code, out
        assert diagnostic["message"], out
        if location:
            assert diagnostic["location"] == location, out


def test_start_sync_execution_on_express(sfn, sfn_sync):
    definition = {"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": False, "Next": "No"}],
                  "Default": "Yes"},
        "Yes": {"Type": "Pass", "Result": {"r": 1}, "ResultPath": "$.res", "End": True},
        "No": {"Type": "Fail", "Error": "Express.Refused", "Cause": "ok was false"}}}
    arn = create_machine(sfn, "express", definition, type="EXPRESS")
    assert sfn.describe_state_machine(stateMachineArn=arn)["type"] == "EXPRESS"
    out = sfn_sync.start_sync_execution(stateMachineArn=arn, input=json.dumps({"ok": True}), name="sync-ok")
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"ok": True, "res": {"r": 1}}
    assert out["stateMachineArn"] == arn and out["name"] == "sync-ok"
    assert out["executionArn"].startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:express:")
    assert out["stopDate"] >= out["startDate"]
    failed = sfn_sync.start_sync_execution(stateMachineArn=arn, input=json.dumps({"ok": False}))
    assert failed["status"] == "FAILED"
    assert failed["error"] == "Express.Refused" and failed["cause"] == "ok was false"
    assert "output" not in failed

    standard = create_machine(sfn, "notexpress", PASS)
    expect_error(sfn_sync.start_sync_execution, "StateMachineTypeNotSupported", stateMachineArn=standard)


def test_list_executions_of_express_is_not_supported(sfn):
    arn = create_machine(sfn, "expresslist", PASS, type="EXPRESS")
    expect_error(sfn.list_executions, "StateMachineTypeNotSupported", stateMachineArn=arn)


def test_stop_execution_of_a_long_wait(sfn):
    arn = create_machine(sfn, "stop", LONG_WAIT)
    execution = start(sfn, arn, {"k": "v"})
    wait_status(sfn, execution, ["RUNNING"])
    wait_for_event(sfn, execution, "WaitStateEntered")  # stop once the Wait is under way
    stopped = sfn.stop_execution(executionArn=execution)
    assert isinstance(stopped["stopDate"], dt.datetime)
    desc = wait_done(sfn, execution)
    assert desc["status"] == "ABORTED" and desc["stopDate"] == stopped["stopDate"]
    assert "output" not in desc
    events = history(sfn, execution)
    assert types_of(events) == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    assert_continuous(events)
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=arn, statusFilter="ABORTED")["executions"]] == [
        desc["name"]]


def test_stop_execution_records_error_and_cause(sfn):
    execution = start(sfn, create_machine(sfn, "stopcause", LONG_WAIT), {})
    wait_status(sfn, execution, ["RUNNING"])
    sfn.stop_execution(executionArn=execution, error="Operator.Stop", cause="stopped by the e2e test")
    assert wait_done(sfn, execution)["status"] == "ABORTED"
    aborted = history(sfn, execution)[-1]
    assert aborted["type"] == "ExecutionAborted"
    assert details(aborted) == {"error": "Operator.Stop", "cause": "stopped by the e2e test"}


def test_execution_started_event_has_role_arn(sfn, finished_run):
    _, events = finished_run
    assert details(events[0])["roleArn"] == ROLE_ARN


def test_definition_timeout_seconds_times_out(sfn):
    definition = {"TimeoutSeconds": 1, "StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 600,
                                                                            "End": True}}}
    execution = start(sfn, create_machine(sfn, "timeout", definition), {})
    desc = wait_done(sfn, execution)
    assert desc["status"] == "TIMED_OUT", desc
    assert "output" not in desc
    events = history(sfn, execution)
    assert types_of(events) == ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"]
    assert events[-1]["timestamp"] - events[0]["timestamp"] >= dt.timedelta(seconds=1)


# ---------------------------------------------------------------------------
# Idempotent StartExecution
# ---------------------------------------------------------------------------


def test_start_execution_is_idempotent_while_running(sfn):
    arn = create_machine(sfn, "idemstart", LONG_WAIT)
    first = sfn.start_execution(stateMachineArn=arn, name="same", input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=arn, name="same", input='{"a": 1}')
    assert again["executionArn"] == first["executionArn"] and again["startDate"] == first["startDate"]
    expect_error(sfn.start_execution, "ExecutionAlreadyExists", stateMachineArn=arn, name="same", input='{"a": 2}')
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1
    sfn.stop_execution(executionArn=first["executionArn"])
    assert wait_done(sfn, first["executionArn"])["status"] == "ABORTED"
    # Once it is closed, the name is taken even for the same input.
    expect_error(sfn.start_execution, "ExecutionAlreadyExists", stateMachineArn=arn, name="same", input='{"a": 1}')


# ---------------------------------------------------------------------------
# Bad input: the AWS error code of each
# ---------------------------------------------------------------------------

BAD_DEFINITIONS = {
    "not-json": "{not json",
    "unknown-state-type": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": True}}}),
    "missing-next-target": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}}),
    "missing-start-state": json.dumps({"StartAt": "Q", "States": {"A": {"Type": "Pass", "End": True}}}),
    "unreachable-state": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True},
                                                                "B": {"Type": "Pass", "End": True}}}),
    "no-states": json.dumps({"StartAt": "A", "States": {}}),
    # Valid in AWS, refused by Loam: its Task states run SageMaker integrations only.
    "lambda-resource": json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}}),
    "sagemaker-sdk-sync": json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:listModels.sync", "End": True}}}),
    "bad-jsonpath": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "nope", "End": True}}}),
}


@pytest.mark.parametrize("definition", BAD_DEFINITIONS.values(), ids=BAD_DEFINITIONS.keys())
def test_invalid_definition(sfn, definition):
    name = unique("baddef")
    err = expect_error(sfn.create_state_machine, "InvalidDefinition", name=name, definition=definition,
                       roleArn=ROLE_ARN)
    assert "Invalid State Machine Definition" in err.response["Error"]["Message"]
    expect_error(sfn.describe_state_machine, "StateMachineDoesNotExist", stateMachineArn=SM_ARN_PREFIX + name)
    arn = create_machine(sfn, "goodbefore", PASS)
    expect_error(sfn.update_state_machine, "InvalidDefinition", stateMachineArn=arn, definition=definition)
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == PASS


def test_express_machines_cannot_wait_for_tokens(sfn):
    definition = json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:listModels.waitForTaskToken",
        "Parameters": {"NameContains.$": "$$.Task.Token"}, "End": True}}})
    expect_error(sfn.create_state_machine, "InvalidDefinition", name=unique("expresstoken"), definition=definition,
                 roleArn=ROLE_ARN, type="EXPRESS")


@pytest.mark.parametrize("bad_name", ["has space", "has/slash", "tab\there", "brace{", "star*", "colon:x"])
def test_invalid_names(sfn, bad_name):
    expect_error(sfn.create_state_machine, "InvalidName", name=bad_name, definition=json.dumps(PASS), roleArn=ROLE_ARN)
    arn = create_machine(sfn, "names", PASS)
    expect_error(sfn.start_execution, "InvalidName", stateMachineArn=arn, name=bad_name)
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_names_of_80_characters_are_fine_81_are_not(sfn):
    name80 = unique("n80").ljust(80, "x")
    arn = create_machine(sfn, "n80", PASS, name=name80)
    execution = start(sfn, arn, {}, name="e" * 80)
    succeeded(sfn, execution)
    err = expect_error(sfn.create_state_machine, "ValidationException", name=unique("n81").ljust(81, "x"),
                       definition=json.dumps(PASS), roleArn=ROLE_ARN)
    assert "name" in err.response["Error"]["Message"]
    expect_error(sfn.start_execution, "ValidationException", stateMachineArn=arn, name="e" * 81)


def test_model_constraints_are_validation_exceptions(sfn, finished_run):
    execution, _ = finished_run
    arn = sfn.describe_execution(executionArn=execution)["stateMachineArn"]
    for call, kwargs in [
        (sfn.list_state_machines, {"maxResults": 1001}),
        (sfn.list_executions, {"stateMachineArn": arn, "maxResults": 1001}),
        (sfn.get_execution_history, {"executionArn": execution, "maxResults": 1001}),
        (sfn.list_executions, {"stateMachineArn": arn, "statusFilter": "SOMETIMES"}),
        (sfn.create_state_machine, {"name": unique("type"), "definition": json.dumps(PASS), "roleArn": ROLE_ARN,
                                    "type": "SOMETIMES"}),
        (sfn.tag_resource, {"resourceArn": arn, "tags": [{"key": "k" * 129, "value": "v"}]}),
        (sfn.send_task_success, {"taskToken": "t" * 2049, "output": "{}"}),
    ]:
        expect_error(call, "ValidationException", **kwargs)


def test_invalid_arns(sfn, finished_run):
    execution, _ = finished_run
    machine = sfn.describe_execution(executionArn=execution)["stateMachineArn"]
    for call, kwargs in [
        (sfn.describe_state_machine, {"stateMachineArn": "not-an-arn"}),
        (sfn.describe_state_machine, {"stateMachineArn": "arn:aws:s3:::some-bucket"}),
        (sfn.describe_state_machine, {"stateMachineArn": execution}),
        (sfn.start_execution, {"stateMachineArn": execution}),
        (sfn.delete_state_machine, {"stateMachineArn": "not-an-arn"}),
        (sfn.update_state_machine, {"stateMachineArn": "not-an-arn", "definition": json.dumps(PASS)}),
        (sfn.list_executions, {"stateMachineArn": "not-an-arn"}),
        (sfn.describe_execution, {"executionArn": machine}),
        (sfn.describe_execution, {"executionArn": "not-an-arn"}),
        (sfn.get_execution_history, {"executionArn": machine}),
        (sfn.stop_execution, {"executionArn": "not-an-arn"}),
        (sfn.describe_state_machine_for_execution, {"executionArn": machine}),
    ]:
        expect_error(call, "InvalidArn", **kwargs)


def test_create_with_malformed_role_arn_is_invalid_arn(sfn):
    name = unique("badrole")
    expect_error(sfn.create_state_machine, "InvalidArn", name=name, definition=json.dumps(PASS), roleArn="not-a-role")


def test_missing_resources(sfn, finished_run):
    execution, _ = finished_run
    machine = sfn.describe_execution(executionArn=execution)["stateMachineArn"]
    missing_machine = machine + "-missing"
    missing_execution = execution + "-missing"
    for call, kwargs in [
        (sfn.describe_state_machine, {"stateMachineArn": missing_machine}),
        (sfn.start_execution, {"stateMachineArn": missing_machine}),
        (sfn.update_state_machine, {"stateMachineArn": missing_machine, "definition": json.dumps(PASS)}),
        (sfn.list_executions, {"stateMachineArn": missing_machine}),
    ]:
        expect_error(call, "StateMachineDoesNotExist", **kwargs)
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.stop_execution,
                 sfn.describe_state_machine_for_execution):
        expect_error(call, "ExecutionDoesNotExist", executionArn=missing_execution)


def test_invalid_execution_input(sfn):
    arn = create_machine(sfn, "badinput", PASS)
    for bad in ("{not json", "[1, 2", "nope"):
        expect_error(sfn.start_execution, "InvalidExecutionInput", stateMachineArn=arn, input=bad)
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_task_token_errors(sfn):
    unknown = "0123456789abcdef" * 2 + "00000001"  # shaped like Loam's tokens, issued by nobody
    expect_error(sfn.send_task_success, "TaskDoesNotExist", taskToken=unknown, output="{}")
    expect_error(sfn.send_task_failure, "TaskDoesNotExist", taskToken=unknown, error="E", cause="C")
    expect_error(sfn.send_task_heartbeat, "TaskDoesNotExist", taskToken=unknown)
    expect_error(sfn.send_task_success, "InvalidOutput", taskToken=unknown, output="{not json")


def test_update_without_changes_and_bad_page_tokens(sfn, finished_run):
    execution, _ = finished_run
    arn = sfn.describe_execution(executionArn=execution)["stateMachineArn"]
    expect_error(sfn.update_state_machine, "MissingRequiredParameter", stateMachineArn=arn)
    expect_error(sfn.list_state_machines, "InvalidToken", nextToken="not-a-token")
    expect_error(sfn.list_executions, "InvalidToken", stateMachineArn=arn, nextToken="not-a-token")
    expect_error(sfn.get_execution_history, "InvalidToken", executionArn=execution, nextToken="not-a-token")


def test_raw_error_body_is_aws_json(server):
    """What every SDK parses: HTTP 400, application/x-amz-json-1.0, ``__type`` and ``message``."""
    resp = server.http.post(server.url + "/", timeout=30, data=json.dumps({"stateMachineArn": "not-an-arn"}),
                            headers={"X-Amz-Target": "AWSStepFunctions.DescribeStateMachine",
                                     "Content-Type": "application/x-amz-json-1.0"})
    assert resp.status_code == 400, resp.text
    assert resp.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    body = resp.json()
    assert body["__type"].rsplit("#", 1)[-1] == "InvalidArn" and body["message"], body


# ---------------------------------------------------------------------------
# The AWS SDK for JavaScript v3
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def js_flow(server):
    node = shutil.which("node")
    # A failure, not a skip: scripts/setup.sh installs Node.js and tests/node's packages.
    assert node is not None, "node is not installed (scripts/setup.sh installs Node.js and tests/node's packages)"
    assert (NODE_DIR / "node_modules" / "@aws-sdk" / "client-sfn").is_dir(), (
        "tests/node/node_modules lacks @aws-sdk/client-sfn: run scripts/setup.sh (npm ci in tests/node)")
    proc = subprocess.run([node, str(SFN_FLOW), "--endpoint", server.url, "--name", unique("js")], cwd=NODE_DIR,
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def js_step(flow, name) -> dict:
    step = flow["steps"][name]
    assert step["ok"], f"{name} failed: {step.get('error')}"
    return step


def test_js_sdk_runs_an_execution_and_reads_its_history(js_flow, sfn):
    created = js_step(js_flow, "CreateStateMachine")
    assert created["stateMachineArn"] == SM_ARN_PREFIX + js_flow["name"]
    started = js_step(js_flow, "StartExecution")
    assert started["executionArn"] == f"{EXEC_ARN_PREFIX}{js_flow['name']}:js-run"
    done = js_step(js_flow, "WaitForExecution")
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"n": 3, "greeting": "hello from js", "big": True}
    assert done["stopDate"] >= done["startDate"]

    hist = js_step(js_flow, "GetExecutionHistory")
    assert hist["pageSizes"][:-1] == [4] * (len(hist["pageSizes"]) - 1) and hist["pageSizes"][-1] <= 4
    assert hist["ids"] == list(range(1, len(hist["ids"]) + 1))
    assert hist["types"] == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered",
                             "WaitStateExited", "ChoiceStateEntered", "ChoiceStateExited", "SucceedStateEntered",
                             "SucceedStateExited", "ExecutionSucceeded"]
    assert hist["reversedFirst"] == "ExecutionSucceeded"
    # The same history as boto3 reads.
    assert hist["types"] == types_of(history(sfn, started["executionArn"]))

    listed = js_step(js_flow, "ListExecutions")
    assert listed["names"] == ["js-run"] and listed["statuses"] == ["SUCCEEDED"]
    sync = js_step(js_flow, "StartSyncExecution")
    assert sync["status"] == "SUCCEEDED" and json.loads(sync["output"]) == {"express": True, "echo": 7}


def test_js_sdk_error_names(js_flow):
    errors = js_step(js_flow, "Errors")
    assert errors["describeMissingExecution"] == {"name": "ExecutionDoesNotExist", "status": 400}
    assert errors["createInvalidDefinition"] == {"name": "InvalidDefinition", "status": 400}
    assert errors["createInvalidName"] == {"name": "InvalidName", "status": 400}
    assert errors["describeInvalidArn"] == {"name": "InvalidArn", "status": 400}
    assert errors["syncOnStandard"] == {"name": "StateMachineTypeNotSupported", "status": 400}
    assert errors["taskDoesNotExist"] == {"name": "TaskDoesNotExist", "status": 400}


def test_js_sdk_deletes(js_flow):
    deleted = js_step(js_flow, "DeleteStateMachine")
    assert deleted["describeAfter"] == {"name": "StateMachineDoesNotExist", "status": 400}


def test_js_every_step_passed(js_flow):
    failed = {name: s["error"] for name, s in js_flow["steps"].items() if not s["ok"]}
    assert not failed, failed


def test_variables_are_assigned_read_and_recorded_in_the_history(sfn):
    definition = {"StartAt": "Remember", "States": {
        "Remember": {"Type": "Pass", "Result": {"n": 7}, "Assign": {"seven.$": "$.n", "label": "lucky"},
                     "ResultPath": None, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$seven", "NumericEquals": 7, "Next": "Use",
                                                 "Assign": {"checked": True}}], "Default": "Use"},
        "Use": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($seven, $.base)", "label.$": "$label",
                                               "checked.$": "$checked"}, "End": True},
    }}
    execution = start(sfn, create_machine(sfn, "vars", definition), {"base": 35})
    assert json.loads(succeeded(sfn, execution)["output"]) == {"sum": 42, "label": "lucky", "checked": True}
    exits = [details(e) for e in history(sfn, execution) if e["type"].endswith("StateExited")]
    assert exits[0]["assignedVariables"] == {"seven": "7", "label": '"lucky"'}
    assert exits[0]["assignedVariablesDetails"] == {"truncated": False}
    assert exits[1]["assignedVariables"] == {"checked": "true"}
    assert "assignedVariables" not in exits[2]


def test_an_undefined_variable_fails_the_execution(sfn):
    definition = {"StartAt": "Use", "States": {"Use": {"Type": "Pass", "Parameters": {"x.$": "$nothing"}, "End": True}}}
    desc = wait_done(sfn, start(sfn, create_machine(sfn, "novar", definition), {}))
    assert desc["status"] == "FAILED" and desc["error"] == "States.Runtime"
    assert "$nothing" in desc["cause"]


def test_describe_lists_the_variables_each_state_reads(sfn):
    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "Fan"},
        "Fan": {"Type": "Map", "ItemsPath": "$items", "ItemProcessor": {"StartAt": "Inner", "States": {
            "Inner": {"Type": "Pass", "Parameters": {"x.$": "States.Format('{} {}', $a, $$.Execution.Name)"},
                      "End": True}}}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$b", "NumericEqualsPath": "$a", "Next": "Done"}],
                  "Default": "Done"},
        "Done": {"Type": "Succeed"},
    }}
    machine = create_machine(sfn, "varrefs", definition)
    refs = sfn.describe_state_machine(stateMachineArn=machine)["variableReferences"]
    assert refs == {"Fan": ["items"], "Inner": ["a"], "Check": ["a", "b"]}


def test_sync_executions_wait_without_holding_the_servers_threads(sfn, sfn_sync):
    """Ten Express executions that each wait 2 s run at once, more than the server has I/O
    threads: each answers when it ends, from its own thread, so all of them overlap."""
    from concurrent.futures import ThreadPoolExecutor

    machine = create_machine(sfn, "syncwait", pass_wait_pass(2), type="EXPRESS")
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda i: sfn_sync.start_sync_execution(stateMachineArn=machine, input=json.dumps({"i": i})),
                                range(10)))
        # Meanwhile the server answers other calls.
        assert sfn.describe_state_machine(stateMachineArn=machine)["type"] == "EXPRESS"
    assert [a["status"] for a in answers] == ["SUCCEEDED"] * 10
    assert max(a["startDate"] for a in answers) < min(a["stopDate"] for a in answers)


def test_deeply_nested_json_is_refused_before_it_is_run(sfn):
    """Text nested far deeper than any real document (here 2,000 levels, 4 KB) is refused where it
    enters: definitions, execution input and task answers (parsing is iterative, but running it
    would not be)."""
    deep = "[" * 2000 + "]" * 2000
    machine = create_machine(sfn, "deep", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    expect_error(sfn.start_execution, "InvalidExecutionInput", stateMachineArn=machine, input=deep)
    expect_error(sfn.create_state_machine, "InvalidDefinition", name=unique("deepdef"), roleArn=ROLE_ARN,
                 definition='{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": ' + deep + ', "End": true}}}')
    shallow = "[" * 100 + "]" * 100
    assert json.loads(succeeded(sfn, start(sfn, machine, json.loads(shallow)))["output"]) == json.loads(shallow)
