"""``/metrics``: who may read it (token or allowed network, else a plain 404), what it exposes (request latency per
route, never per raw path; the job queue depth from its registered source), and counters that count only what was
committed."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace import create_app, metrics
from marketplace.config import SETTINGS_BY_NAME, ConfigError
from marketplace.db import UnitOfWork
from marketplace.delivery import services as delivery
from marketplace.delivery.downloads import Requester
from marketplace.production_settings import unsafe_for_production
from tests.functional.test_delivery import issue, market  # noqa: F401 - the fixture

TOKEN = "m" * 8 + "T0k3n-for-the-metrics-scraper-0123456789"
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}
NAMES = (
    "marketplace_http_request_duration_seconds",
    "marketplace_webhook_deliveries_total",
    "marketplace_payment_events_total",
    "marketplace_download_links_total",
    "marketplace_jobs_total",
    "marketplace_job_duration_seconds",
)


@pytest.fixture()
def app_settings(app_settings):  # type: ignore[no-untyped-def]
    return {**app_settings, "METRICS_TOKEN": TOKEN}


@pytest.fixture(autouse=True)
def _no_queue_source() -> Iterator[None]:
    metrics.set_queue_depth_source(None)
    yield
    metrics.set_queue_depth_source(None)


def _count(route: str, method: str = "GET", status: str = "2xx") -> float:
    labels = {"route": route, "method": method, "status": status}
    return metrics.sample_value("marketplace_http_request_duration_seconds_count", labels) or 0.0


@pytest.mark.parametrize(
    ("headers", "environ", "status"),
    [
        ({}, OUTSIDE, 404),  # no token, from outside the allowed networks
        ({"Authorization": "Bearer wrong-token"}, OUTSIDE, 404),
        ({"Authorization": f"Bearer {TOKEN}x"}, OUTSIDE, 404),  # a longer token is not the token
        ({"Authorization": TOKEN}, OUTSIDE, 404),  # not as a bearer token
        ({"Authorization": f"Bearer {TOKEN}"}, OUTSIDE, 200),
        ({}, {"REMOTE_ADDR": "127.0.0.1"}, 200),  # the default allowed networks: the machine itself
        ({}, {"REMOTE_ADDR": "::1"}, 200),
        ({"Authorization": "Bearer wrong-token"}, {"REMOTE_ADDR": "127.0.0.1"}, 200),
    ],
)
def test_who_may_read_the_metrics(client, headers, environ, status) -> None:
    response = client.get("/metrics", headers=headers, environ_base=environ)
    assert response.status_code == status
    assert "Set-Cookie" not in response.headers  # no session, whoever asks
    if status == 404:
        # The site's own "page not found", saying nothing about metrics.
        assert "metric" not in response.get_data(as_text=True).lower()
    else:
        text = response.get_data(as_text=True)
        assert response.mimetype == "text/plain"
        for name in NAMES:
            assert f"# TYPE {name.removesuffix('_total')}" in text, name


def test_no_token_setting_means_networks_only(app, client) -> None:
    app.config["METRICS_TOKEN"] = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}, environ_base=OUTSIDE).status_code == 404
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404


@pytest.mark.parametrize(
    ("forwarded_for", "status"),
    [("10.1.2.3", 200), ("203.0.113.9", 404)],
)
def test_allowed_networks_see_the_client_behind_trusted_proxies(app_settings, connection, forwarded_for, status):  # type: ignore[no-untyped-def]
    application = create_app({**app_settings, "TRUSTED_PROXIES": 1, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8"})
    application.extensions["marketplace.db"].bind_to_connection(connection)
    # The proxy itself is on the machine (127.0.0.1), which is no longer an allowed network here.
    response = application.test_client().get(
        "/metrics", headers={"X-Forwarded-For": forwarded_for}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert response.status_code == status


def test_a_bad_network_is_refused_naming_the_setting(app_settings) -> None:
    with pytest.raises(ConfigError, match="METRICS_ALLOWED_NETWORKS"):
        create_app({**app_settings, "METRICS_ALLOWED_NETWORKS": "127.0.0.1/32,not-a-network"})


def test_production_refuses_a_short_token() -> None:
    assert any(p.startswith("METRICS_TOKEN") for p in unsafe_for_production({"METRICS_TOKEN": "short"}))
    assert not any(p.startswith("METRICS_TOKEN") for p in unsafe_for_production({"METRICS_TOKEN": TOKEN}))
    assert not any(p.startswith("METRICS_TOKEN") for p in unsafe_for_production({"METRICS_TOKEN": ""}))


def test_requests_are_timed_per_route_not_per_path(client) -> None:
    before = _count("health.healthz")
    unmatched = _count("unmatched", status="4xx")
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page/12345").status_code == 404
    assert _count("health.healthz") == before + 1
    assert _count("unmatched", status="4xx") == unmatched + 1
    text = client.get("/metrics").get_data(as_text=True)
    assert 'route="health.healthz"' in text
    # The path (and its id) is in no label; only labels are checked, since a sample's value may hold any digits.
    labels = " ".join(line.split("{", 1)[1].rsplit("}", 1)[0] for line in text.splitlines() if "{" in line)
    assert 'route="health.healthz"' in labels
    assert "/no/such/page" not in labels and "12345" not in labels


def test_an_unknown_method_gets_one_label(client) -> None:
    before = _count("unmatched", method="OTHER", status="4xx") + _count("health.healthz", method="OTHER", status="4xx")
    client.open("/healthz", method="BREW")
    after = _count("unmatched", method="OTHER", status="4xx") + _count("health.healthz", method="OTHER", status="4xx")
    assert after == before + 1


def test_the_queue_depth_comes_from_the_registered_source(client) -> None:
    metrics.set_queue_depth_source(None)
    assert metrics.QUEUE_DEPTH_NAME not in client.get("/metrics").get_data(as_text=True)
    metrics.set_queue_depth_source(lambda: {"queued": 3, "dead": 1})
    text = client.get("/metrics").get_data(as_text=True)
    assert f'{metrics.QUEUE_DEPTH_NAME}{{state="queued"}} 3.0' in text
    assert f'{metrics.QUEUE_DEPTH_NAME}{{state="dead"}} 1.0' in text

    def broken() -> dict[str, int]:
        raise RuntimeError("queue down")

    metrics.set_queue_depth_source(broken)
    response = client.get("/metrics")
    assert response.status_code == 200 and metrics.QUEUE_DEPTH_NAME not in response.get_data(as_text=True)


def test_the_job_queue_reports_its_depth_per_state(app_settings, connection) -> None:
    application = create_app(app_settings)  # the job queue registers its source when the app is built
    application.extensions["marketplace.db"].bind_to_connection(connection)
    text = application.test_client().get("/metrics").get_data(as_text=True)
    assert f'{metrics.QUEUE_DEPTH_NAME}{{state="pending"}} 0.0' in text, text


def test_download_links_are_counted_only_once_committed(app, market, db_session) -> None:  # noqa: F811
    grant = issue(app, db_session, market)
    requester = Requester(market["purchaser"], "1.2.3.4", "t")

    def links() -> float:
        return metrics.sample_value("marketplace_download_links_total", {"kind": "site"}) or 0.0

    database, context = app.extensions["marketplace.db"], app.extensions["marketplace.context"]
    before = links()
    work = UnitOfWork(database.session(), context)  # a session of its own: its rollback keeps the test's data
    delivery.issue_download_link(work, grant=grant, file_id=market["files"][0].id, requester=requester)
    work.rollback()
    assert links() == before
    work = UnitOfWork(database.session(), context)
    delivery.issue_download_link(work, grant=grant, file_id=market["files"][0].id, requester=requester)
    assert links() == before
    work.commit()
    assert links() == before + 1


ROOT = Path(__file__).resolve().parents[2]
_WORKER = """
import sys
from marketplace import metrics
metrics.count_download_links("api", int(sys.argv[1]))
metrics.observe_request("health.healthz", "GET", 200, 0.01)
"""
_SCRAPE = """
from marketplace import metrics
print(metrics.exposition()[0].decode())
"""


def _python(code: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_several_processes_add_up_in_multiprocess_mode(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    _python(_WORKER, env, "2")  # one worker process
    _python(_WORKER, env, "3")  # another
    text = _python(_SCRAPE, env)  # a third answers the scrape
    assert 'marketplace_download_links_total{kind="api"} 5.0' in text
    assert (
        'marketplace_http_request_duration_seconds_count{method="GET",route="health.healthz",status="2xx"} 2.0' in text
    )
    _python("from marketplace import metrics; metrics.clear_multiprocess_dir()", env)
    assert not list(tmp_path.glob("*.db"))
    missing = tmp_path / "not-yet"
    _python(
        "from marketplace import metrics; metrics.clear_multiprocess_dir()",
        {**env, "PROMETHEUS_MULTIPROC_DIR": str(missing)},
    )
    assert missing.is_dir()


def test_gunicorn_bounds_every_request_and_tidies_the_metrics_of_exited_workers() -> None:
    settings = runpy.run_path(str(ROOT / "infra" / "gunicorn.conf.py"))
    # Synchronous workers: `timeout` kills a worker stuck in one request (a threaded worker would keep answering the
    # master's heartbeat while a thread is stuck). More than one thread would make gunicorn switch to gthread.
    assert settings["worker_class"] == "sync" and settings["threads"] == 1
    assert settings["timeout"] * 1000 > SETTINGS_BY_NAME["DATABASE_STATEMENT_TIMEOUT_MS"].default
    assert callable(settings["child_exit"])
