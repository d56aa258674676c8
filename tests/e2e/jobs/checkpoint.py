"""Resumes from /opt/ml/checkpoints when a checkpoint is there, as spot-training scripts do."""
import os

ckpt_dir = os.environ.get("SM_CHECKPOINT_DIR", "/opt/ml/checkpoints")
ckpt = os.path.join(ckpt_dir, "state.txt")
previous = int(open(ckpt).read()) if os.path.exists(ckpt) else 0
print(f"resumed from step {previous}")
os.makedirs(ckpt_dir, exist_ok=True)
with open(ckpt, "w") as f:
    f.write(str(previous + 10))
print(f"saved step {previous + 10}")
