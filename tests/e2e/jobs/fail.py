"""A training script that fails on purpose, in one of three ways (``--mode``):

  failure_file  writes ``--message`` to /opt/ml/output/failure (found through the SM_*
                environment: SM_OUTPUT_DIR, else the parent of SM_OUTPUT_DATA_DIR), as
                SageMaker containers do to set FailureReason, then exits 1 (the default)
  exception     prints ``--noise-lines`` long lines, then raises RuntimeError(--message):
                the reason must come from the exit status and the *last* log lines
  exit          prints ``last words: <message>`` and exits with ``--code`` (default 3)
"""

import argparse
import os
import sys


def output_dir():
    if os.environ.get("SM_OUTPUT_DIR"):
        return os.environ["SM_OUTPUT_DIR"]
    data_dir = os.environ.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")
    return os.path.dirname(data_dir.rstrip("/"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="failure_file", choices=["failure_file", "exception", "exit"])
    parser.add_argument("--message", default="synthetic failure")
    parser.add_argument("--code", type=int, default=3)
    parser.add_argument("--noise-lines", type=int, default=40)
    args = parser.parse_args()

    print(f"fail.py: mode={args.mode}", flush=True)
    if args.mode == "failure_file":
        path = os.path.join(output_dir(), "failure")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(args.message)
        print(f"wrote failure reason to {path}", file=sys.stderr, flush=True)
        sys.exit(1)
    if args.mode == "exception":
        for i in range(args.noise_lines):
            print(f"noise line {i:04d} " + "x" * 100, flush=True)
        raise RuntimeError(args.message)
    print(f"last words: {args.message}", flush=True)
    sys.exit(args.code)


if __name__ == "__main__":
    main()
