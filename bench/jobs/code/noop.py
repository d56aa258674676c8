import time; print(f"loam-bench-first-line {time.time():.6f}", flush=True)  # noqa: E702 - the first statement
# The job-start benchmark's training script (bench/jobs/bench_jobs.py): its first statement
# prints the wall-clock time it began running; then it does nothing and exits 0.
