"""Loam's JSONata evaluator against the reference implementation, npm ``jsonata`` 2.0.6 (the version
Step Functions runs), case by case.

Both engines read the same JSON lines ``{"expr", "input"?, "bindings"?}`` (an absent input is
undefined) and answer one line per case, ``{"result": R}``, ``{"undefined": true}`` or
``{"error": CODE, "message": TEXT}``:

- the reference: ``node tests/node/jsonata_reference.mjs --batch`` (tests/node, ``npm ci``);
- Loam: ``loam workflow jsonata --batch``.

Two outcomes agree when both are the same JSON (numbers within a relative 1e-12, objects in any
key order), both undefined, or both errors with the same code; messages are not compared.

``test_corpus_*`` runs every case of tests/conformance/jsonata (except the hand-written
``"reference": false`` ones) and also checks that the committed expectations are still what the
reference says. ``test_generated_*`` compares ~3000 random expressions from
``jsonata_generator.py``; ``LOAM_JSONATA_SEED`` and ``LOAM_JSONATA_COUNT`` change the draw.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import loam_binary
from jsonata_generator import generate

pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "tests" / "node"
REFERENCE = NODE_DIR / "jsonata_reference.mjs"
CASES_DIR = REPO / "tests" / "conformance" / "jsonata"
MAX_REPORTED = 30
OUTCOME_KEYS = ("result", "undefined", "error")


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed (scripts/setup.sh installs Node.js and tests/node's packages)")
    assert (NODE_DIR / "node_modules" / "jsonata").is_dir(), (
        "tests/node/node_modules lacks jsonata: run scripts/setup.sh (npm ci in tests/node)")
    return path


def batch(command: list[str], cases: list[dict], cwd: Path | None = None) -> list[dict]:
    """Runs one engine over all cases in one process; one outcome per case, in order."""
    lines = "".join(json.dumps({k: c[k] for k in ("expr", "input", "bindings") if k in c}) + "\n"
                    for c in cases)
    proc = subprocess.run(command, input=lines, capture_output=True, text=True, cwd=cwd, timeout=500)
    outcomes = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    where = ""
    if len(outcomes) < len(cases):
        where = f"; it stopped at case {len(outcomes)}: {cases[len(outcomes)]['expr']!r}"
    assert proc.returncode == 0 and len(outcomes) == len(cases), (
        f"{' '.join(command)} exited {proc.returncode} after {len(outcomes)} of {len(cases)} cases{where}\n"
        f"stderr: {proc.stderr[-3000:]}")
    return outcomes


def reference(node: str, cases: list[dict]) -> list[dict]:
    return batch([node, str(REFERENCE), "--batch"], cases, cwd=NODE_DIR)


def loam(cases: list[dict]) -> list[dict]:
    return batch([str(loam_binary()), "workflow", "jsonata", "--batch"], cases)


def equivalent(a, b) -> bool:
    """JSON equality: numbers by value within a relative 1e-12, objects in any key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if a == b:
            return True
        if not (math.isfinite(a) and math.isfinite(b)):
            return False
        return abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equivalent(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equivalent(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def same_outcome(a: dict, b: dict) -> bool:
    if "error" in a or "error" in b:
        return a.get("error") == b.get("error")
    if a.get("undefined") or b.get("undefined"):
        return bool(a.get("undefined")) and bool(b.get("undefined"))
    return "result" in a and "result" in b and equivalent(a["result"], b["result"])


def describe(outcome: dict) -> str:
    if "error" in outcome:
        return f"error {outcome['error']}" + (f" ({outcome['message'][:200]})" if outcome.get("message") else "")
    if outcome.get("undefined"):
        return "undefined"
    return "result " + json.dumps(outcome.get("result"), ensure_ascii=False)[:600]


def report(title: str, rows: list[tuple[str, dict, dict, dict]], left: str, right: str) -> str:
    """rows: (label, case, left outcome, right outcome); lists the first MAX_REPORTED."""
    out = [f"{len(rows)} {title}; the first {min(len(rows), MAX_REPORTED)}:"]
    for label, case, a, b in rows[:MAX_REPORTED]:
        out.append(f"- {label}: {case['expr']}")
        out.append(f"    input:    {json.dumps(case['input'])[:300] if 'input' in case else '(undefined)'}")
        if "bindings" in case:
            out.append(f"    bindings: {json.dumps(case['bindings'])[:300]}")
        out.append(f"    {left}: {describe(a)}")
        out.append(f"    {right}: {describe(b)}")
    return "\n".join(out)


def corpus() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.json")):
        for i, case in enumerate(json.loads(path.read_text())["cases"]):
            if case.get("reference", True):
                cases.append((f"{path.stem}[{i}]", case))
    return cases


def test_corpus_expectations_are_still_the_references(node):
    labelled = corpus()
    assert len(labelled) > 500, f"only {len(labelled)} corpus cases under {CASES_DIR}"
    cases = [case for _, case in labelled]
    fresh = reference(node, cases)
    stale = []
    for (label, case), outcome in zip(labelled, fresh):
        committed = {k: case[k] for k in OUTCOME_KEYS if k in case}
        if not same_outcome(committed, outcome):
            stale.append((label, case, committed, outcome))
    if stale:
        pytest.fail(report("committed expectations differ from the reference "
                           "(node tests/node/jsonata_reference.mjs --write ... to refresh)",
                           stale, "committed", "reference"), pytrace=False)


def test_corpus_matches_the_reference(node):
    labelled = corpus()
    cases = [case for _, case in labelled]
    expected = reference(node, cases)
    actual = loam(cases)
    mismatches = [(label, case, ref, got) for (label, case), ref, got in zip(labelled, expected, actual)
                  if not same_outcome(ref, got)]
    if mismatches:
        pytest.fail(report(f"of {len(cases)} corpus cases differ", mismatches, "reference", "loam     "), pytrace=False)


def test_generated_expressions_match_the_reference(node):
    seed = int(os.environ.get("LOAM_JSONATA_SEED", "20240115"))
    count = int(os.environ.get("LOAM_JSONATA_COUNT", "3000"))
    cases = generate(count, seed)
    expected = reference(node, cases)
    # The generator must keep producing expressions that mostly evaluate, and some that fail.
    errors = sum(1 for o in expected if "error" in o)
    assert 0.05 * count <= errors <= 0.35 * count, f"{errors} of {count} generated expressions fail in the reference"
    actual = loam(cases)
    mismatches = [(f"#{i}", case, ref, got) for i, (case, ref, got) in enumerate(zip(cases, expected, actual))
                  if not same_outcome(ref, got)]
    if mismatches:
        pytest.fail(report(f"of {count} generated expressions (seed {seed}) differ", mismatches,
                           "reference", "loam     "), pytrace=False)
