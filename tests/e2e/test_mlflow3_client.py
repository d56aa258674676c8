"""The current mlflow client (3.x) against Loam, from its own virtualenv."""

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON3 = REPO / ".venv-mlflow3" / "bin" / "python"


def test_mlflow3_logged_model_workflow(server):
    """log_model, logged-model search/tags/delete and runs:/ + models:/ loading with mlflow 3."""
    assert PYTHON3.exists(), "run scripts/setup.sh: it creates .venv-mlflow3 with the mlflow 3 client"
    env = dict(os.environ, MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", GIT_PYTHON_REFRESH="quiet")
    proc = subprocess.run(
        [str(PYTHON3), str(Path(__file__).parent / "clients" / "mlflow3_flow.py"), "--tracking-uri", server.url],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["mlflow"].startswith("3.")
    assert summary["model_id"].startswith("m-")
