"""Small helpers shared by the raw-HTTP MLflow suites."""


def metrics_of(run):
    return {m["key"]: m for m in run.get("data", {}).get("metrics", [])}


def params_of(run):
    return {p["key"]: p["value"] for p in run.get("data", {}).get("params", [])}


def tags_of(run):
    return {t["key"]: t["value"] for t in run.get("data", {}).get("tags", [])}


def log_metric(api, run_id, key, value, timestamp=1000, step=0):
    return api.ok(
        "POST",
        "runs/log-metric",
        json={"run_id": run_id, "key": key, "value": value, "timestamp": timestamp, "step": step},
    )
