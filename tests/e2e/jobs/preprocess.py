"""A processing script as SKLearnProcessor runs it: reads the CSV shards of its input,
splits them into train and test sets, and writes them (named after its host) to its outputs.

  --input DIR --train-output DIR --test-output DIR [--test-ratio R] [--fail-with MESSAGE]
"""
import argparse
import glob
import json
import os

import pandas as pd

parser = argparse.ArgumentParser()
parser.add_argument("--input", default="/opt/ml/processing/input/raw")
parser.add_argument("--train-output", default="/opt/ml/processing/output/train")
parser.add_argument("--test-output", default="/opt/ml/processing/output/test")
parser.add_argument("--test-ratio", type=float, default=0.25)
parser.add_argument("--fail-with", default="")
parser.add_argument("--sleep", type=float, default=0)
args = parser.parse_args()

config_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(args.input.rstrip("/")))), "config")
resource = json.load(open(os.path.join(config_dir, "resourceconfig.json")))
job = json.load(open(os.path.join(config_dir, "processingjobconfig.json")))
host = resource["current_host"]
print(f"host {host} of {resource['hosts']} job {job['ProcessingJobName']}", flush=True)

if args.sleep:
    import time
    print("preprocess.py sleeping", flush=True)
    time.sleep(args.sleep)

if args.fail_with:
    os.makedirs(os.path.join(os.path.dirname(config_dir), "output"), exist_ok=True)
    with open(os.path.join(os.path.dirname(config_dir), "output", "message"), "w") as f:
        f.write(args.fail_with)
    raise SystemExit(2)

files = sorted(os.path.relpath(p, args.input) for p in glob.glob(os.path.join(args.input, "**", "*.csv"), recursive=True))
print(f"files {files}", flush=True)
frame = pd.concat([pd.read_csv(os.path.join(args.input, f)) for f in files], ignore_index=True)
test = frame.sample(frac=args.test_ratio, random_state=7)
train = frame.drop(test.index)
for out, part in ((args.train_output, train), (args.test_output, test)):
    os.makedirs(out, exist_ok=True)
    part.to_csv(os.path.join(out, f"{host}.csv"), index=False)
with open(os.path.join(args.train_output, f"{host}-manifest.json"), "w") as f:
    json.dump({"host": host, "files": files, "rows": len(frame)}, f)
print(f"rows {len(frame)} train {len(train)} test {len(test)}")
