"""Requests, quotes and contracts through the services: the happy path, revisions, permissions, bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

import licensing
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import DatasetStatus, OfferingType
from marketplace.custom import access, contracts, quotes, requests, threads
from marketplace.custom.errors import AlreadyAwarded, IllegalTransition
from marketplace.custom.models import (
    Attachment,
    Contract,
    DataRequest,
    Milestone,
    Quote,
    QuoteRevision,
    RequestRevision,
    Transition,
)
from marketplace.custom.states import ContractState, Machine, MilestoneState, QuoteState, RequestState
from marketplace.errors import NotFound, PermissionDenied, ValidationFailed
from marketplace.licenses.models import Offer
from tests.functional.custom.conftest import Cast, quote_data, request_spec


def _names(error: ValidationFailed, field_name: str) -> bool:
    return any(f == field_name or f.startswith(field_name + ".") for f in error.field_messages())


def _post(cast: Cast, **changes) -> DataRequest:
    request = requests.create_request(cast.uow(), cast.people["buyer"], request_spec(**changes))
    cast.session.flush()
    return request


def _quote(cast: Cast, who: str, request: DataRequest, price: int = 3_000_000, **changes) -> Quote:
    quote = quotes.submit_quote(cast.uow(), cast.people[who], request, quote_data(price, **changes))
    cast.session.flush()
    return quote


def test_a_request_is_posted_with_its_specification_and_announced(cast: Cast) -> None:
    request = _post(cast, languages=["de-ch", "fr-CH"], regions=["ch"])
    assert request.state is RequestState.OPEN and request.revision == 1
    assert request.languages == ["de-CH", "fr-CH"] and request.regions == ["CH"]
    assert request.budget_min == 1_000_000 and request.currency == "EUR"
    kinds = [kind for kind, _data, _audience in cast.events]
    assert kinds == ["request.created"]
    assert cast.events[0][1]["buyer"] is None  # the buyer chose not to show its name
    log = cast.session.exec(select(Transition).where(Transition.subject_id == request.id)).all()
    assert [(t.from_state, t.to_state) for t in log if t.machine is Machine.REQUEST] == [
        (None, "draft"),
        ("draft", "open"),
    ]
    assert requests.buyer_label(cast.session, cast.people["alpha"], request) is None
    assert requests.buyer_label(cast.session, cast.people["buyer"], request) == "Hospital AG"


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"volume_amount": 0}, "volume_amount"),
        ({"volume_amount": -5}, "volume_amount"),
        ({"volume_amount": 10**15}, "volume_amount"),
        ({"languages": ["xx-notalanguage"]}, "languages"),
        ({"regions": ["ZZ"]}, "regions"),
        ({"currency": "EUX"}, "currency"),
        ({"budget_min": 6_000_000}, "budget_min"),
        ({"deadline": "2001-01-01"}, "deadline"),
        ({"license_id": "LicenseRef-nothing-9"}, "license_id"),
        ({"license_overrides": {"seats": -1}}, "license_overrides.seats"),
        ({"modality": "smell"}, "modality"),
    ],
)
def test_bad_request_input_names_the_field_and_writes_nothing(cast: Cast, changes, field_name) -> None:
    with pytest.raises(ValidationFailed) as caught:
        requests.create_request(cast.uow(), cast.people["buyer"], request_spec(**changes))
    assert _names(caught.value, field_name), caught.value.details
    assert cast.session.exec(select(DataRequest)).all() == []


def test_a_provider_cannot_post_a_request(cast: Cast) -> None:
    with pytest.raises(ValidationFailed):
        requests.create_request(cast.uow(), cast.people["alpha"], request_spec())


def test_invited_requests_are_seen_only_by_the_invited(cast: Cast) -> None:
    request = requests.create_request(
        cast.uow(), cast.people["buyer"], request_spec(visibility="invited"), invite=["alpha"]
    )
    cast.session.flush()
    assert access.get_request(cast.session, cast.people["alpha"], request.id) is request
    for outsider in ("beta", "other_buyer"):
        with pytest.raises(NotFound):
            access.get_request(cast.session, cast.people[outsider], request.id)
    with pytest.raises(NotFound):
        access.get_request(cast.session, None, request.id)
    with pytest.raises(NotFound):
        quotes.submit_quote(cast.uow(), cast.people["beta"], request, quote_data())
    assert requests.request_board(cast.session) == []
    requests.invite_provider(cast.uow(), cast.people["buyer"], request, "beta")
    assert access.get_request(cast.session, cast.people["beta"], request.id) is request


def test_quotes_are_private_to_their_provider_and_the_buyer(cast: Cast) -> None:
    request = _post(cast)
    assert requests.request_board(cast.session) == [request]
    a = _quote(cast, "alpha", request)
    b = _quote(cast, "beta", request, 2_000_000)
    assert request.state is RequestState.QUOTING
    assert quotes.quotes_for_request(cast.session, cast.people["buyer"], request) == [a, b]
    assert quotes.quotes_for_request(cast.session, cast.people["alpha"], request) == [a]
    with pytest.raises(NotFound):
        access.get_quote(cast.session, cast.people["alpha"], b.id)
    with pytest.raises(NotFound):
        access.get_quote(cast.session, cast.people["other_buyer"], a.id)
    with pytest.raises(PermissionDenied):
        quotes.withdraw_quote(cast.uow(), cast.people["buyer"], a)
    with pytest.raises(PermissionDenied):
        contracts.accept_quote(cast.uow(), cast.people["alpha"], a)
    comparison = quotes.compare_quotes(cast.session, cast.people["buyer"], request)
    assert [row["price_amount"] for row in comparison["quotes"]] == [3_000_000, 2_000_000]
    assert all(row["terms"] for row in comparison["quotes"])


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"price_amount": 2_999_999}, "milestones"),
        ({"milestones": []}, "milestones"),
        (
            {"milestones": [{"title": f"m{i}", "quantity": 1, "due_date": str(date.today() + timedelta(5)),
                             "amount": 100} for i in range(21)], "price_amount": 2100},
            "milestones",
        ),
        ({"valid_until": "2001-01-01T00:00:00Z"}, "valid_until"),
        ({"currency": "ABC"}, "currency"),
        ({"license_id": "not a license"}, "license_id"),
    ],
)  # fmt: skip
def test_bad_quote_input_names_the_field_and_writes_nothing(cast: Cast, changes, field_name) -> None:
    request = _post(cast)
    with pytest.raises(ValidationFailed) as caught:
        quotes.submit_quote(cast.uow(), cast.people["alpha"], request, quote_data(**changes))
    assert _names(caught.value, field_name), caught.value.details
    assert cast.session.exec(select(Quote)).all() == []
    assert request.state is RequestState.OPEN


def test_milestone_dates_in_the_past_or_after_the_deadline_are_refused(cast: Cast) -> None:
    request = _post(cast, deadline=str(date.today() + timedelta(days=60)))
    data = quote_data()
    data["milestones"][0]["due_date"] = str(date.today() - timedelta(days=1))
    with pytest.raises(ValidationFailed) as caught:
        quotes.submit_quote(cast.uow(), cast.people["alpha"], request, data)
    problems = caught.value.field_messages()
    assert "in the past" in problems["milestones.0.due_date"]
    assert "deadline" in problems["milestones.1.due_date"]  # day 90 is after the day-60 deadline
    assert cast.session.exec(select(Quote)).all() == []


def test_revisions_keep_every_version_of_quotes_and_requests(cast: Cast) -> None:
    request = _post(cast)
    quote = _quote(cast, "alpha", request)
    quotes.revise_quote(cast.uow(), cast.people["alpha"], quote, quote_data(2_500_000))
    cast.session.flush()
    kept = quotes.quote_revisions(cast.session, quote)
    assert [r.price_amount for r in kept] == [3_000_000, 2_500_000]
    assert quote.state is QuoteState.REVISED and quote.revision == 2 and quote.price_amount == 2_500_000
    cast.events.clear()
    requests.update_request(cast.uow(), cast.people["buyer"], request, {"volume_amount": 250})
    cast.session.flush()
    assert request.revision == 2 and request.volume_amount == 250
    (earlier,) = cast.session.exec(select(RequestRevision)).all()
    assert earlier.number == 1 and earlier.spec["volume_amount"] == 200
    assert [(k, d["quoting_providers"]) for k, d, _a in cast.events] == [("request.revised", [cast.orgs["alpha"].id])]


def test_accepting_a_quote_makes_one_contract_with_a_private_dataset_and_offer(cast: Cast) -> None:
    request = _post(cast)
    won = _quote(cast, "alpha", request)
    lost = _quote(cast, "beta", request, 2_000_000)
    cast.events.clear()
    contract = contracts.accept_quote(cast.uow(), cast.people["buyer"], won)
    cast.session.flush()

    assert contract.state is ContractState.AWAITING_PAYMENT
    assert (won.state, lost.state, request.state) == (QuoteState.ACCEPTED, QuoteState.DECLINED, RequestState.AWARDED)
    assert lost.decline_reason
    dataset = cast.session.get(Dataset, contract.dataset_id)
    assert dataset.status is DatasetStatus.PRIVATE and dataset.offering_type is OfferingType.CUSTOM
    assert dataset.organisation_id == cast.orgs["alpha"].id and not dataset.is_public
    offer = cast.session.get(Offer, contract.offer_id)
    revision = cast.session.get(QuoteRevision, contract.quote_revision_id)
    assert offer.audience_org_id == cast.orgs["buyer"].id and offer.price_amount == 3_000_000
    assert offer.terms == revision.terms
    assert offer.terms_hash == contract.terms_hash == licensing.Terms.from_dict(offer.terms).terms_hash
    milestones = contracts.contract_milestones(cast.session, contract)
    assert [(m.amount, m.state) for m in milestones] == [
        (750_000, MilestoneState.PENDING),
        (2_250_000, MilestoneState.PENDING),
    ]
    assert [k for k, _d, _a in cast.events] == ["quote.declined", "quote.accepted"]
    assert [t.to_state for t in contracts.contract_timeline(cast.session, contract)] == [
        "awaiting_payment",
        "pending",
        "pending",
    ]

    with pytest.raises(AlreadyAwarded):
        contracts.accept_quote(cast.uow(), cast.people["buyer"], lost)
    assert len(cast.session.exec(select(Contract)).all()) == 1
    with pytest.raises(NotFound):
        access.get_contract(cast.session, cast.people["beta"], contract.id)
    assert access.get_contract(cast.session, cast.people["alpha"], contract.id) is contract


def test_withdrawn_quotes_cannot_be_accepted(cast: Cast) -> None:
    request = _post(cast)
    quote = _quote(cast, "alpha", request)
    quotes.withdraw_quote(cast.uow(), cast.people["alpha"], quote, reason="busy")
    with pytest.raises(IllegalTransition):
        contracts.accept_quote(cast.uow(), cast.people["buyer"], quote)
    with pytest.raises(IllegalTransition):
        quotes.revise_quote(cast.uow(), cast.people["alpha"], quote, quote_data())
    assert cast.session.exec(select(Contract)).all() == [] and cast.session.exec(select(Milestone)).all() == []


def test_the_sweep_expires_quotes_and_requests(cast: Cast) -> None:
    request = _post(cast)
    quote = _quote(cast, "alpha", request)
    later = quote.valid_until + timedelta(seconds=1)
    assert quotes.sweep(cast.uow(), now=later) == {"quotes_expired": 1, "requests_expired": 0}
    assert quote.state is QuoteState.EXPIRED
    past_deadline = later.replace(year=later.year + 1)
    assert quotes.sweep(cast.uow(), now=past_deadline) == {"quotes_expired": 0, "requests_expired": 1}
    assert request.state is RequestState.EXPIRED
    assert quotes.sweep(cast.uow(), now=past_deadline) == {"quotes_expired": 0, "requests_expired": 0}


def test_threads_are_private_to_the_two_sides_and_keep_attachments(cast: Cast) -> None:
    request = _post(cast)
    thread = threads.open_thread(cast.uow(), cast.people["alpha"], request)
    threads.post_message(
        cast.uow(), cast.people["alpha"], thread, "Question about WER", files=[("q.txt", "text/plain", b"hi")]
    )
    threads.post_message(cast.uow(), cast.people["buyer"], thread, "Answer")
    cast.session.flush()
    messages = threads.thread_messages(cast.session, thread)
    assert [(m.body, m.author_org_id, len(files)) for m, files in messages] == [
        ("Question about WER", cast.orgs["alpha"].id, 1),
        ("Answer", cast.orgs["buyer"].id, 0),
    ]
    for outsider in ("beta", "other_buyer"):
        with pytest.raises(NotFound):
            access.get_thread(cast.session, cast.people[outsider], thread.id)
        with pytest.raises(NotFound):
            threads.post_message(cast.uow(), cast.people[outsider], thread, "hello")
    assert threads.threads_for_request(cast.session, cast.people["beta"], request) == []


def test_attachments_over_the_size_limit_are_refused(cast: Cast) -> None:
    request = _post(cast)
    cast.app.extensions["marketplace.context"].settings["CUSTOM_ATTACHMENT_MAX_BYTES"] = 10
    with pytest.raises(ValidationFailed) as caught:
        requests.attach_to_request(
            cast.uow(),
            cast.people["buyer"],
            request,
            filename="spec.pdf",
            media_type="application/pdf",
            content=b"x" * 11,
        )
    assert "limit" in caught.value.field_messages()["file"]
    requests.attach_to_request(
        cast.uow(), cast.people["buyer"], request, filename="spec.pdf", media_type="application/pdf", content=b"x" * 10
    )
    cast.session.flush()
    assert [a.size_bytes for a in cast.session.exec(select(Attachment)).all()] == [10]


def test_the_sweep_runs_from_the_cli(app, cast: Cast) -> None:
    request = _post(cast)
    _quote(cast, "alpha", request)
    result = app.test_cli_runner().invoke(args=["custom", "sweep"])
    assert result.exit_code == 0, result.output
    assert "0 quote(s) expired, 0 request(s) expired" in result.output
