#!/usr/bin/env python3
"""Generates src/api/aws/<service>_model_data.cc: the subset of a botocore service model that
Loam serves (SageMaker; SageMaker Runtime's InvokeEndpoint; the CloudWatch Logs calls the SageMaker SDK makes; Step Functions), embedded as a
string so the server validates requests exactly against the model the pinned boto3 speaks.

Run with the project virtualenv (its botocore is the pinned one):

    .venv/bin/python tools/gen_botocore_subset.py                   # SageMaker
    .venv/bin/python tools/gen_botocore_subset.py --service logs    # CloudWatch Logs
    .venv/bin/python tools/gen_botocore_subset.py --service sagemaker_runtime   # InvokeEndpoint
    .venv/bin/python tools/gen_botocore_subset.py --service stepfunctions       # Step Functions

The subset keeps `metadata`, the operations below (name, input, output) and every shape
reachable from their input and output shapes, without documentation. Patterns that RE2 cannot
compile (Java-only syntax such as look-around) are listed in
metadata.re2IncompatiblePatterns; the validator skips exactly those. Finding them needs a C++
compiler and libre2-dev (pkg-config re2), the same RE2 the server links.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import botocore

SAGEMAKER_OPERATIONS = """
CreateTrainingJob DescribeTrainingJob ListTrainingJobs StopTrainingJob
AddTags ListTags DeleteTags
CreateProcessingJob DescribeProcessingJob ListProcessingJobs StopProcessingJob
CreateHyperParameterTuningJob DescribeHyperParameterTuningJob ListHyperParameterTuningJobs
StopHyperParameterTuningJob ListTrainingJobsForHyperParameterTuningJob
CreateModel DescribeModel ListModels DeleteModel
CreateEndpointConfig DescribeEndpointConfig ListEndpointConfigs DeleteEndpointConfig
CreateEndpoint DescribeEndpoint ListEndpoints UpdateEndpoint DeleteEndpoint
UpdateEndpointWeightsAndCapacities
CreateTransformJob DescribeTransformJob ListTransformJobs StopTransformJob
""".split()

STEPFUNCTIONS_OPERATIONS = """
CreateStateMachine DescribeStateMachine UpdateStateMachine DeleteStateMachine ListStateMachines
ValidateStateMachineDefinition
StartExecution StartSyncExecution DescribeExecution StopExecution ListExecutions GetExecutionHistory
DescribeStateMachineForExecution SendTaskSuccess SendTaskFailure SendTaskHeartbeat
TagResource UntagResource ListTagsForResource
""".split()

# service -> (botocore data directory, API version, operations, C++ symbol)
SERVICES = {
    "sagemaker": ("sagemaker", "2017-07-24", SAGEMAKER_OPERATIONS, "kSageMakerModelJson"),
    "logs": ("logs", "2014-03-28", ["DescribeLogStreams", "GetLogEvents"], "kLogsModelJson"),
    "sagemaker_runtime": ("sagemaker-runtime", "2017-05-13", ["InvokeEndpoint"], "kSageMakerRuntimeModelJson"),
    "stepfunctions": ("stepfunctions", "2016-11-23", STEPFUNCTIONS_OPERATIONS, "kStepFunctionsModelJson"),
}

METADATA_KEYS = ["apiVersion", "jsonVersion", "protocol", "serviceId", "targetPrefix"]
OPERATION_KEYS = ["name", "input", "output"]
# Keys that only describe, never constrain; dropped to keep the embedded model small.
DROPPED_KEYS = {"documentation", "deprecatedMessage", "deprecated"}

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "src", "api", "aws")
CHUNK_CHARS = 30000  # each raw string literal stays far below GCC's 64 KiB pedantic limit
RAW_DELIMITER = "botocore"

RE2_CHECKER = r"""
#include <iostream>
#include <string>
#include <re2/re2.h>
// One pattern per line in, "ok" or "fail" per line out, compiled as the server compiles them.
int main() {
  RE2::Options options;
  options.set_log_errors(false);
  std::string line;
  while (std::getline(std::cin, line)) std::cout << (RE2(line, options).ok() ? "ok" : "fail") << "\n";
}
"""


def strip_docs(node):
    if isinstance(node, dict):
        return {k: strip_docs(v) for k, v in node.items() if k not in DROPPED_KEYS}
    if isinstance(node, list):
        return [strip_docs(v) for v in node]
    return node


def reachable_shapes(shapes, roots):
    seen, stack = set(), list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        for ref_key in ("member", "key", "value"):
            if ref_key in shape:
                stack.append(shape[ref_key]["shape"])
        stack.extend(m["shape"] for m in shape.get("members", {}).values())
    return seen


def re2_incompatible(patterns):
    """Returns the patterns RE2 refuses, by compiling a tiny checker against the system RE2."""
    if any("\n" in p for p in patterns):
        sys.exit("a pattern contains a newline; the RE2 checker reads one pattern per line")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "re2"], check=True, capture_output=True,
                           text=True).stdout.split()
    with tempfile.TemporaryDirectory() as tmp:
        source, binary = os.path.join(tmp, "check.cc"), os.path.join(tmp, "check")
        with open(source, "w") as f:
            f.write(RE2_CHECKER)
        subprocess.run([os.environ.get("CXX", "c++"), "-std=c++17", "-O0", source, "-o", binary, *flags], check=True)
        out = subprocess.run([binary], input="".join(p + "\n" for p in patterns), check=True, capture_output=True,
                             text=True).stdout.split()
    return [p for p, verdict in zip(patterns, out) if verdict != "ok"]


def build_subset(model, operations):
    ops = {}
    for name in operations:
        op = model["operations"][name]
        ops[name] = {k: op[k] for k in OPERATION_KEYS if k in op}
    roots = [ref["shape"] for op in ops.values() for ref in (op.get("input"), op.get("output")) if ref]
    names = reachable_shapes(model["shapes"], roots)
    shapes = {n: strip_docs(model["shapes"][n]) for n in sorted(names)}
    metadata = {k: model["metadata"][k] for k in METADATA_KEYS if k in model["metadata"]}
    metadata["botocoreVersion"] = botocore.__version__
    patterns = sorted({s["pattern"] for s in shapes.values() if "pattern" in s})
    metadata["re2IncompatiblePatterns"] = re2_incompatible(patterns)
    return {"metadata": metadata, "operations": ops, "shapes": shapes}


def render_cc(subset, model_path, service, symbol):
    text = json.dumps(subset, separators=(",", ":"), ensure_ascii=True)
    if f"){RAW_DELIMITER}\"" in text:
        sys.exit("the raw string delimiter occurs in the model; pick another")
    chunks = [text[i:i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
    skipped = subset["metadata"]["re2IncompatiblePatterns"]
    lines = [
        "// GENERATED FILE - DO NOT EDIT.",
        f"// Generated by: .venv/bin/python tools/gen_botocore_subset.py --service {service}",
        f"// Source: botocore {botocore.__version__}, data/{SERVICES[service][0]}/{os.path.basename(os.path.dirname(model_path))}"
        "/service-2.json.gz",
        f"// Contents: {len(subset['operations'])} operations, {len(subset['shapes'])} shapes, {len(text)} bytes of JSON.",
        "// Patterns RE2 cannot compile (Java-only syntax); the validator skips only these, and they",
        "// are also listed in metadata.re2IncompatiblePatterns:",
    ]
    # A trailing backslash would splice the next line into the comment.
    lines += [f"//   {p}" + (" (end)" if p.endswith("\\") else "") for p in skipped] or ["//   (none)"]
    lines += [
        "",
        "#include <string_view>",
        "",
        "namespace loam::api::aws {",
        "",
        "// Adjacent raw literals concatenate at compile time into one contiguous array.",
        f"extern const std::string_view {symbol};",
        f"const std::string_view {symbol} =",
    ]
    lines += [f'    R"{RAW_DELIMITER}({c}){RAW_DELIMITER}"' for c in chunks]
    lines[-1] += ";"
    lines += ["", "}  // namespace loam::api::aws", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", choices=sorted(SERVICES), default="sagemaker")
    parser.add_argument("--out", help="generated C++ file (default: src/api/aws/<service>_model_data.cc)")
    parser.add_argument("--json-out", help="also write the subset as plain JSON, for inspection")
    args = parser.parse_args()
    data_dir, version, operations, symbol = SERVICES[args.service]
    args.out = args.out or os.path.join(OUT_DIR, f"{args.service}_model_data.cc")
    model_path = os.path.join(os.path.dirname(botocore.__file__), "data", data_dir, version, "service-2.json.gz")
    with gzip.open(model_path, "rt", encoding="utf-8") as f:
        model = json.load(f)
    subset = build_subset(model, operations)
    with open(args.out, "w", encoding="ascii") as f:
        f.write(render_cc(subset, model_path, args.service, symbol))
    if args.json_out:
        with open(args.json_out, "w", encoding="ascii") as f:
            json.dump(subset, f, indent=1, ensure_ascii=True)
    print(f"wrote {os.path.normpath(args.out)}: botocore {botocore.__version__}, {len(subset['operations'])} "
          f"operations, {len(subset['shapes'])} shapes, skipped patterns: {subset['metadata']['re2IncompatiblePatterns']}")


if __name__ == "__main__":
    main()
