"""Entry point of a multi-file submit directory (``sagemaker_submit_directory``).

Imports ``util.greet`` from the same directory and reads ``assets/message.txt`` next to
itself, so it only works when the whole directory was shipped; writes ``bundle.json``
(greeting, message, argv) to SM_MODEL_DIR.
"""

import argparse
import json
import os
import sys

from util.greet import greeting


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--who", default="world")
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "assets", "message.txt")) as f:
        message = f.read().strip()
    model_dir = os.environ.get("SM_MODEL_DIR", "model")
    os.makedirs(model_dir, exist_ok=True)
    result = {"greeting": greeting(args.who), "message": message, "argv": sys.argv[1:]}
    with open(os.path.join(model_dir, "bundle.json"), "w") as f:
        json.dump(result, f)
    print("bundle: " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
