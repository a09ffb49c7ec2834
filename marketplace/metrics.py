"""Prometheus metrics of the marketplace."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOBS = Counter("marketplace_jobs_total", "Background job attempts by kind and outcome.", ["kind", "outcome"])
JOB_DURATION = Histogram("marketplace_job_duration_seconds", "Time a background job attempt took.", ["kind"])


def observe_job(kind: str, outcome: str, seconds: float) -> None:
    """Count one attempt of a ``kind`` job that ended in ``outcome`` (succeeded, failed) after ``seconds``."""
    JOBS.labels(kind=kind, outcome=outcome).inc()
    JOB_DURATION.labels(kind=kind).observe(seconds)
