"""A SageMaker processing script (as SKLearnProcessor runs it): each instance reads its shard
of the raw CSV files, splits it into train and validation sets and writes them to its outputs,
named after its host so the instances' files sit side by side in the output prefix."""

import argparse
import glob
import json
import os

import pandas as pd

parser = argparse.ArgumentParser()
parser.add_argument("--input", default="/opt/ml/processing/input/raw")
parser.add_argument("--train", default="/opt/ml/processing/output/train")
parser.add_argument("--validation", default="/opt/ml/processing/output/validation")
parser.add_argument("--validation-ratio", type=float, default=0.2)
args = parser.parse_args()

config = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(args.input.rstrip("/")))), "config")
host = json.load(open(os.path.join(config, "resourceconfig.json")))["current_host"]
files = sorted(glob.glob(os.path.join(args.input, "*.csv")))
frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
validation = frame.sample(frac=args.validation_ratio, random_state=7)
train = frame.drop(validation.index)
for out, part in ((args.train, train), (args.validation, validation)):
    os.makedirs(out, exist_ok=True)
    part.to_csv(os.path.join(out, f"{host}.csv"), index=False)
print(f"{host}: {len(files)} shards, {len(frame)} rows -> train {len(train)}, validation {len(validation)}")
