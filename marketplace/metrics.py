"""Prometheus metrics through the standard client library, and the guarded ``/metrics`` endpoint.

What is measured (every label has a bounded set of values, so the number of series stays small):

- ``marketplace_http_request_duration_seconds{route,method,status}``: every request the application routes, by the
  Flask endpoint name of its URL rule (never the raw path: ids and slugs would make a series per listing), the
  method (unknown ones as ``OTHER``) and the status class (``2xx`` … ``5xx``). Requests no rule matched share the
  route ``unmatched``.
- ``marketplace_jobs_total{kind,outcome}`` and ``marketplace_job_duration_seconds{kind}``: for the job worker.
- ``marketplace_job_queue_depth{state}``: read at scrape time from the callable given to
  :func:`set_queue_depth_source` (the job queue registers one); absent until one is registered.
- ``marketplace_webhook_deliveries_total{outcome}``: each outbound webhook attempt (``delivered``, ``retrying``,
  ``failed``).
- ``marketplace_payment_events_total{type,outcome}``: payment-provider events (``applied``, ``ignored``,
  ``duplicate``, ``rejected``).
- ``marketplace_download_links_total{kind}``: download links issued (``site`` or ``api``).

Counters of transactional changes are incremented from ``uow.after_commit``, so a rolled-back change is not counted.

**Several processes.** gunicorn runs several workers, each with its own memory. Set ``PROMETHEUS_MULTIPROC_DIR``
to an empty directory, writable by the workers, wiped before the server starts (the library requires it to be set
before ``prometheus_client`` is imported, i.e. in the server's environment). Every process then writes its samples
there and ``/metrics`` adds them up with the library's ``MultiProcessCollector``, whichever worker answers;
``infra/gunicorn.conf.py`` marks exited workers (``child_exit``) so their live gauges are dropped. Without the
variable each process reports only its own counts (fine for one process).

**Who may read it.** ``/metrics`` answers only a request carrying ``Authorization: Bearer <METRICS_TOKEN>``
(compared in constant time) or coming from ``METRICS_ALLOWED_NETWORKS`` (the client address after
``TRUSTED_PROXIES``); anyone else gets the site's plain 404, as for a page that does not exist. It is not rate
limited, not CSRF-protected (it only reads) and touches no session.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from werkzeug.wrappers import Response

from marketplace.config import ConfigError

log = logging.getLogger(__name__)

#: The samples of this process (in multi-process mode, written to ``PROMETHEUS_MULTIPROC_DIR`` instead).
REGISTRY = CollectorRegistry(auto_describe=True)

UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: from a cached page to a request that hits the statement timeout and beyond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

REQUEST_DURATION = Histogram(
    "marketplace_http_request_duration_seconds",
    "Time to answer a request, by route (Flask endpoint), method and status class.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
JOBS = Counter(
    "marketplace_jobs",
    "Background job attempts, by kind and outcome (succeeded, failed).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "marketplace_job_duration_seconds",
    "Time a background job ran, by kind.",
    ["kind"],
    buckets=JOB_BUCKETS,
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "marketplace_webhook_deliveries",
    "Outbound webhook delivery attempts, by outcome (delivered, retrying, failed).",
    ["outcome"],
    registry=REGISTRY,
)
PAYMENT_EVENTS = Counter(
    "marketplace_payment_events",
    "Payment provider events received, by event type and outcome (applied, ignored, duplicate, rejected).",
    ["type", "outcome"],
    registry=REGISTRY,
)
DOWNLOAD_LINKS = Counter(
    "marketplace_download_links",
    "Download links issued to licensees, by kind (site, api).",
    ["kind"],
    registry=REGISTRY,
)

QUEUE_DEPTH_NAME = "marketplace_job_queue_depth"
_queue_depth_source: Callable[[], dict[str, int]] | None = None


def set_queue_depth_source(source: Callable[[], dict[str, int]] | None) -> None:
    """Report the job queue's depth per state (``{"queued": 3, "delayed": 1, "dead": 0}``) at every scrape.

    ``source`` is called by the process answering ``/metrics``; it should be quick (one count per state). None
    removes it, and the gauge is then absent.
    """
    global _queue_depth_source
    _queue_depth_source = source


class _QueueDepthCollector(Collector):
    """The job queue depth, asked of the registered source at scrape time (the queue is shared, not per process)."""

    def collect(self) -> Iterable[Metric]:
        source = _queue_depth_source
        if source is None:
            return []
        try:
            depths = source()
        except Exception:  # a scrape reports what it can; the failure goes to the log
            log.warning("metrics: the job queue depth could not be read", exc_info=True)
            return []
        family = GaugeMetricFamily(QUEUE_DEPTH_NAME, "Jobs in the queue, by state.", labels=["state"])
        for state, depth in sorted(depths.items()):
            family.add_metric([state], float(depth))
        return [family]


def multiprocess_dir() -> str:
    """The multi-process directory (``PROMETHEUS_MULTIPROC_DIR``), or "" in single-process mode."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def scrape_registry() -> CollectorRegistry:
    """The registry a scrape reads: every process's samples in multi-process mode, else this process's."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_ThisProcess())
    registry.register(_QueueDepthCollector())
    return registry


class _ThisProcess(Collector):
    """This process's own metrics (single-process mode)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition() -> tuple[bytes, str]:
    """The text a scrape returns, and its content type."""
    return generate_latest(scrape_registry()), CONTENT_TYPE_LATEST


def clear_multiprocess_dir() -> None:
    """Make ``PROMETHEUS_MULTIPROC_DIR`` if missing, and empty it of the previous run's samples (before any worker
    starts: the library writes there but neither creates nor cleans it)."""
    directory = multiprocess_dir()
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def mark_process_dead(pid: int) -> None:
    """Drop the live gauges of an exited worker (gunicorn's ``child_exit`` hook); a no-op in single-process mode."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


# --- what the application counts -----------------------------------------------------------------------------------


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """One answered request, labelled by route (never the raw path), method and status class."""
    REQUEST_DURATION.labels(
        route=endpoint or UNMATCHED_ROUTE,
        method=method if method in KNOWN_METHODS else "OTHER",
        status=status_class(status),
    ).observe(seconds)


def count_webhook_delivery(outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()


def count_payment_event(event_type: str, outcome: str) -> None:
    PAYMENT_EVENTS.labels(type=event_type, outcome=outcome).inc()


def count_download_links(kind: str, number: int = 1) -> None:
    DOWNLOAD_LINKS.labels(kind=kind).inc(number)


def observe_job(kind: str, outcome: str, seconds: float) -> None:
    """Count one attempt of a ``kind`` job that ended in ``outcome`` (succeeded, failed) after ``seconds``."""
    JOBS.labels(kind=kind, outcome=outcome).inc()
    JOB_DURATION.labels(kind=kind).observe(seconds)


# --- /metrics --------------------------------------------------------------------------------------------------------

bp = Blueprint("metrics", __name__)


def allowed_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``METRICS_ALLOWED_NETWORKS`` parsed; raises :class:`ConfigError` naming the setting for a bad entry."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise ConfigError(f"METRICS_ALLOWED_NETWORKS: {entry!r} is not a network ({error})") from error
    return networks


def _token_matches(expected: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def _from_allowed_network() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    networks = current_app.extensions["marketplace.metrics_networks"]
    return any(address in network for network in networks)


@bp.get("/metrics")
def metrics() -> Response:
    """The metrics for Prometheus; a 404 for anyone without the token or outside the allowed networks."""
    if not (_token_matches(str(current_app.config.get("METRICS_TOKEN") or "")) or _from_allowed_network()):
        abort(404)
    body, content_type = exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    """Register ``/metrics`` and time every request the application answers."""
    from marketplace import csrf

    app.extensions["marketplace.metrics_networks"] = allowed_networks(str(app.config["METRICS_ALLOWED_NETWORKS"]))
    app.register_blueprint(bp)
    csrf.exempt(bp)

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None:
            rule = request.url_rule
            observe_request(
                rule.endpoint if rule is not None else None,
                request.method,
                response.status_code,
                time.perf_counter() - started,
            )
        return response


def sample_value(name: str, labels: dict[str, str]) -> Any:
    """A sample's value from this process's registry (for tests and the CLI); None when there is none."""
    return REGISTRY.get_sample_value(name, labels)
