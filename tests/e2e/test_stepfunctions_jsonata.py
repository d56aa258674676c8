"""Step Functions' JSONata query mode end to end: a real Loam server driven over HTTP with boto3's
``stepfunctions`` client and the AWS SDK for JavaScript v3, and ``loam workflow jsonata`` in a
terminal.

- ``QueryLanguage: JSONata`` for a whole machine or one state; ``{% %}`` expressions in
  Arguments, Output, Assign, Items, ItemSelector, Choice Conditions, Wait Seconds / Timestamp, a
  Task's TimeoutSeconds and a Fail state's Error / Cause; ``$states.input``, ``$states.result``,
  ``$states.errorOutput``, ``$states.context`` and workflow variables (``$name``).
- A quality gate in JSONata on a real Loam training job's final metric.
- ``States.QueryEvaluationError``: the ``EvaluationFailed`` event, uncaught, caught, inside a Map
  iteration and from a synchronous Express execution.
- Validation (CreateStateMachine, UpdateStateMachine, ValidateStateMachineDefinition) and
  DescribeStateMachine's ``variableReferences``.
- A server killed (SIGKILL) during a Wait whose seconds come from an expression: the resumed
  execution keeps the ``$uuid()`` it assigned before the crash.

Every wait polls with a generous limit; nothing asserts how long anything took, except that a
Wait lasted at least its seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import loam_binary
from sagemaker_helpers import ROLE_ARN as SAGEMAKER_ROLE_ARN
from sagemaker_helpers import channel, sagemaker_client, training_job_request, write_diabetes_csv
from sfn_helpers import (
    ROLE_ARN,
    SM_ARN_PREFIX,
    TOKEN_RESOURCE,
    assert_continuous,
    create_machine,
    details,
    expect_error,
    history,
    sfn_client,
    start,
    succeeded,
    types_of,
    unique,
    wait_done,
    wait_for_event,
)

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "tests" / "node"
JSONATA_FLOW = NODE_DIR / "sfn_jsonata_flow.mjs"

QEE = "States.QueryEvaluationError"


@pytest.fixture(scope="module")
def sfn(server):
    return sfn_client(server.url)


def event_of(events, event_type, nth=0) -> dict:
    found = [e for e in events if e["type"] == event_type]
    assert len(found) > nth, (event_type, types_of(events))
    return found[nth]


def exited(events) -> dict[str, list[dict]]:
    """Each state's ``...StateExited`` details, by state name, in order."""
    out: dict[str, list[dict]] = {}
    for e in events:
        if e["type"].endswith("StateExited"):
            d = details(e)
            out.setdefault(d["name"], []).append(d)
    return out


def assigned(exit_details: dict) -> dict:
    """A StateExited event's ``assignedVariables``, each value parsed from its JSON text."""
    return {k: json.loads(v) for k, v in exit_details.get("assignedVariables", {}).items()}


def undefined_cause(expr: str, field: str) -> str:
    return f"The JSONata expression '{expr}' specified for the field '{field}' returned nothing (undefined)."


def threw_cause(expr: str, field: str) -> str:
    return f"The JSONata expression '{expr}' specified for the field '{field}' threw an error during evaluation. "


# ---------------------------------------------------------------------------
# Shaping data: Pass, Choice, Map, Parallel, Fail, variables
# ---------------------------------------------------------------------------

ORDER_FLOW = {
    "Comment": "Pass Output/Assign, Choice Conditions, Map Items/ItemSelector, Parallel Arguments, Fail from expressions",
    "QueryLanguage": "JSONata",
    "StartAt": "Shape",
    "States": {
        "Shape": {
            "Type": "Pass",
            "Assign": {
                "total": "{% $sum([$states.input.items.price]) %}",
                "skus": "{% [$states.input.items.sku] %}",
                "customer": "{% $states.input.customer %}",
                "label": "fixed",
            },
            "Output": {
                "count": "{% $count($states.input.items) %}",
                "run": "{% $states.context.Execution.Name %}",
                "state": "{% $states.context.State.Name %}",
                "customer": "{% $uppercase($states.input.customer) %}",
            },
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Condition": "{% $total >= 100 %}", "Next": "Fan", "Assign": {"tier": "gold"}},
                {"Condition": "{% $total >= 10 %}", "Next": "Fan", "Assign": {"tier": "plain"},
                 "Output": {"count": "{% $states.input.count %}", "note": "{% 'small order of ' & $string($total) %}"}},
            ],
            "Default": "TooSmall",
            "Assign": {"tier": "none"},
        },
        "TooSmall": {
            "Type": "Fail",
            "Error": "{% 'Order.' & ($count($skus) = 0 ? 'Empty' : 'TooSmall') %}",
            "Cause": "{% $customer & ' ordered ' & $string($total) & ' (' & $states.context.State.Name & ')' %}",
        },
        "Fan": {
            "Type": "Map",
            "Items": "{% $skus %}",
            "ItemSelector": {
                "sku": "{% $states.context.Map.Item.Value %}",
                "index": "{% $states.context.Map.Item.Index %}",
                "tier": "{% $tier %}",
                "count": "{% $states.input.count %}",
            },
            "ItemProcessor": {"StartAt": "Label", "States": {"Label": {
                "Type": "Pass",
                "Output": ("{% $states.input.tier & ':' & $states.input.sku & '#' & $string($states.input.index + 1)"
                           " & '/' & $string($states.input.count) %}"),
                "End": True}}},
            "Assign": {"labels": "{% $states.result %}"},
            "Output": {"labels": "{% $states.result %}", "first": "{% $states.result[0] %}"},
            "Next": "Both",
        },
        "Both": {
            "Type": "Parallel",
            "Arguments": {"total": "{% $total %}", "labels": "{% $labels %}"},
            "Branches": [
                {"StartAt": "Tax", "States": {"Tax": {
                    "Type": "Pass", "Output": "{% $round($states.input.total * 0.2, 2) %}", "End": True}}},
                {"StartAt": "Count", "States": {"Count": {
                    "Type": "Pass", "Output": {"n": "{% $count($states.input.labels) %}", "tier": "{% $tier %}"},
                    "End": True}}},
            ],
            "Assign": {"tax": "{% $states.result[0] %}"},
            "Output": {
                "customer": "{% $customer %}",
                "label": "{% $label %}",
                "tier": "{% $tier %}",
                "total": "{% $total %}",
                "tax": "{% $states.result[0] %}",
                "branches": "{% $states.result %}",
                "labels": "{% $states.input.labels %}",
                "input": "{% $states.context.Execution.Input %}",
            },
            "Next": "Done",
        },
        "Done": {"Type": "Succeed", "Output": "{% $merge([$states.input, {'grand': $total + $tax}]) %}"},
    },
}


def test_jsonata_machine_shapes_data_assigns_variables_and_branches(sfn):
    arn = create_machine(sfn, "jsonata-flow", ORDER_FLOW)
    order = {"customer": "ada", "items": [{"sku": "a1", "price": 70}, {"sku": "b2", "price": 50}]}
    execution = start(sfn, arn, order, name="order-1")
    desc = succeeded(sfn, execution)
    assert json.loads(desc["output"]) == {
        "customer": "ada", "label": "fixed", "tier": "gold", "total": 120, "tax": 24,
        "branches": [24, {"n": 2, "tier": "gold"}],
        "labels": ["gold:a1#1/2", "gold:b2#2/2"],
        "input": order,
        "grand": 144,
    }

    events = history(sfn, execution)
    types = types_of(events)
    assert types[:5] == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered",
                         "ChoiceStateExited"]
    assert types[-3:] == ["SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"]
    assert types.count("MapIterationSucceeded") == 2 and "EvaluationFailed" not in types
    assert [details(e)["index"] for e in events if e["type"] == "MapIterationStarted"] == [0, 1]
    assert details(event_of(events, "MapStateStarted")) == {"length": 2}

    exits = exited(events)
    shape = exits["Shape"][0]
    assert json.loads(shape["output"]) == {"count": 2, "run": "order-1", "state": "Shape", "customer": "ADA"}
    assert assigned(shape) == {"total": 120, "skus": ["a1", "b2"], "customer": "ada", "label": "fixed"}
    assert shape["assignedVariablesDetails"] == {"truncated": False}
    # The matching rule assigns its own variables, not the state's; no rule Output: the input passes.
    assert assigned(exits["Route"][0]) == {"tier": "gold"}
    assert json.loads(exits["Route"][0]["output"]) == json.loads(shape["output"])
    # The Map iterations saw their items through ItemSelector.
    inputs = [json.loads(details(e)["input"]) for e in events
              if e["type"] == "PassStateEntered" and details(e)["name"] == "Label"]
    assert inputs == [{"sku": "a1", "index": 0, "tier": "gold", "count": 2},
                      {"sku": "b2", "index": 1, "tier": "gold", "count": 2}]
    assert assigned(exits["Fan"][0]) == {"labels": ["gold:a1#1/2", "gold:b2#2/2"]}
    assert json.loads(exits["Fan"][0]["output"]) == {"labels": ["gold:a1#1/2", "gold:b2#2/2"],
                                                      "first": "gold:a1#1/2"}
    # Parallel branches got the Arguments as their input; their states assign nothing.
    branch_inputs = [json.loads(details(e)["input"]) for e in events
                     if e["type"] == "PassStateEntered" and details(e)["name"] in ("Tax", "Count")]
    assert branch_inputs == [{"total": 120, "labels": ["gold:a1#1/2", "gold:b2#2/2"]}] * 2
    assert assigned(exits["Both"][0]) == {"tax": 24}
    for name in ("Label", "Tax", "Count", "Done"):
        assert all("assignedVariables" not in d for d in exits[name]), (name, exits[name])


def test_choice_rule_output_and_a_fail_state_built_from_expressions(sfn):
    arn = create_machine(sfn, "jsonata-flow-small", ORDER_FLOW)

    # The second rule matches: its Assign and its Output.
    small = start(sfn, arn, {"customer": "bo", "items": [{"sku": "c3", "price": 12}]})
    out = json.loads(succeeded(sfn, small)["output"])
    assert out["tier"] == "plain" and out["labels"] == ["plain:c3#1/1"] and out["grand"] == 14.4
    route = exited(history(sfn, small))["Route"][0]
    assert assigned(route) == {"tier": "plain"}
    assert json.loads(route["output"]) == {"count": 1, "note": "small order of 12"}

    # No rule matches: the Default, whose Fail state's Error and Cause are expressions.
    tiny = start(sfn, arn, {"customer": "cy", "items": [{"sku": "d4", "price": 3}]})
    desc = wait_done(sfn, tiny)
    assert desc["status"] == "FAILED", desc
    assert (desc["error"], desc["cause"]) == ("Order.TooSmall", "cy ordered 3 (TooSmall)")
    events = history(sfn, tiny)
    assert types_of(events)[-3:] == ["ChoiceStateExited", "FailStateEntered", "ExecutionFailed"]
    assert assigned(exited(events)["Route"][0]) == {"tier": "none"}  # the state's own Assign, for the Default
    assert details(events[-1]) == {"error": "Order.TooSmall", "cause": "cy ordered 3 (TooSmall)"}

    empty = wait_done(sfn, start(sfn, arn, {"customer": "di", "items": []}))
    assert (empty["status"], empty["error"], empty["cause"]) == ("FAILED", "Order.Empty", "di ordered 0 (TooSmall)")


def test_jsonata_and_jsonpath_states_in_one_machine(sfn):
    """A JSONPath machine with one JSONata state: each state reads its own language, and the
    variables one assigns are read by the other."""
    definition = {"StartAt": "Path", "States": {
        "Path": {"Type": "Pass", "Parameters": {"n.$": "$.n", "name.$": "$$.Execution.Name"},
                 "Assign": {"base.$": "$.n"}, "Next": "Ata"},
        "Ata": {"Type": "Pass", "QueryLanguage": "JSONata",
                "Assign": {"squared": "{% $base * $base %}"},
                "Output": {"n": "{% $states.input.n %}", "doubled": "{% $states.input.n * 2 %}",
                           "who": "{% $states.input.name %}"}, "Next": "PathAgain"},
        "PathAgain": {"Type": "Pass", "Parameters": {"doubled.$": "$.doubled", "squared.$": "$squared",
                                                     "who.$": "$.who"}, "End": True},
    }}
    execution = start(sfn, create_machine(sfn, "mixed", definition), {"n": 7}, name="mixed-run")
    assert json.loads(succeeded(sfn, execution)["output"]) == {"doubled": 14, "squared": 49, "who": "mixed-run"}
    assert assigned(exited(history(sfn, execution))["Ata"][0]) == {"squared": 49}


def test_defaults_and_the_order_of_evaluation(sfn):
    """Without Output a Task's, Map's and Parallel's output is its result and a catcher's the
    error output; Assign and Output read the variables the state entered with (a swap works); a
    string that only contains {% %} is a literal; a branch's variables stay in the branch."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "Swap"},
        "Swap": {"Type": "Pass", "Assign": {"a": "{% $b %}", "b": "{% $a %}"},
                 "Output": {"a": "{% $a %}", "b": "{% $b %}", "literal": "Hello {% $a %}", "spaced": "{%   $a + 1   %}"},
                 "Next": "List"},
        "List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:listModels",
                 "Arguments": {"NameContains": "{% 'no-model-has-' & $string($a) %}"}, "Next": "Each"},
        "Each": {"Type": "Map", "Items": "{% [$a, $b] %}",
                 "ItemProcessor": {"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": True}}},
                 "Next": "Fork"},
        "Fork": {"Type": "Parallel", "Branches": [
            {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Assign": {"inner": 1}, "End": True}}}],
                 "Next": "Scope"},
        "Scope": {"Type": "Pass", "Output": {"innerVisible": "{% $exists($inner) %}", "a": "{% $a %}",
                                             "b": "{% $b %}", "previous": "{% $states.input %}"}, "Next": "Boom"},
        "Boom": {"Type": "Parallel", "Branches": [
            {"StartAt": "Fails", "States": {"Fails": {"Type": "Fail", "Error": "Branch.Broke", "Cause": "on purpose"}}}],
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Pass", "End": True},
    }}
    execution = start(sfn, create_machine(sfn, "jsonata-defaults", definition), {"in": 1})
    desc = succeeded(sfn, execution)
    assert json.loads(desc["output"]) == {"Error": "Branch.Broke", "Cause": "on purpose"}
    outputs = {name: [json.loads(d["output"]) for d in ds] for name, ds in exited(history(sfn, execution)).items()}
    assert outputs["Swap"] == [{"a": 1, "b": 2, "literal": "Hello {% $a %}", "spaced": 2}]
    assert outputs["List"] == [{"Models": []}]
    assert outputs["Each"] == [[2, 1]]  # the Map ran after the swap
    assert outputs["Fork"] == [[[2, 1]]]
    assert outputs["Scope"] == [{"innerVisible": False, "a": 2, "b": 1, "previous": [[2, 1]]}]
    scheduled = details(event_of(history(sfn, execution), "TaskScheduled"))
    assert json.loads(scheduled["parameters"]) == {"NameContains": "no-model-has-2"}


def test_express_jsonata_machine_runs_synchronously(sfn, server):
    sync = sfn_client(server.url, sync=True)
    definition = {"QueryLanguage": "JSONata", "StartAt": "Echo", "States": {
        "Echo": {"Type": "Pass", "Output": {"echo": "{% $states.input.v %}", "express": True,
                                            "name": "{% $states.context.Execution.Name %}"}, "End": True}}}
    arn = create_machine(sfn, "jsonata-express", definition, type="EXPRESS")
    out = sync.start_sync_execution(stateMachineArn=arn, input=json.dumps({"v": [1, "two"]}), name="sync-jsonata")
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == {"echo": [1, "two"], "express": True, "name": "sync-jsonata"}
    failed = sync.start_sync_execution(stateMachineArn=arn, input=json.dumps({}))
    assert failed["status"] == "FAILED" and failed["error"] == QEE, failed
    assert failed["cause"].endswith(undefined_cause("$states.input.v", "Output/echo")), failed


def test_wait_and_task_timeout_from_expressions(sfn):
    """Wait Seconds and Timestamp, and a callback task's TimeoutSeconds, are expressions: the
    task times out after the seconds the input gives and a catcher shapes the error output."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": "{% $states.input.nap %}", "Next": "Until"},
        "Until": {"Type": "Wait", "Timestamp": "{% $states.input.past %}", "Next": "Callback"},
        "Callback": {
            "Type": "Task", "Resource": TOKEN_RESOURCE,
            "Arguments": {"NameContains": "{% $states.context.Task.Token %}"},
            "TimeoutSeconds": "{% $states.input.limit %}",
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut",
                       "Output": {"error": "{% $states.errorOutput.Error %}", "limit": "{% $states.input.limit %}"}}],
            "End": True},
        "TimedOut": {"Type": "Pass", "End": True},
    }}
    execution = start(sfn, create_machine(sfn, "jsonata-waits", definition),
                      {"nap": 1, "past": "2020-01-01T00:00:00Z", "limit": 1})
    desc = succeeded(sfn, execution)
    assert json.loads(desc["output"]) == {"error": "States.Timeout", "limit": 1}
    events = history(sfn, execution)
    assert event_of(events, "WaitStateExited")["timestamp"] - event_of(events, "WaitStateEntered")["timestamp"] \
        >= dt.timedelta(seconds=1)
    assert "TaskTimedOut" in types_of(events)
    token = json.loads(details(event_of(events, "TaskScheduled"))["parameters"])["NameContains"]
    assert isinstance(token, str) and token


# ---------------------------------------------------------------------------
# The retraining quality gate on a real training job
# ---------------------------------------------------------------------------

METRIC = "validation:r2"
R2_METRIC = [{"Name": METRIC, "Regex": r"r2 = (-?[0-9.]+)"}]


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    base = tmp_path_factory.mktemp("sfn-jsonata-diabetes")
    write_diabetes_csv(base / "train", split="train")
    write_diabetes_csv(base / "validation", split="validation")
    return base


def quality_gate(job_request: dict) -> dict:
    """Train (.sync) with Arguments from $states.input, pick the metric with a JSONata filter,
    gate on a threshold from the input; the Fail state's Error and Cause are expressions."""
    arguments = {k: v for k, v in job_request.items() if k != "TrainingJobName"}
    arguments["TrainingJobName"] = "{% $states.input.TrainingJobName %}"
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Train",
        "States": {
            "Train": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                "Arguments": arguments,
                "Assign": {"job": "{% $states.result.TrainingJobName %}",
                           "minR2": "{% $states.input.MinR2 %}"},
                "Output": {
                    "r2": f"{{% $states.result.FinalMetricDataList[MetricName='{METRIC}'].Value %}}",
                    "model": "{% $states.result.ModelArtifacts.S3ModelArtifacts %}",
                    "status": "{% $states.result.TrainingJobStatus %}",
                },
                "Next": "Good enough?",
            },
            "Good enough?": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.r2 >= $minR2 %}", "Next": "Passed",
                             "Assign": {"gate": "passed"}}],
                "Default": "Model too weak",
            },
            "Model too weak": {
                "Type": "Fail",
                "Error": "{% 'QualityGateFailed' %}",
                "Cause": f"{{% '{METRIC} ' & $string($states.input.r2) & ' < ' & $string($minR2) & ' for ' & $job %}}",
            },
            "Passed": {"Type": "Succeed",
                       "Output": "{% $merge([$states.input, {'gate': $gate, 'job': $job}]) %}"},
        },
    }


@pytest.mark.timeout(300)
def test_quality_gate_in_jsonata_on_a_real_training_job(training_server, diabetes, tmp_path):
    sfn, sm = sfn_client(training_server.url), sagemaker_client(training_server.url)
    request = training_job_request("placeholder", "train_regression.py", tmp_path / "out",
                                   channels=[channel("train", diabetes / "train"),
                                             channel("validation", diabetes / "validation")],
                                   hyperparameters={"epochs": 5}, metric_definitions=R2_METRIC)
    machine = create_machine(sfn, "jsonata-gate", quality_gate(request))
    good_job, weak_job = unique("jsonata-good"), unique("jsonata-weak")
    # Both executions train at once; one passes the gate, the other cannot.
    good = start(sfn, machine, {"TrainingJobName": good_job, "MinR2": -100})
    weak = start(sfn, machine, {"TrainingJobName": weak_job, "MinR2": 2})

    desc = wait_done(sfn, good, timeout=240, server=training_server)
    assert desc["status"] == "SUCCEEDED", (desc, types_of(history(sfn, good)))
    trained = sm.describe_training_job(TrainingJobName=good_job)
    assert trained["TrainingJobStatus"] == "Completed"
    r2 = {m["MetricName"]: m["Value"] for m in trained["FinalMetricDataList"]}[METRIC]
    output = json.loads(desc["output"])
    assert output == {"r2": pytest.approx(r2), "model": trained["ModelArtifacts"]["S3ModelArtifacts"],
                      "status": "Completed", "gate": "passed", "job": good_job}
    events = history(sfn, good)
    scheduled = details(event_of(events, "TaskScheduled"))
    assert scheduled["resourceType"] == "sagemaker" and scheduled["resource"] == "createTrainingJob.sync"
    parameters = json.loads(scheduled["parameters"])
    assert parameters["TrainingJobName"] == good_job
    assert parameters["RoleArn"] == SAGEMAKER_ROLE_ARN
    assert parameters["AlgorithmSpecification"]["MetricDefinitions"] == R2_METRIC
    assert [e["type"] for e in events if e["type"].startswith("Task")] == [
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskStateExited"]
    assert assigned(exited(events)["Train"][0]) == {"job": good_job, "minR2": -100}

    desc = wait_done(sfn, weak, timeout=240, server=training_server)
    assert desc["status"] == "FAILED", (desc, types_of(history(sfn, weak)))
    weak_trained = sm.describe_training_job(TrainingJobName=weak_job)
    assert weak_trained["TrainingJobStatus"] == "Completed"
    weak_r2 = {m["MetricName"]: m["Value"] for m in weak_trained["FinalMetricDataList"]}[METRIC]
    assert desc["error"] == "QualityGateFailed"
    prefix, _, rest = desc["cause"].partition(" < ")
    assert prefix.startswith(f"{METRIC} ") and float(prefix.split(" ", 1)[1]) == pytest.approx(weak_r2)
    assert rest == f"2 for {weak_job}"
    assert types_of(history(sfn, weak))[-3:] == ["ChoiceStateExited", "FailStateEntered", "ExecutionFailed"]


# ---------------------------------------------------------------------------
# States.QueryEvaluationError
# ---------------------------------------------------------------------------


def test_an_undefined_output_fails_the_execution_with_an_evaluation_failed_event(sfn):
    definition = {"QueryLanguage": "JSONata", "StartAt": "Pick", "States": {
        "Pick": {"Type": "Pass", "Output": {"v": "{% $states.input.missing %}"}, "End": True}}}
    execution = start(sfn, create_machine(sfn, "qee-undefined", definition), {"present": 1})
    desc = wait_done(sfn, execution)
    assert desc["status"] == "FAILED" and desc["error"] == QEE, desc
    expected = undefined_cause("$states.input.missing", "Output/v")
    assert desc["cause"].endswith(expected), desc["cause"]
    assert "output" not in desc

    events = history(sfn, execution)
    assert types_of(events) == ["ExecutionStarted", "PassStateEntered", "EvaluationFailed", "ExecutionFailed"]
    assert_continuous(events)
    failed = details(event_of(events, "EvaluationFailed"))
    assert set(failed) == {"error", "cause", "location", "state"}, failed
    assert failed["error"] == QEE and failed["state"] == "Pick"
    assert failed["cause"] == desc["cause"]
    # The field the expression is in (Loam names the state's field; the cause names the spot in it).
    assert failed["location"] in ("Output", "Output/v"), failed
    assert details(events[-1]) == {"error": QEE, "cause": desc["cause"]}


def test_an_expression_that_throws_fails_the_execution(sfn):
    definition = {"QueryLanguage": "JSONata", "StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Assign": {"n": "{% $states.input.name + 1 %}"}, "Next": "Never"},
        "Never": {"Type": "Succeed"}}}
    execution = start(sfn, create_machine(sfn, "qee-throws", definition), {"name": "abc"})
    desc = wait_done(sfn, execution)
    assert desc["status"] == "FAILED" and desc["error"] == QEE, desc
    assert threw_cause("$states.input.name + 1", "Assign/n") + "T2001: " in desc["cause"], desc["cause"]
    events = history(sfn, execution)
    assert types_of(events) == ["ExecutionStarted", "PassStateEntered", "EvaluationFailed", "ExecutionFailed"]
    failed = details(event_of(events, "EvaluationFailed"))
    assert failed["error"] == QEE and failed["state"] == "Count" and failed["cause"] == desc["cause"]
    assert failed["location"] in ("Assign", "Assign/n"), failed


def test_a_catcher_handles_a_query_evaluation_error_with_its_error_output(sfn):
    """A Task whose Arguments throw: the catcher's Output and Assign read $states.errorOutput
    (and $states.input), the state's own Assign is not applied, and the call is never made."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "List", "States": {
        "List": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:listModels",
            "Arguments": {"NameContains": "{% $states.input.name + 1 %}"},
            "Assign": {"notAssigned": "{% 1 %}"},
            "Catch": [
                {"ErrorEquals": ["States.Timeout"], "Next": "Wrong"},
                {"ErrorEquals": [QEE], "Next": "Handled",
                 "Assign": {"caught": "{% $states.errorOutput.Error %}"},
                 "Output": {"error": "{% $states.errorOutput.Error %}", "cause": "{% $states.errorOutput.Cause %}",
                            "input": "{% $states.input %}"}}],
            "End": True},
        "Wrong": {"Type": "Fail", "Error": "WrongCatcher"},
        "Handled": {"Type": "Pass", "Output": {"caught": "{% $caught %}", "error": "{% $states.input.error %}",
                                               "name": "{% $states.input.input.name %}"}, "End": True},
    }}
    execution = start(sfn, create_machine(sfn, "qee-caught", definition), {"name": "abc"})
    desc = succeeded(sfn, execution)
    assert json.loads(desc["output"]) == {"caught": QEE, "error": QEE, "name": "abc"}

    events = history(sfn, execution)
    assert types_of(events) == ["ExecutionStarted", "TaskStateEntered", "EvaluationFailed", "TaskStateExited",
                                "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    failed = details(event_of(events, "EvaluationFailed"))
    assert failed["state"] == "List" and failed["error"] == QEE
    assert failed["location"] in ("Arguments", "Arguments/NameContains"), failed
    assert threw_cause("$states.input.name + 1", "Arguments/NameContains") + "T2001: " in failed["cause"], failed
    task_exit = exited(events)["List"][0]
    assert assigned(task_exit) == {"caught": QEE}
    caught = json.loads(task_exit["output"])
    assert caught["error"] == QEE and caught["cause"] == failed["cause"] and caught["input"] == {"name": "abc"}


def test_an_evaluation_failure_inside_a_map_iteration_fails_the_map(sfn):
    definition = {"QueryLanguage": "JSONata", "StartAt": "Each", "States": {
        "Each": {"Type": "Map", "Items": "{% $states.input.xs %}",
                 "ItemProcessor": {"StartAt": "Double", "States": {"Double": {
                     "Type": "Pass", "Output": "{% $states.input.v * 2 %}", "End": True}}},
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Report",
                            "Output": {"error": "{% $states.errorOutput.Error %}"}}],
                 "End": True},
        "Report": {"Type": "Pass", "End": True}}}
    execution = start(sfn, create_machine(sfn, "qee-map", definition), {"xs": [{"v": 1}, {"w": 2}]})
    assert json.loads(succeeded(sfn, execution)["output"]) == {"error": QEE}
    events = history(sfn, execution)
    types = types_of(events)
    assert types[types.index("EvaluationFailed") - 1:types.index("EvaluationFailed") + 4] == [
        "PassStateEntered", "EvaluationFailed", "MapIterationFailed", "MapStateFailed", "MapStateExited"]
    failed = details(event_of(events, "EvaluationFailed"))
    assert failed["state"] == "Double" and failed["location"] == "Output"
    assert failed["cause"].endswith(undefined_cause("$states.input.v * 2", "Output"))
    assert details(event_of(events, "MapIterationFailed"))["index"] == 1


def test_query_evaluation_cause_names_the_state_as_step_functions_does(sfn):
    definition = {"QueryLanguage": "JSONata", "StartAt": "Pick", "States": {
        "Pick": {"Type": "Pass", "Output": {"v": "{% $states.input.missing %}"}, "End": True}}}
    desc = wait_done(sfn, start(sfn, create_machine(sfn, "qee-prefix", definition), {}))
    assert desc["cause"] == ("An error occurred while executing the state 'Pick' (entered at the event id #2). "
                             + undefined_cause("$states.input.missing", "Output/v"))


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

INVALID = {
    "jsonpath-field-in-jsonata-machine": (
        {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Parameters": {"x.$": "$.x"}, "End": True}}},
        "SCHEMA_VALIDATION_FAILED",
        "The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' QueryLanguage",
        "/States/A/Parameters"),
    "jsonpath-field-in-jsonata-state": (
        {"StartAt": "A", "States": {
            "A": {"Type": "Pass", "QueryLanguage": "JSONata", "ResultPath": "$.r", "End": True}}},
        "SCHEMA_VALIDATION_FAILED",
        "The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage",
        "/States/A/ResultPath"),
    "jsonata-field-in-jsonpath-state": (
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {"x": 1}, "End": True}}},
        "SCHEMA_VALIDATION_FAILED",
        "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
        "/States/A/Output"),
    "jsonpath-state-in-jsonata-machine": (
        {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}}},
        "SCHEMA_VALIDATION_FAILED",
        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
        "/States/A/QueryLanguage"),
    "expression-that-does-not-parse": (
        {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Output": {"x": "{% $states.input.a ( %}"}, "End": True}}},
        "INVALID_JSONATA_EXPRESSION", None, "/States/A/Output/x"),
    "condition-that-does-not-parse": (
        {"QueryLanguage": "JSONata", "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n > %}", "Next": "D"}], "Default": "D"},
            "D": {"Type": "Succeed"}}},
        "INVALID_JSONATA_EXPRESSION", None, None),
}


@pytest.mark.parametrize("definition,code,message,location", INVALID.values(), ids=INVALID.keys())
def test_invalid_jsonata_definitions(sfn, definition, code, message, location):
    text = json.dumps(definition)
    name = unique("jsonata-bad")
    err = expect_error(sfn.create_state_machine, "InvalidDefinition", name=name, definition=text, roleArn=ROLE_ARN)
    said = err.response["Error"]["Message"]
    assert said.startswith(f"Invalid State Machine Definition: '{code}: "), said
    if message:
        assert message in said, said
    if location:
        assert said.endswith(f" at {location}'"), said
    expect_error(sfn.describe_state_machine, "StateMachineDoesNotExist", stateMachineArn=SM_ARN_PREFIX + name)

    out = sfn.validate_state_machine_definition(definition=text)
    assert out["result"] == "FAIL" and out["truncated"] is False, out
    assert len(out["diagnostics"]) == 1, out
    diagnostic = out["diagnostics"][0]
    assert diagnostic["severity"] == "ERROR" and diagnostic["code"] == code, out
    assert diagnostic["message"], out
    if message:
        assert diagnostic["message"] == message, out
    if location:
        assert diagnostic["location"] == location, out

    # An update to it is refused too, and leaves the machine as it was.
    good = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    arn = create_machine(sfn, "jsonata-good", good)
    expect_error(sfn.update_state_machine, "InvalidDefinition", stateMachineArn=arn, definition=text)
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == good


def test_valid_jsonata_definitions_validate_ok(sfn):
    for definition in (ORDER_FLOW, quality_gate({"RoleArn": SAGEMAKER_ROLE_ARN})):
        out = sfn.validate_state_machine_definition(definition=json.dumps(definition))
        assert out["result"] == "OK" and out["diagnostics"] == [], out


# ---------------------------------------------------------------------------
# variableReferences
# ---------------------------------------------------------------------------


def test_describe_lists_the_variables_each_jsonata_state_reads(sfn):
    definition = {"QueryLanguage": "JSONata", "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"factor": 3, "items": "{% $states.input.items %}", "limit": 10},
                "Next": "Fan"},
        "Fan": {"Type": "Map", "Items": "{% $items %}",
                "ItemSelector": {"v": "{% $states.context.Map.Item.Value * $factor %}"},
                "ItemProcessor": {"StartAt": "Inner", "States": {"Inner": {
                    "Type": "Pass", "Output": "{% ($x := $states.input.v; $x + $limit) %}", "End": True}}},
                "Assign": {"scaled": "{% $map($states.result, function($r) { $r * $factor }) %}"},
                "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Condition": "{% $sum($scaled) > $limit %}", "Next": "Done"}],
                  "Default": "Fail"},
        "Fail": {"Type": "Fail", "Error": "TooSmall", "Cause": "{% $string($count($scaled)) %}"},
        "Done": {"Type": "Succeed", "Output": "{% $scaled %}"}}}
    arn = create_machine(sfn, "jsonata-varrefs", definition)
    refs = sfn.describe_state_machine(stateMachineArn=arn)["variableReferences"]
    # Workflow variables only: not $states, not functions ($sum, $map), not the expression's own
    # $x or the lambda's $r; states that read none are left out ("Set").
    assert refs == {"Fan": ["factor", "items"], "Inner": ["limit"], "Check": ["limit", "scaled"],
                    "Fail": ["scaled"], "Done": ["scaled"]}
    execution = start(sfn, arn, {"items": [1, 2]})
    assert json.loads(succeeded(sfn, execution)["output"]) == [39, 48]


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
    proc = subprocess.run([node, str(JSONATA_FLOW), "--endpoint", server.url, "--name", unique("jsjsonata")],
                          cwd=NODE_DIR, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def js_step(flow, name) -> dict:
    step = flow["steps"][name]
    assert step["ok"], f"{name} failed: {step.get('error')}"
    return step


def test_js_sdk_runs_a_jsonata_machine(js_flow, sfn):
    assert js_step(js_flow, "Validate") == {"ok": True, "result": "OK", "diagnostics": []}
    created = js_step(js_flow, "CreateStateMachine")
    assert created["stateMachineArn"] == SM_ARN_PREFIX + js_flow["name"]
    assert created["variableReferences"] == {"Big?": ["total"], "Discount": ["tier", "who"]}
    run = js_step(js_flow, "Run")
    assert run["status"] == "SUCCEEDED"
    assert json.loads(run["output"]) == {"customer": "ada", "tier": "gold", "paid": 60, "each": [20, 30, 10]}
    hist = js_step(js_flow, "History")
    assert hist["types"][:5] == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered",
                                 "ChoiceStateExited"]
    assert hist["types"][-2:] == ["MapStateExited", "ExecutionSucceeded"]
    assert hist["assigned"] == {"Total": {"total": "120", "who": '"ada"'}, "Big?": {"tier": '"gold"'}}
    # boto3 reads the same history.
    assert hist["types"] == types_of(history(sfn, run["executionArn"]))


def test_js_sdk_reads_evaluation_failed_and_validation_errors(js_flow):
    failed = js_step(js_flow, "EvaluationFailed")
    expected = undefined_cause("$states.input.absent", "Output/v")
    assert failed["status"] == "FAILED" and failed["error"] == QEE and failed["cause"].endswith(expected)
    assert failed["types"] == ["ExecutionStarted", "PassStateEntered", "EvaluationFailed", "ExecutionFailed"]
    d = failed["details"]
    assert d["error"] == QEE and d["state"] == "Pick" and d["cause"] == failed["cause"]
    assert d["location"] in ("Output", "Output/v"), d

    invalid = js_step(js_flow, "InvalidDefinition")
    message = "The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' QueryLanguage"
    assert invalid["validated"] == {"result": "FAIL", "diagnostics": [{
        "severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": message, "location": "/States/A/Parameters"}]}
    assert invalid["created"]["name"] == "InvalidDefinition" and invalid["created"]["status"] == 400
    assert message in invalid["created"]["message"]
    js_step(js_flow, "Cleanup")


# ---------------------------------------------------------------------------
# loam workflow jsonata
# ---------------------------------------------------------------------------


def loam_jsonata(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(loam_binary()), "workflow", "jsonata", *args], input=stdin, capture_output=True,
                          text=True, timeout=30)


def test_cli_evaluates_an_expression_against_input_and_bindings():
    proc = loam_jsonata('{"n": $count(items), "total": $sum(items.v)}',
                        "--input-json", '{"items": [{"v": 1}, {"v": 2.5}]}')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"n": 2, "total": 3.5}

    # As a state sees it: $states and a workflow variable.
    proc = loam_jsonata("$states.input.name & '-' & $suffix & '-' & $string($states.context.n)",
                        "--bind", 'states={"input": {"name": "ada"}, "context": {"n": 7}}', "--bind", 'suffix="x"')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == "ada-x-7"


def test_cli_reports_a_syntax_error_and_exits_1():
    proc = loam_jsonata("$states.input.a +", "--input-json", "{}")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "S0207" in proc.stderr and "Unexpected end of expression" in proc.stderr, proc.stderr


def test_cli_batch_answers_one_line_per_case():
    cases = [{"expr": "$sum(a)", "input": {"a": [1, 2, 3]}},
             {"expr": "$x * 2", "bindings": {"x": 21}},
             {"expr": "missing", "input": {}},
             {"expr": "(", "input": {}}]
    proc = loam_jsonata("--batch", stdin="".join(json.dumps(c) + "\n" for c in cases))
    assert proc.returncode == 0, proc.stderr
    outcomes = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert outcomes[:3] == [{"result": 6}, {"result": 42}, {"undefined": True}]
    assert len(outcomes) == 4 and outcomes[3]["error"].startswith("S0"), outcomes


# ---------------------------------------------------------------------------
# A restart during a Wait keeps what was recorded
# ---------------------------------------------------------------------------

WAIT_S = 2


def test_kill9_during_an_expression_wait_keeps_the_recorded_uuid(loam_server_factory):
    """A caught QueryEvaluationError, then $uuid() and $now() assigned, then a Wait whose seconds
    come from a variable; the server is killed during the Wait. The resumed execution replays
    the recorded history (EvaluationFailed included) and keeps every value recorded there."""
    srv = loam_server_factory()
    sfn = sfn_client(srv.url)
    definition = {"QueryLanguage": "JSONata", "StartAt": "Try", "States": {
        "Try": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sagemaker:listModels",
                "Arguments": {"NameContains": "{% $states.input.absent %}"},
                "Catch": [{"ErrorEquals": [QEE], "Assign": {"caughtId": "{% $uuid() %}"},
                           "Output": "{% $states.input %}", "Next": "Mint"}],
                "Next": "Mint"},
        "Mint": {"Type": "Pass", "Assign": {"id": "{% $uuid() %}", "at": "{% $now() %}",
                                            "pause": "{% $states.input.pause %}"},
                 "Output": {"minted": "{% $uuid() %}"}, "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": "{% $pause %}", "Next": "Report"},
        "Report": {"Type": "Pass", "Output": {"id": "{% $id %}", "at": "{% $at %}", "caughtId": "{% $caughtId %}",
                                              "minted": "{% $states.input.minted %}", "fresh": "{% $uuid() %}"},
                   "End": True}}}
    execution = start(sfn, create_machine(sfn, "jsonata-restart", definition), {"pause": WAIT_S})
    entered = wait_for_event(sfn, execution, "WaitStateEntered", server=srv)
    before = history(sfn, execution)
    assert types_of(before) == ["ExecutionStarted", "TaskStateEntered", "EvaluationFailed", "TaskStateExited",
                                "PassStateEntered", "PassStateExited", "WaitStateEntered"]
    caught = assigned(details(before[3]))
    mint = details(before[5])
    recorded = assigned(mint)
    recorded_minted = json.loads(mint["output"])["minted"]
    assert recorded["pause"] == WAIT_S and len({recorded["id"], recorded_minted, caught["caughtId"]}) == 3

    srv.kill9()
    srv.start()
    sfn = sfn_client(srv.url)

    desc = succeeded(sfn, execution, server=srv)
    out = json.loads(desc["output"])
    # The values recorded before the crash stand; $uuid() is evaluated afresh only where nothing
    # was recorded.
    assert out == {"id": recorded["id"], "at": recorded["at"], "caughtId": caught["caughtId"],
                   "minted": recorded_minted, "fresh": out["fresh"]}
    assert out["fresh"] not in (recorded["id"], recorded_minted, caught["caughtId"])
    after = history(sfn, execution)
    assert types_of(after) == types_of(before) + ["WaitStateExited", "PassStateEntered", "PassStateExited",
                                                  "ExecutionSucceeded"]
    assert_continuous(after)
    assert after[:len(before)] == before
    # The Wait lasted the seconds its expression gave, counted from when it was entered.
    assert event_of(after, "WaitStateExited")["timestamp"] - entered["timestamp"] >= dt.timedelta(seconds=WAIT_S)
