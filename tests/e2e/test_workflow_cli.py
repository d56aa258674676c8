"""`loam workflow`: run a definition file and follow it in the terminal, read an execution's
history as a table, and draw a definition as text, Graphviz DOT or SVG."""

from __future__ import annotations

import json
import subprocess
import uuid
import xml.etree.ElementTree as ET

import boto3
import pytest

from conftest import loam_binary

pytestmark = pytest.mark.timeout(120)

DEFINITION = {
    "Comment": "prepare, wait, map, then a choice on the input",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": [1, 2, 3], "ResultPath": "$.items", "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Each"},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.seen",
                 "ItemProcessor": {"StartAt": "Look", "States": {"Look": {"Type": "Pass", "End": True}}},
                 "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Broken"}],
                  "Default": "Done"},
        "Broken": {"Type": "Fail", "Error": "Asked", "Cause": "the input said so"},
        "Done": {"Type": "Succeed"},
    },
}


def cli(*args, server=None, timeout=60):
    env = {"LOAM_ENDPOINT": server.url} if server else {}
    return subprocess.run([str(loam_binary()), *args], capture_output=True, text=True, timeout=timeout,
                          env={**__import__("os").environ, **env})


@pytest.fixture
def definition_file(tmp_path):
    path = tmp_path / f"cli-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(DEFINITION))
    return path


def line_of(output: str, state: str) -> str:
    """The last line drawn for a state (followed output repeats lines as they change)."""
    lines = [line for line in output.splitlines() if line.lstrip("○▶✔✘↷ ").startswith(state + " ")]
    assert lines, f"no line for {state} in:\n{output}"
    return lines[-1]


def test_run_follow_draws_each_states_status_and_reports_the_output(server, definition_file):
    done = cli("workflow", "run", str(definition_file), "--input-json", '{"fail": false}', "--follow", server=server)
    assert done.returncode == 0, done.stderr + done.stdout
    assert line_of(done.stdout, "Done").startswith("✔")
    assert "3/3 iterations" in line_of(done.stdout, "Each")
    assert "×3" in line_of(done.stdout, "Look")
    assert line_of(done.stdout, "Broken").startswith("○")  # never entered
    assert "→ Broken [$.fail == true], Done" in line_of(done.stdout, "Check")
    arn_line = next(line for line in done.stdout.splitlines() if line.startswith("arn:aws:states:"))
    arn, status = arn_line.split()
    assert status == "SUCCEEDED"
    assert json.loads(done.stdout.splitlines()[-1]) == {"fail": False, "items": [1, 2, 3], "seen": [1, 2, 3]}

    sfn = boto3.client("stepfunctions", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"

    # The same file again, changed: the machine follows the file, and a failure is exit code 1.
    changed = json.loads(definition_file.read_text())
    changed["States"]["Pause"]["Seconds"] = 0
    definition_file.write_text(json.dumps(changed))
    failed = cli("workflow", "run", str(definition_file), "--input-json", '{"fail": true}', "--execution", "second",
                 "-f", server=server)
    assert failed.returncode == 1, failed.stderr + failed.stdout
    assert "[loam] updated" in failed.stderr
    assert line_of(failed.stdout, "Broken").startswith("✘")
    assert "error: Asked" in failed.stdout and "cause: the input said so" in failed.stdout
    machine = arn.rsplit(":", 1)[0].replace(":execution:", ":stateMachine:")
    assert json.loads(sfn.describe_state_machine(stateMachineArn=machine)["definition"]) == changed

    history = cli("workflow", "history", f"{machine.replace(':stateMachine:', ':execution:')}:second", server=server)
    assert history.returncode == 0, history.stderr
    rows = history.stdout.splitlines()
    assert rows[0].split()[:3] == ["id", "time", "type"]
    assert [r.split()[2] for r in rows[1:3]] == ["ExecutionStarted", "PassStateEntered"]
    assert rows[-1].split()[2] == "ExecutionFailed" and "Asked" in rows[-1]
    assert len(rows) - 1 == len(sfn.get_execution_history(executionArn=f"{machine.replace(':stateMachine:', ':execution:')}:second")["events"])


def test_follow_attaches_to_a_running_execution(server, definition_file, tmp_path):
    payload = tmp_path / "input.json"
    payload.write_text('{"fail": false}')
    started = cli("workflow", "run", str(definition_file), "--input", str(payload), server=server)
    assert started.returncode == 0, started.stderr
    arn = started.stdout.strip()
    followed = cli("workflow", "follow", arn, server=server)
    assert followed.returncode == 0, followed.stderr
    assert line_of(followed.stdout, "Done").startswith("✔")
    assert f"{arn} SUCCEEDED" in followed.stdout


def test_errors_are_reported_with_the_servers_error_type(server, definition_file, tmp_path):
    missing = cli("workflow", "follow", "arn:aws:states:us-east-1:000000000000:execution:nope:nope", server=server)
    assert missing.returncode == 1 and "ExecutionDoesNotExist" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}))
    refused = cli("workflow", "run", str(bad), server=server)
    assert refused.returncode == 1 and "InvalidDefinition" in refused.stderr and "Nowhere" in refused.stderr
    not_json = tmp_path / "not.json"
    not_json.write_text("{")
    assert cli("workflow", "run", str(not_json), server=server).returncode == 2


def test_graph_draws_text_dot_and_svg_without_a_server(definition_file, tmp_path):
    text = cli("workflow", "graph", str(definition_file))
    assert text.returncode == 0, text.stderr
    names = [line.lstrip("○ ").split()[0] for line in text.stdout.splitlines()]
    assert names == ["Prepare", "Pause", "Each", "Look", "Check", "Broken", "Done"]
    assert text.stdout.splitlines()[3].startswith("    ")  # Look is inside the Map

    dot = cli("workflow", "graph", str(definition_file), "--format", "dot")
    assert dot.returncode == 0
    assert '"Check" -> "Broken" [label="$.fail == true"];' in dot.stdout
    assert '"Check" -> "Done" [label="Default"];' in dot.stdout
    assert "subgraph cluster_0" in dot.stdout and '"Look" [shape=ellipse];' in dot.stdout

    out = tmp_path / "machine.svg"
    svg = cli("workflow", "graph", str(definition_file), "--format", "svg", "-o", str(out))
    assert svg.returncode == 0 and svg.stdout == ""
    root = ET.parse(out).getroot()
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for state in ("Prepare", "Pause", "Each", "Check", "Broken", "Done"):
        assert state in texts
    assert any(t and t.startswith("Look") for t in texts)
    assert len(list(root.iter("{http://www.w3.org/2000/svg}rect"))) == 6
