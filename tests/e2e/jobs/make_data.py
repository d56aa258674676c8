"""Writes the diabetes regression data set (bundled with scikit-learn, no download) as CSV.

Layout of every file: a header row, the label column ``target`` first, then the ten
standardized features ``age sex bmi bp s1 .. s6``. The split is deterministic (seeded
permutation): 80 % ``train``, 20 % ``validation``.

Used by the end-to-end tests (imported through ``sagemaker_helpers``) and runnable by hand:

    python make_data.py OUT_DIR [--split train|validation] [--shards N] [--nested]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

LABEL = "target"
TRAIN_FRACTION = 0.8


def diabetes_rows(split: str, seed: int = 0) -> tuple[list[str], list[list[float]]]:
    """Header and rows (label first) of one split of the diabetes data set."""
    import numpy as np
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    order = np.random.RandomState(seed).permutation(len(data.target))
    cut = int(len(order) * TRAIN_FRACTION)
    if split == "train":
        index = order[:cut]
    elif split == "validation":
        index = order[cut:]
    else:
        raise ValueError(f"unknown split {split!r} (train or validation)")
    header = [LABEL] + list(data.feature_names)
    rows = [[float(data.target[i])] + [float(x) for x in data.data[i]] for i in index]
    return header, rows


def write_diabetes_csv(
    out_dir, split: str = "train", shards: int = 1, nested: bool = False, seed: int = 0
) -> list[Path]:
    """Writes one split as ``shards`` CSV files under ``out_dir``; returns their paths.

    With ``nested``, shards after the first go to sub-directories (``part-1/``, ...), as
    objects under an S3 prefix often are; a channel must deliver the whole tree.
    """
    out_dir = Path(out_dir)
    header, rows = diabetes_rows(split, seed)
    shards = max(1, int(shards))
    paths = []
    for shard in range(shards):
        part = rows[shard::shards]
        folder = out_dir / f"part-{shard}" if nested and shard > 0 else out_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{split}-{shard}.csv"
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(part)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--split", default="train", choices=["train", "validation"])
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--nested", action="store_true")
    args = parser.parse_args()
    for path in write_diabetes_csv(args.out_dir, args.split, args.shards, args.nested):
        print(path)


if __name__ == "__main__":
    main()
