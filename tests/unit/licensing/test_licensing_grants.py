"""Grants: issuing, the status state machine and its event log, persistence."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from licensing_testkit import DIGEST, T0, grants, make_grant, make_offer

from licensing import (
    Audience,
    Grant,
    GrantAction,
    GrantError,
    GrantStatus,
    LicensingError,
    Money,
    TermsError,
    TransitionError,
    VersionCoverage,
)
from licensing.ulid import is_ulid, ulid_time

DAY = timedelta(days=1)


def test_issue_grant_snapshots_terms_and_window() -> None:
    offer = make_offer(overrides={"term": "P6M"}, versions=VersionCoverage.single("1.0.0"), offer_id="off-7")
    grant = make_grant(offer)
    assert is_ulid(grant.id) and ulid_time(grant.id) == T0
    assert grant.terms == offer.terms and grant.terms_hash == offer.terms.terms_hash
    assert grant.valid_from == T0 and grant.valid_until == datetime(2025, 9, 1, 12, tzinfo=UTC)
    assert grant.status is GrantStatus.ACTIVE and grant.offer_id == "off-7"
    assert grant.versions == ("1.0.0",) and not grant.all_versions
    assert grant.manifest_digest == DIGEST and grant.price_paid == Money(125000, "EUR")
    assert len(grant.events) == 1 and grant.events[0].from_status is None and grant.events[0].reason == "issued"


def test_initial_status_rules() -> None:
    assert make_grant(payment_reference=None).status is GrantStatus.PENDING_PAYMENT
    assert make_grant(make_offer("CC-BY-4.0"), payment_reference=None).status is GrantStatus.ACTIVE
    assert make_grant(status="pending_approval").status is GrantStatus.PENDING_APPROVAL
    assert make_grant(price_paid=Money(0, "EUR"), payment_reference=None).status is GrantStatus.ACTIVE
    with pytest.raises(GrantError, match="starts"):
        make_grant(status=GrantStatus.REVOKED)
    with pytest.raises(GrantError, match="unknown status"):
        make_grant(status="happy")


def test_perpetual_grant_and_future_start() -> None:
    grant = make_grant(make_offer("CC-BY-4.0"), valid_from=T0 + 10 * DAY)
    assert grant.valid_until is None and grant.valid_from == T0 + 10 * DAY
    assert not grant.in_window(T0) and grant.in_window(T0 + 1000 * DAY)
    assert not grant.is_valid_at(T0) and grant.is_valid_at(T0 + 11 * DAY)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"versions": "2.0.0"}, "versions"),
        ({"licensee": "org-intruder"}, "licensee"),
        ({"price_paid": Money(100, "USD")}, "price_paid"),
        ({"price_paid": 100}, "price_paid"),
        ({"issued_at": datetime(2025, 1, 1)}, "issued_at"),
        ({"valid_from": datetime(2025, 1, 1)}, "valid_from"),
        ({"manifest_digest": "md5:abc"}, "manifest_digest"),
        ({"manifest_digest": "AB" * 32}, "manifest_digest"),
        ({"licensor": ""}, "licensor"),
        ({"dataset_id": "a b"}, "dataset_id"),
        ({"dataset_slug": "a\nb"}, "dataset_slug"),
        ({"payment_reference": " "}, "payment_reference"),
    ],
)
def test_issue_grant_rejects(kwargs: dict[str, Any], field: str) -> None:
    offer = make_offer(versions=VersionCoverage.single("1.0.0"), audience=Audience.private("org-buyer"))
    with pytest.raises(LicensingError) as info:
        make_grant(offer, **kwargs)
    assert info.value.fields == (field,)


def test_open_license_cannot_be_paid_for() -> None:
    with pytest.raises(GrantError):
        make_grant(make_offer("CC-BY-4.0"), price_paid=Money(1, "EUR"))


def test_all_versions_offer_accepts_several_labels() -> None:
    grant = make_grant(make_offer(), versions=["1.0.0", "1.1.0"])
    assert grant.versions == ("1.0.0", "1.1.0") and grant.all_versions
    assert grant.covers_version("9.9.9")
    single = make_grant(make_offer(versions=VersionCoverage.single("1.0.0")))
    assert single.covers_version("1.0.0") and not single.covers_version("1.1.0")
    with pytest.raises(GrantError):
        make_grant(make_offer(), versions=[])


LEGAL = [
    (GrantStatus.PENDING_PAYMENT, GrantAction.ACTIVATE, GrantStatus.ACTIVE),
    (GrantStatus.PENDING_PAYMENT, GrantAction.AWAIT_APPROVAL, GrantStatus.PENDING_APPROVAL),
    (GrantStatus.PENDING_APPROVAL, GrantAction.ACTIVATE, GrantStatus.ACTIVE),
    (GrantStatus.ACTIVE, GrantAction.SUSPEND, GrantStatus.SUSPENDED),
    (GrantStatus.SUSPENDED, GrantAction.REINSTATE, GrantStatus.ACTIVE),
    (GrantStatus.ACTIVE, GrantAction.REVOKE, GrantStatus.REVOKED),
    (GrantStatus.SUSPENDED, GrantAction.REVOKE, GrantStatus.REVOKED),
    (GrantStatus.PENDING_PAYMENT, GrantAction.REVOKE, GrantStatus.REVOKED),
    (GrantStatus.PENDING_APPROVAL, GrantAction.REVOKE, GrantStatus.REVOKED),
]


def _in_status(status: GrantStatus) -> Grant:
    """A one-year grant brought into ``status`` through legal moves, all on day 1."""
    at = T0 + DAY
    if status is GrantStatus.PENDING_PAYMENT:
        return make_grant(payment_reference=None)
    if status is GrantStatus.PENDING_APPROVAL:
        return make_grant(status="pending_approval")
    grant = make_grant()
    if status is GrantStatus.SUSPENDED:
        return grant.suspend(at, reason="dispute opened", actor="stripe")
    if status is GrantStatus.REVOKED:
        return grant.revoke(at, reason="refund", actor="admin")
    if status is GrantStatus.EXPIRED:
        return grant.expire(T0 + 400 * DAY)
    return grant


@pytest.mark.parametrize(("start", "action", "end"), LEGAL)
def test_legal_moves_append_an_event(start: GrantStatus, action: GrantAction, end: GrantStatus) -> None:
    grant = _in_status(start)
    at = T0 + 2 * DAY
    moved = grant.transition(action, at, reason="because", actor="ops@example")
    assert moved.status is end and grant.status is start  # immutable: a new value
    assert moved.events[:-1] == grant.events
    event = moved.events[-1]
    assert (event.at, event.from_status, event.to_status, event.reason, event.actor) == (
        at,
        start,
        end,
        "because",
        "ops@example",
    )


@pytest.mark.parametrize("start", [GrantStatus.ACTIVE, GrantStatus.SUSPENDED, GrantStatus.PENDING_PAYMENT])
def test_expire_after_the_window(start: GrantStatus) -> None:
    grant = _in_status(start)
    with pytest.raises(TransitionError, match="before its validity window has ended"):
        grant.expire(T0 + 30 * DAY)
    expired = grant.expire(T0 + 366 * DAY)
    assert expired.status is GrantStatus.EXPIRED
    assert expired.revoke(T0 + 400 * DAY, reason="chargeback").status is GrantStatus.REVOKED


ILLEGAL = [
    (GrantStatus.REVOKED, GrantAction.ACTIVATE),
    (GrantStatus.REVOKED, GrantAction.REINSTATE),
    (GrantStatus.REVOKED, GrantAction.REVOKE),
    (GrantStatus.REVOKED, GrantAction.EXPIRE),
    (GrantStatus.REVOKED, GrantAction.SUSPEND),
    (GrantStatus.ACTIVE, GrantAction.ACTIVATE),
    (GrantStatus.ACTIVE, GrantAction.REINSTATE),
    (GrantStatus.SUSPENDED, GrantAction.SUSPEND),
    (GrantStatus.SUSPENDED, GrantAction.ACTIVATE),
    (GrantStatus.PENDING_PAYMENT, GrantAction.SUSPEND),
    (GrantStatus.PENDING_APPROVAL, GrantAction.AWAIT_APPROVAL),
    (GrantStatus.EXPIRED, GrantAction.ACTIVATE),
    (GrantStatus.EXPIRED, GrantAction.REINSTATE),
]


@pytest.mark.parametrize(("start", "action"), ILLEGAL)
def test_illegal_moves_are_refused(start: GrantStatus, action: GrantAction) -> None:
    grant = _in_status(start)
    with pytest.raises(TransitionError) as info:
        grant.transition(action, T0 + 500 * DAY, reason="try")
    assert info.value.current == start.value and info.value.action == action.value
    assert info.value.fields == ("status",)
    assert f"cannot {action.value} a grant that is {start.value}" in info.value.message
    if start is GrantStatus.REVOKED:
        assert "revoked is final" in info.value.message


def test_transition_guards() -> None:
    grant = make_grant()
    with pytest.raises(TransitionError, match="reason is needed"):
        grant.suspend(T0 + DAY, reason=" ")
    with pytest.raises(TransitionError, match="reason is needed"):
        grant.revoke(T0 + DAY, reason="")
    with pytest.raises(TransitionError, match="before the last event"):
        grant.suspend(T0 - DAY, reason="x")
    with pytest.raises(TransitionError, match="unknown action"):
        grant.transition("explode", T0 + DAY)
    with pytest.raises(LicensingError):
        grant.suspend(datetime(2025, 4, 1), reason="x")
    suspended = grant.suspend(T0 + DAY, reason="dispute")
    with pytest.raises(TransitionError, match="window has ended"):
        suspended.reinstate(T0 + 400 * DAY)
    with pytest.raises(TransitionError, match="window has ended"):
        make_grant(payment_reference=None).activate(T0 + 400 * DAY)
    with pytest.raises(TransitionError, match="before its validity window"):
        make_grant(make_offer("CC0-1.0")).expire(T0 + 10_000 * DAY)


def test_status_at_and_full_history() -> None:
    grant = make_grant(payment_reference=None)
    grant = grant.await_approval(T0 + DAY, actor="stripe", reason="paid").activate(T0 + 2 * DAY, actor="provider")
    grant = grant.suspend(T0 + 3 * DAY, reason="dispute").reinstate(T0 + 4 * DAY, reason="dispute won")
    assert [e.to_status.value for e in grant.events] == [
        "pending_payment",
        "pending_approval",
        "active",
        "suspended",
        "active",
    ]
    assert grant.status_at(T0 + 5 * DAY) is GrantStatus.ACTIVE
    assert grant.status_at(T0 + 366 * DAY) is GrantStatus.EXPIRED
    assert grant.is_valid_at(T0 + 5 * DAY) and not grant.is_valid_at(T0 + 366 * DAY)
    revoked = grant.revoke(T0 + 6 * DAY, reason="refund")
    assert revoked.status_at(T0 + 366 * DAY) is GrantStatus.REVOKED


def test_round_trip_through_json() -> None:
    grant = make_grant().suspend(T0 + DAY, reason="dispute", actor="stripe").reinstate(T0 + 2 * DAY)
    data = json.loads(json.dumps(grant.to_dict()))
    assert Grant.from_dict(data) == grant


@settings(max_examples=40, deadline=None)
@given(grants())
def test_round_trip_property(grant: Grant) -> None:
    assert Grant.from_dict(json.loads(json.dumps(grant.to_dict()))) == grant


def test_from_dict_detects_tampering_and_bad_shapes() -> None:
    data = make_grant().to_dict()
    tampered = {**data, "terms": {**data["terms"], "seats": 1}}
    with pytest.raises(GrantError) as info:
        Grant.from_dict(tampered)
    assert info.value.fields == ("terms_hash",)
    cases: list[tuple[dict[str, Any], type[Exception], tuple[str, ...]]] = [
        ({**data, "extra": 1}, GrantError, ("extra",)),
        ({k: v for k, v in data.items() if k != "status"}, GrantError, ("status",)),
        ({**data, "status": "happy"}, GrantError, ("status",)),
        ({**data, "status": "revoked"}, GrantError, ("status",)),
        ({**data, "price_paid": {"amount": -1, "currency": "EUR"}}, GrantError, ("price_paid",)),
        ({**data, "versions": "1.0.0"}, GrantError, ("versions", "events")),
        ({**data, "id": "not-a-ulid"}, GrantError, ("id",)),
        ({**data, "valid_until": data["valid_from"]}, GrantError, ("valid_until",)),
        ({**data, "valid_from": "2025-03-01T12:00:00"}, LicensingError, ("valid_from",)),
        ({**data, "events": []}, GrantError, ("events",)),
        ({**data, "events": [{"at": "x"}]}, GrantError, ("events",)),
        ({**data, "events": [{**data["events"][0], "to": "happy"}]}, GrantError, ("events",)),
        ({**data, "events": [{**data["events"][0], "at": "nope"}]}, LicensingError, ("events.at",)),
        ({**data, "events": [{**data["events"][0], "reason": 5}]}, GrantError, ("reason",)),
        ({**data, "events": [{**data["events"][0], "actor": 5}]}, GrantError, ("actor",)),
        ({**data, "all_versions": "yes"}, GrantError, ("all_versions",)),
        ({**data, "license_id": "Nope"}, LicensingError, ("license_id",)),
        ({**data, "terms": {**data["terms"], "seats": -1}}, TermsError, ("seats",)),
    ]
    for bad, error, fields in cases:
        with pytest.raises(error) as exc:
            Grant.from_dict(bad)
        assert exc.value.fields == fields, bad  # type: ignore[attr-defined]
    with pytest.raises(GrantError):
        Grant.from_dict("grant")  # type: ignore[arg-type]


def test_event_log_must_be_consistent() -> None:
    grant = make_grant().suspend(T0 + DAY, reason="dispute")
    first, second = grant.events
    with pytest.raises(GrantError, match="out of order"):
        replace(grant, events=(first, replace(second, at=T0 - DAY)))
    with pytest.raises(GrantError, match="out of order"):
        replace(grant, events=(first, replace(second, from_status=GrantStatus.PENDING_PAYMENT)))
    with pytest.raises(GrantError, match="issue event"):
        replace(grant, events=(second,))
    with pytest.raises(GrantError, match="expected Terms"):
        replace(grant, terms=grant.terms.to_dict())
    with pytest.raises(GrantError, match="expected Money"):
        replace(grant, price_paid=5)
