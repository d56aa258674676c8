"""A SageMaker processing script, as SKLearnProcessor runs it on every instance: reads the CSV
files of this instance's shard, splits them into train and test sets with scikit-learn, writes
both under the outputs (named after the host, so the instances' files sit side by side in the
output prefix) and a report of what it saw."""

import argparse
import glob
import json
import os

import pandas as pd
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--input", default="/opt/ml/processing/input")
parser.add_argument("--train", default="/opt/ml/processing/train")
parser.add_argument("--test", default="/opt/ml/processing/test")
parser.add_argument("--report", default="/opt/ml/processing/report")
parser.add_argument("--config", default="/opt/ml/config")
parser.add_argument("--test-ratio", type=float, default=0.2)
args = parser.parse_args()

resource = json.load(open(os.path.join(args.config, "resourceconfig.json")))
host = resource["current_host"]
files = sorted(glob.glob(os.path.join(args.input, "*.csv")))
frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
train, test = train_test_split(frame, test_size=args.test_ratio, random_state=7)
for out, part in ((args.train, train), (args.test, test)):
    os.makedirs(out, exist_ok=True)
    part.to_csv(os.path.join(out, f"{host}.csv"), index=False)
os.makedirs(args.report, exist_ok=True)
report = {"host": host, "hosts": resource["hosts"], "files": [os.path.basename(f) for f in files],
          "rows": len(frame), "train_rows": len(train), "test_rows": len(test)}
with open(os.path.join(args.report, f"{host}.json"), "w") as f:
    json.dump(report, f)
print(f"PREPROCESS {host}: {len(files)} files, {len(frame)} rows -> train {len(train)}, test {len(test)}")
