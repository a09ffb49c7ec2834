"""Events reach a real local receiver, signed as the README says, retried after failures, logged and redeliverable."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from marketplace import metrics
from marketplace.accounts.models import Role
from marketplace.db import UnitOfWork
from marketplace.events import emit
from marketplace.jobs.models import BackgroundJob, JobKind
from marketplace.webhooks import services as svc
from marketplace.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.factories import PASSWORD, member
from tests.functional.test_licenses import _offer, market  # noqa: F401  (the shared marketplace fixture)
from tests.functional.webhooks.conftest import readme_recipe
from tests.helpers import log_in, post_form


def _uow(app, db_session) -> UnitOfWork:
    return UnitOfWork(db_session, app.extensions["marketplace.context"])


def _endpoint(app, db_session, org, url: str, events=("license.issued",), **user):
    admin = member(org, Role.ADMIN, **user)
    endpoint, secret = svc.create_endpoint(_uow(app, db_session), admin, org, url=url, events=list(events))
    db_session.flush()
    return endpoint, secret, admin


def _attempts_counted(outcome: str) -> float:
    return metrics.sample_value("marketplace_webhook_deliveries_total", {"outcome": outcome}) or 0.0


def _dispatcher(app):
    return app.extensions["marketplace.context"].webhooks


def _acquire(client, offer) -> None:
    log_in(client, "purchaser@example.org", PASSWORD)
    response = post_form(client, f"/offers/{offer.id}/acquire", {"licensee": "buy", "accept_terms": offer.terms_hash},
                         token_from="/settings")  # fmt: skip
    assert response.status_code == 302


def test_license_issued_is_delivered_signed_and_retried_after_a_500(app, client, db_session, market,  # noqa: F811
                                                                     receiver, clock) -> None:  # fmt: skip
    verify = readme_recipe()
    buyer_hook, buyer_secret, _ = _endpoint(
        app, db_session, market["buyer"], receiver.url + "/buyer", email="hooks@buy.example"
    )
    provider_hook, provider_secret, _ = _endpoint(app, db_session, market["provider"], receiver.url + "/provider")
    # Not in the event's audience, or not subscribed to it, or disabled: these hear nothing.
    _endpoint(app, db_session, market["rival"], receiver.url + "/rival")
    _endpoint(app, db_session, market["buyer"], receiver.url + "/orders-only", events=("order.paid",))
    disabled, _, admin = _endpoint(app, db_session, market["buyer"], receiver.url + "/disabled")
    svc.update_endpoint(_uow(app, db_session), admin, disabled, active=False)
    db_session.flush()
    receiver.answer("/buyer", 500)

    offer = _offer(db_session, market)
    before = {outcome: _attempts_counted(outcome) for outcome in ("delivered", "retrying", "failed")}
    _acquire(client, offer)

    deliveries = db_session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert {d.endpoint_id for d in deliveries} == {buyer_hook.id, provider_hook.id}
    assert len({d.event_id for d in deliveries}) == 1  # one event, one id, for every endpoint

    # The delivery job written with the license ran right after the commit.
    assert {outcome: _attempts_counted(outcome) - before[outcome] for outcome in before} == {
        "delivered": 1,  # the provider's
        "retrying": 1,  # the buyer's 500
        "failed": 0,
    }
    assert sorted(r.path for r in receiver.requests) == ["/buyer", "/provider"]
    first = receiver.at("/buyer")[0]
    event = verify(first.body, first.headers["Marketplace-Signature"], buyer_secret)
    assert event["type"] == "license.issued" and event["id"].startswith("evt_")
    assert event["data"]["licensee_organisation"] == "buy" and event["data"]["dataset"] == "speech-corpus"
    assert set(event) == {"id", "type", "created", "data"}
    assert first.headers["Marketplace-Event"] == "license.issued"
    buyer_delivery = next(d for d in deliveries if d.endpoint_id == buyer_hook.id)
    assert first.headers["Marketplace-Delivery"] == str(buyer_delivery.id)
    assert first.headers["Content-Type"] == "application/json"
    # Another organisation's secret does not verify it; a tampered body does not either.
    with pytest.raises(ValueError, match="no valid signature"):
        verify(first.body, first.headers["Marketplace-Signature"], provider_secret)
    with pytest.raises(ValueError, match="no valid signature"):
        verify(first.body.replace(b"speech", b"sp33ch"), first.headers["Marketplace-Signature"], buyer_secret)
    provider_request = receiver.at("/provider")[0]
    provider_event = verify(provider_request.body, provider_request.headers["Marketplace-Signature"], provider_secret)
    assert provider_event["id"] == event["id"]

    db_session.expire_all()
    buyer_delivery = db_session.get(WebhookDelivery, buyer_delivery.id)
    assert buyer_delivery.status == "pending" and buyer_delivery.attempts == 1
    assert buyer_delivery.last_status_code == 500
    wait = buyer_delivery.next_attempt_at - clock()
    assert timedelta(seconds=20) < wait <= timedelta(seconds=36)  # 30 s ± 20 % jitter
    attempt = db_session.exec(select(WebhookAttempt).where(WebhookAttempt.delivery_id == buyer_delivery.id)).one()
    assert attempt.status_code == 500 and attempt.response_snippet == "receiver says no" and attempt.duration_ms >= 0

    # A job waits for the retry's time; until then nothing is sent.
    retry_job = db_session.exec(
        select(BackgroundJob).where(BackgroundJob.kind == JobKind.WEBHOOK_DELIVERY, BackgroundJob.state == "pending")
    ).one()
    assert abs(retry_job.run_after - buyer_delivery.next_attempt_at) < timedelta(seconds=1)
    queue = app.extensions["marketplace.context"].queue
    queue.relay()
    assert len(receiver.at("/buyer")) == 1
    clock.advance(seconds=40)
    queue.relay()
    retry = receiver.at("/buyer")[1]
    assert retry.body == first.body  # the same event, byte for byte
    assert retry.headers["Marketplace-Delivery"] == first.headers["Marketplace-Delivery"]
    # Signed at the time of the retry (the app's clock is 40 s ahead of the receiver's): within the tolerance it
    # verifies, outside it the recipe refuses it as a possible replay.
    assert verify(retry.body, retry.headers["Marketplace-Signature"], buyer_secret)["id"] == event["id"]
    with pytest.raises(ValueError, match="timestamp"):
        verify(retry.body, retry.headers["Marketplace-Signature"], buyer_secret, tolerance=10)
    db_session.expire_all()
    buyer_delivery = db_session.get(WebhookDelivery, buyer_delivery.id)
    assert buyer_delivery.status == "delivered" and buyer_delivery.attempts == 2 and buyer_delivery.delivered_at

    # The endpoint's page shows the log; the admin redelivers the event as a new delivery.
    admin_client = app.test_client()
    log_in(admin_client, "hooks@buy.example", PASSWORD)
    page = admin_client.get(f"/orgs/buy/webhooks/{buyer_hook.id}").get_data(as_text=True)
    assert "receiver says no" in page and "#1 · 500" in page and "#2 · 200" in page
    assert buyer_secret not in page
    redeliver_path = f"/orgs/buy/webhooks/{buyer_hook.id}/deliveries/{buyer_delivery.id}/redeliver"
    response = post_form(admin_client, redeliver_path, {}, token_from=f"/orgs/buy/webhooks/{buyer_hook.id}")
    assert response.status_code == 302
    again = receiver.at("/buyer")[2]
    assert json.loads(again.body)["id"] == event["id"]
    assert again.headers["Marketplace-Delivery"] != first.headers["Marketplace-Delivery"]
    # The other organisation's admin cannot redeliver it.
    outsider = app.test_client()
    log_in(outsider, "outsider@example.org", PASSWORD)
    assert post_form(outsider, redeliver_path, {}, token_from="/settings").status_code == 403
    assert len(receiver.requests) == 4


def test_a_rolled_back_change_announces_nothing(app, db_session, market, receiver) -> None:  # noqa: F811
    _endpoint(app, db_session, market["buyer"], receiver.url + "/buyer")
    db_session.commit()
    uow = UnitOfWork(app.extensions["marketplace.db"].session(), app.extensions["marketplace.context"])
    emit(uow, "license.issued", {"license_id": "x"}, audience=[market["buyer"].id])
    assert uow.session.exec(select(WebhookDelivery)).all() != []
    uow.rollback()
    uow.close()
    assert db_session.exec(select(WebhookDelivery)).all() == []


def test_gives_up_after_the_last_attempt_and_records_network_errors(app, db_session, market,  # noqa: F811
                                                                     receiver, clock) -> None:  # fmt: skip
    app.extensions["marketplace.context"].settings["WEBHOOK_MAX_ATTEMPTS"] = 2
    failing, _, _ = _endpoint(app, db_session, market["buyer"], receiver.url + "/down")
    receiver.answer("/down", 503, 503)
    # Nothing listens on port 9 of the loopback interface (discard): the connection is refused.
    closed, _, _ = _endpoint(app, db_session, market["buyer"], "http://127.0.0.1:9/hook")
    emit(_uow(app, db_session), "license.issued", {"license_id": "y"}, audience=[market["buyer"].id])
    db_session.flush()
    assert _dispatcher(app).deliver_due() == 2
    clock.advance(minutes=5)
    assert _dispatcher(app).deliver_due() == 2
    clock.advance(hours=1)
    assert _dispatcher(app).deliver_due() == 0
    db_session.expire_all()
    rows = {d.endpoint_id: d for d in db_session.exec(select(WebhookDelivery)).all()}
    assert rows[failing.id].status == "failed" and rows[failing.id].attempts == 2
    assert rows[failing.id].last_status_code == 503 and rows[failing.id].next_attempt_at is None
    assert rows[closed.id].status == "failed" and rows[closed.id].last_status_code is None
    assert "connection failed" in rows[closed.id].last_error


def test_a_slow_receiver_times_out(app, db_session, market, receiver, clock) -> None:  # noqa: F811
    app.extensions["marketplace.context"].settings["WEBHOOK_TIMEOUT_SECONDS"] = 0.3
    receiver.delay = 1.0
    _endpoint(app, db_session, market["buyer"], receiver.url + "/slow")
    emit(_uow(app, db_session), "license.issued", {"license_id": "z"}, audience=[market["buyer"].id])
    db_session.flush()
    assert _dispatcher(app).deliver_due() == 1
    db_session.expire_all()
    delivery = db_session.exec(select(WebhookDelivery)).one()
    assert delivery.status == "pending" and delivery.last_error == "timed out"
    attempt = db_session.exec(select(WebhookAttempt)).one()
    assert attempt.status_code is None and attempt.error == "timed out" and attempt.duration_ms < 1000


def test_the_cli_delivers_what_is_due(app, db_session, market, receiver) -> None:  # noqa: F811
    _endpoint(app, db_session, market["buyer"], receiver.url + "/cli")
    emit(_uow(app, db_session), "license.issued", {"license_id": "c"}, audience=[market["buyer"].id])
    db_session.flush()
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver", "--timeout", "5"])
    assert result.exit_code == 0, result.output
    assert "1 deliveries attempted; 0 waiting for a retry" in result.output
    assert [r.path for r in receiver.requests] == ["/cli"]
