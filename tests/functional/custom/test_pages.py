"""The custom-data exchange's web pages: who sees which page (200 or 404), form errors next to their fields, and
the mail each side's admins receive."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlmodel import select

from marketplace.accounts.models import Role
from marketplace.catalog.vocab import DatasetStatus, OfferingType
from marketplace.custom import quotes, requests
from marketplace.custom.models import Contract, DataRequest, Quote, RequestRevision
from marketplace.custom.states import QuoteState
from tests.factories import PASSWORD, DatasetFactory, member
from tests.functional.custom.conftest import COMMERCIAL, Cast, quote_data, request_spec
from tests.helpers import log_in

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _login(client: FlaskClient, cast: Cast, who: str) -> None:
    client._cookies.clear()  # type: ignore[attr-defined]  # whoever was logged in before is forgotten
    response = log_in(client, cast.people[who].email, PASSWORD)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def _post(client: FlaskClient, path: str, data: dict[str, Any], **kw: Any):  # type: ignore[no-untyped-def]
    token = _CSRF.search(client.get("/requests").get_data(as_text=True))
    assert token
    return client.post(path, data={**data, "csrf_token": token.group(1)}, **kw)


def _request(cast: Cast, **changes: Any) -> DataRequest:
    created = requests.create_request(cast.uow(), cast.people["buyer"], request_spec(**changes))
    cast.session.flush()
    return created


def _quote(cast: Cast, who: str, request: DataRequest, price: int = 3_000_000) -> Quote:
    quote = quotes.submit_quote(cast.uow(), cast.people[who], request, quote_data(price))
    cast.session.flush()
    return quote


def _request_form(**changes: str) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": "Finnish legal contracts, annotated",
        "description": "Contracts with clause labels.",
        "modality": "text",
        "tasks": ["ner", "classification"],
        "volume_amount": "5000",
        "volume_unit": "documents",
        "languages": "fi, sv-FI",
        "regions": "FI",
        "quality.annotation_method": "expert",
        "quality.agreement_metric": "cohen_kappa",
        "quality.agreement_min": "0.8",
        "personal_data.personal_data": "yes",
        "personal_data.deidentification": ["pseudonymised"],
        "license_id": COMMERCIAL,
        "budget_min": "10,000.00",
        "budget_max": "25000",
        "currency": "EUR",
        "deadline": (date.today() + timedelta(days=90)).isoformat(),
        "visibility": "open",
    }
    form.update(changes)
    return form


def _quote_form(price: str = "30000.00", amounts: tuple[str, ...] = ("10000", "20000.00")) -> dict[str, Any]:
    form: dict[str, Any] = {
        "price_amount": price,
        "currency": "EUR",
        "payment_plan": "per_milestone",
        "license_id": COMMERCIAL,
        "valid_until": (date.today() + timedelta(days=30)).isoformat(),
        "message": "We start next week.",
    }
    for i, amount in enumerate(amounts):
        form.update(
            {
                f"milestones.{i}.title": f"Part {i + 1}",
                f"milestones.{i}.deliverable": "documents",
                f"milestones.{i}.quantity": "100",
                f"milestones.{i}.due_date": (date.today() + timedelta(days=20 * (i + 1))).isoformat(),
                f"milestones.{i}.amount": amount,
            }
        )
    return form


# --- the board --------------------------------------------------------------------------------------------------------


def test_the_board_lists_open_requests_without_the_buyers_name(client: FlaskClient, cast: Cast) -> None:
    shown = _request(cast, title="Swiss German dictation")
    _request(cast, title="Secret invited request", visibility="invited")
    _request(cast, title="Named buyer request", show_buyer_name=True)
    page = client.get("/requests").get_data(as_text=True)
    assert f"/requests/{shown.id}" in page and "Swiss German dictation" in page
    assert "Secret invited request" not in page
    assert page.count("Hospital AG") == 1  # only where the buyer chose to show it


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"modality": "audio"}, True),
        ({"modality": "text"}, False),
        ({"language": "de"}, True),
        ({"language": "fi"}, False),
        ({"budget": "40000", "currency": "EUR"}, True),
        ({"budget": "60000", "currency": "EUR"}, False),
        ({"budget": "100", "currency": "USD"}, False),
    ],
)
def test_the_board_filters_by_modality_language_and_budget(client: FlaskClient, cast: Cast, query, shown) -> None:
    _request(cast, title="Swiss German dictation")  # audio, de-CH, budget up to 50,000.00 EUR
    page = client.get("/requests", query_string=query).get_data(as_text=True)
    assert ("Swiss German dictation" in page) is shown


def test_a_bad_budget_filter_is_a_400_that_names_it(client: FlaskClient, cast: Cast) -> None:
    response = client.get("/requests", query_string={"budget": "lots", "currency": "EUR"})
    assert response.status_code == 400 and "could not be read" in response.get_data(as_text=True)


def test_my_requests_and_requests_for_you(client: FlaskClient, cast: Cast) -> None:
    invited = _request(cast, title="Invited-only request", visibility="invited")
    requests.invite_provider(cast.uow(), cast.people["buyer"], invited, "alpha")
    _request(cast, title="An open request")
    cast.session.flush()
    _login(client, cast, "alpha")
    page = client.get("/requests?tab=for_you").get_data(as_text=True)
    assert "Invited-only request" in page and "An open request" in page
    _login(client, cast, "beta")
    page = client.get("/requests?tab=for_you").get_data(as_text=True)
    assert "Invited-only request" not in page and "An open request" in page
    _login(client, cast, "buyer")
    page = client.get("/requests?tab=mine").get_data(as_text=True)
    assert "Invited-only request" in page and "An open request" in page


# --- posting a request ------------------------------------------------------------------------------------------------


def test_a_buyer_posts_a_request_with_the_budget_in_major_units_and_an_attachment(
    client: FlaskClient, cast: Cast
) -> None:
    _login(client, cast, "buyer")
    assert client.get("/requests/new").status_code == 200
    form = _request_form(invite="beta")
    form["attachments"] = (io.BytesIO(b"spec,1\n"), "spec.csv")
    response = _post(client, "/requests/new", form, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    created = cast.session.exec(select(DataRequest).where(DataRequest.title == _request_form()["title"])).one()
    assert (created.budget_min, created.budget_max, created.currency) == (1_000_000, 2_500_000, "EUR")
    assert created.languages == ["fi", "sv-FI"] and created.tasks == ["ner", "classification"]
    assert created.quality["agreement_min"] == 0.8
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "spec.csv" in page and "Beta Labs" in page and "€10,000.00" in page
    link = re.search(r'href="(/requests/\d+/files/\d+/spec.csv)"', page)
    assert link and client.get(link.group(1)).data == b"spec,1\n"


@pytest.mark.parametrize(
    ("changes", "field_name", "words"),
    [
        ({"budget_min": "30000"}, "budget_min", "must not be above the maximum"),
        ({"deadline": "2001-01-01"}, "deadline", "must not be in the past"),
        ({"languages": "xx-notalanguage"}, "languages", "xx-notalanguage"),
        ({"volume_amount": "0"}, "volume_amount", "from 1 to"),
        ({"volume_amount": "-5"}, "volume_amount", "whole number"),
        ({"currency": "EUX"}, "currency", "not a currency code"),
        ({"budget_max": "12.345"}, "budget_max", "the most you would pay"),
    ],
)
def test_bad_request_input_is_shown_next_to_its_field_and_nothing_is_written(
    client: FlaskClient, cast: Cast, changes, field_name, words
) -> None:
    _login(client, cast, "buyer")
    response = _post(client, "/requests/new", _request_form(**changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'id="e-{re.escape(field_name.replace(".", "-"))}">([^<]*)<', page)
    assert error and words in error.group(1), page[:3000]
    assert cast.session.exec(select(DataRequest)).first() is None


def test_request_a_quote_from_a_custom_listing_invites_its_provider(client: FlaskClient, cast: Cast) -> None:
    listing = DatasetFactory(
        organisation=cast.orgs["alpha"], status=DatasetStatus.PUBLISHED, offering_type=OfferingType.CUSTOM
    )
    cast.session.flush()
    _login(client, cast, "buyer")
    page = client.get(f"/requests/new?provider=alpha&listing={listing.slug}").get_data(as_text=True)
    assert 'data-testid="from-listing"' in page and "Alpha Data" in page
    response = _post(client, "/requests/new", {**_request_form(visibility="invited"), "listing": listing.slug})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    created = cast.session.exec(select(DataRequest)).one()
    assert created.source_dataset_id == listing.id
    assert requests.invited_provider_ids(cast.session, created) == [cast.orgs["alpha"].id]
    assert client.get("/requests/new?listing=no-such-listing").status_code == 404


# --- who sees the request page ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 404), ("buyer", 200), ("alpha", 200), ("beta", 404), ("other_buyer", 404)],
)
def test_an_invited_only_request_is_404_for_everyone_not_invited(client: FlaskClient, cast: Cast, who, status) -> None:
    invited = _request(cast, visibility="invited")
    requests.invite_provider(cast.uow(), cast.people["buyer"], invited, "alpha")
    cast.session.flush()
    if who:
        _login(client, cast, who)
    assert client.get(f"/requests/{invited.id}").status_code == status
    assert client.get(f"/requests/{invited.id + 999}").status_code == 404


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("alpha", "/requests/{id}/edit", 404),
        ("other_buyer", "/requests/{id}/edit", 404),
        ("buyer", "/requests/{id}/edit", 200),
        ("buyer", "/requests/{id}/quote", 404),
        ("alpha", "/requests/{id}/quote", 200),
        ("other_buyer", "/requests/{id}/quote", 404),
        ("alpha", "/requests/{id}/messages", 200),
        ("other_buyer", "/requests/{id}/messages", 404),
        ("buyer", "/requests/{id}/messages?provider=gamma", 404),
    ],
)
def test_page_permissions_on_an_open_request(client: FlaskClient, cast: Cast, who, path, status) -> None:
    open_request = _request(cast)
    _login(client, cast, who)
    assert client.get(path.format(id=open_request.id)).status_code == status


def test_a_provider_sees_its_own_quote_and_never_another_providers(client: FlaskClient, cast: Cast) -> None:
    open_request = _request(cast)
    _quote(cast, "alpha", open_request, 3_000_000)
    _quote(cast, "beta", open_request, 4_400_000)
    _login(client, cast, "alpha")
    page = client.get(f"/requests/{open_request.id}").get_data(as_text=True)
    assert "€30,000.00" in page and "€44,000.00" not in page and "Beta Labs" not in page
    assert 'data-testid="comparison"' not in page
    beta_quote = cast.session.exec(select(Quote).where(Quote.provider_org_id == cast.orgs["beta"].id)).one()
    for action in ("withdraw", "accept", "decline"):
        assert _post(client, f"/quotes/{beta_quote.id}/{action}", {"reason": "x"}).status_code == 404
    cast.session.refresh(beta_quote)
    assert beta_quote.state is QuoteState.SUBMITTED


# --- quoting ----------------------------------------------------------------------------------------------------------


def test_a_provider_quotes_in_major_units_and_revises(client: FlaskClient, cast: Cast) -> None:
    open_request = _request(cast)
    _login(client, cast, "alpha")
    response = _post(client, f"/requests/{open_request.id}/quote", _quote_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    quote = cast.session.exec(select(Quote)).one()
    assert quote.price_amount == 3_000_000
    form_page = client.get(f"/requests/{open_request.id}/quote").get_data(as_text=True)
    assert 'value="30000.00"' in form_page and 'value="Part 2"' in form_page  # the standing quote, to revise
    response = _post(client, f"/requests/{open_request.id}/quote", _quote_form("27000", ("7000", "20000")))
    assert response.status_code == 302
    cast.session.refresh(quote)
    assert (quote.revision, quote.price_amount, quote.state) == (2, 2_700_000, QuoteState.REVISED)


@pytest.mark.parametrize(
    ("form", "field_name", "words"),
    [
        (_quote_form("30000", ("10000", "15000")), "milestones", "add up to €25,000.00 but the price is €30,000.00"),
        (_quote_form("30000", ("10000", "abc")), "milestones-1-amount", "the amount"),
        ({**_quote_form(), "milestones.0.due_date": "2001-01-01"}, "milestones-0-due_date", "must not be in the past"),
        ({**_quote_form(), "milestones.1.due_date": "2999-01-01"}, "milestones-1-due_date", "after the request"),
        ({**_quote_form(), "milestones.0.quantity": "lots"}, "milestones-0-quantity", "whole number"),
        (_quote_form("21", tuple("1" for _ in range(21))), "milestones", "at most 20 milestones"),
        ({**_quote_form(), "currency": "XXY"}, "currency", "not a currency code"),
    ],
)
def test_bad_quotes_are_refused_with_the_error_next_to_the_field(
    client: FlaskClient, cast: Cast, form, field_name, words
) -> None:
    open_request = _request(cast)
    _login(client, cast, "alpha")
    response = _post(client, f"/requests/{open_request.id}/quote", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'id="e-{re.escape(field_name)}">([^<]*)<', page)
    assert error and words in error.group(1), re.findall(r'class="field-error"[^>]*>[^<]*', page)
    assert cast.session.exec(select(Quote)).first() is None


def test_blank_milestone_rows_are_skipped(client: FlaskClient, cast: Cast) -> None:
    open_request = _request(cast)
    _login(client, cast, "alpha")
    form = {k.replace("milestones.1.", "milestones.4."): v for k, v in _quote_form().items()}
    form.update({"milestones.2.title": "", "milestones.2.amount": ""})
    assert _post(client, f"/requests/{open_request.id}/quote", form).status_code == 302


# --- the buyer compares, declines, accepts ----------------------------------------------------------------------------


def test_the_buyer_compares_quotes_side_by_side_and_accepts_one(client: FlaskClient, cast: Cast) -> None:
    open_request = _request(cast)
    _quote(cast, "alpha", open_request, 3_000_000)
    beta = quotes.submit_quote(
        cast.uow(),
        cast.people["beta"],
        open_request,
        quote_data(4_400_000, license_overrides={"territory": ["CH"]}),
    )
    cast.session.flush()
    _login(client, cast, "buyer")
    page = client.get(f"/requests/{open_request.id}").get_data(as_text=True)
    assert 'data-testid="comparison"' in page
    assert "€30,000.00" in page and "€44,000.00" in page
    assert 'data-testid="differing-term"' in page and "Switzerland" in page
    response = _post(client, f"/quotes/{beta.id}/decline", {"reason": ""})
    assert response.status_code == 422 and "say why you decline" in response.get_data(as_text=True)
    response = _post(client, f"/quotes/{beta.id}/accept", {})
    assert response.status_code == 302 and "/contracts/" in response.headers["Location"]
    contract = cast.session.exec(select(Contract)).one()
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert contract.terms_hash in page and "Beta Labs" in page and 'data-testid="timeline"' in page
    assert _post(client, f"/quotes/{beta.id}/accept", {}).status_code == 409


@pytest.mark.parametrize(
    ("who", "status"), [("buyer", 200), ("beta", 200), ("alpha", 404), ("other_buyer", 404), ("gamma", 404)]
)
def test_the_contract_page_is_for_its_two_parties_only(client: FlaskClient, cast: Cast, who, status) -> None:
    from marketplace.custom import contracts

    open_request = _request(cast)
    _quote(cast, "alpha", open_request)
    contract = contracts.accept_quote(cast.uow(), cast.people["buyer"], _quote(cast, "beta", open_request))
    cast.session.flush()
    _login(client, cast, who)
    assert client.get(f"/contracts/{contract.id}").status_code == status
    assert client.get(f"/contracts/{contract.id + 999}").status_code == 404


def test_editing_after_the_first_quote_keeps_the_old_version_and_tells_the_quoting_provider(
    client: FlaskClient, cast: Cast, outbox
) -> None:
    admin = member(cast.orgs["alpha"], Role.ADMIN, email="alpha-admin@example.org")
    cast.session.flush()
    open_request = _request(cast)
    _quote(cast, "alpha", open_request)
    _login(client, cast, "buyer")
    page = client.get(f"/requests/{open_request.id}/edit").get_data(as_text=True)
    assert 'data-testid="quoted-notice"' in page
    form = {**_request_form(), "title": "Swiss German dictation, 250 hours", "modality": "audio", "languages": "de-CH"}
    response = _post(client, f"/requests/{open_request.id}/edit", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    revisions = cast.session.exec(select(RequestRevision)).all()
    assert [r.spec["title"] for r in revisions] == ["Swiss German clinical dictation"]
    page = client.get(f"/requests/{open_request.id}").get_data(as_text=True)
    assert 'data-testid="revisions"' in page
    mail = outbox.messages_to(admin.email)
    assert mail and "changed" in mail[-1].subject and f"/requests/{open_request.id}" in mail[-1].body


# --- conversations ----------------------------------------------------------------------------------------------------


def test_the_private_conversation_with_an_attachment(client: FlaskClient, cast: Cast) -> None:
    open_request = _request(cast)
    _login(client, cast, "alpha")
    response = _post(
        client,
        f"/requests/{open_request.id}/messages",
        {"body": "Is 16 kHz enough?", "files": (io.BytesIO(b"RIFF...."), "sample.wav")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/requests/\d+/files/\d+/sample.wav)"', page)
    assert "Is 16 kHz enough?" in page and link
    assert _post(client, f"/requests/{open_request.id}/messages", {"body": " "}).status_code == 422
    _login(client, cast, "buyer")
    page = client.get(f"/requests/{open_request.id}/messages?provider=alpha").get_data(as_text=True)
    assert "Is 16 kHz enough?" in page
    assert client.get(link.group(1)).status_code == 200
    _login(client, cast, "beta")
    assert client.get(link.group(1)).status_code == 404
    page = client.get(f"/requests/{open_request.id}/messages").get_data(as_text=True)
    assert "Is 16 kHz enough?" not in page  # beta's own conversation, not alpha's


# --- mail -------------------------------------------------------------------------------------------------------------


def test_each_step_mails_the_admins_of_the_right_side(cast: Cast, outbox) -> None:
    buyer_admin = member(cast.orgs["buyer"], Role.ADMIN, email="buyer-admin@example.org")
    alpha_admin = member(cast.orgs["alpha"], Role.ADMIN, email="alpha-admin@example.org")
    cast.session.flush()
    uow = cast.uow()
    posted = requests.create_request(uow, cast.people["buyer"], request_spec(title="Invited request"), invite=["alpha"])
    uow.commit()  # the test's savepoint; runs the after-commit mail
    invited = [m for m in outbox.messages_to(alpha_admin.email) if "invited to quote" in m.subject]
    assert invited and f"/requests/{posted.id}" in invited[-1].body
    assert not outbox.messages_to(cast.people["gamma"].email)
    uow = cast.uow()
    quote = quotes.submit_quote(uow, cast.people["alpha"], posted, quote_data())
    uow.commit()
    assert any("sent a quote" in m.subject for m in outbox.messages_to(buyer_admin.email))
    assert not outbox.messages_to(cast.people["buyer"].email)  # a plain member is not mailed
    uow = cast.uow()
    quotes.decline_quote(uow, cast.people["buyer"], quote, reason="Too slow")
    uow.commit()
    declined = [m for m in outbox.messages_to(alpha_admin.email) if "declined" in m.subject]
    assert declined and "Too slow" in declined[-1].body and f"/requests/{posted.id}" in declined[-1].body


@pytest.mark.parametrize(
    "action", ["pay", "milestones/1/version", "milestones/1/deliver", "milestones/1/accept", "milestones/1/reject",
               "milestones/1/escalate", "milestones/1/cancel", "milestones/1/decide"],
)  # fmt: skip
def test_contract_actions_are_404_for_outsiders(client: FlaskClient, cast: Cast, action: str) -> None:
    from marketplace.custom import contracts

    open_request = _request(cast)
    contract = contracts.accept_quote(cast.uow(), cast.people["buyer"], _quote(cast, "beta", open_request))
    cast.session.flush()
    for outsider in ("alpha", "other_buyer"):
        _login(client, cast, outsider)
        response = _post(client, f"/contracts/{contract.id}/{action}", {"reason": "x", "version": "1.0.0"})
        assert response.status_code == 404, (outsider, action)
    cast.session.refresh(contract)
    assert contract.state.value == "awaiting_payment"


def test_a_platform_admin_sees_the_contract_to_decide_escalations(client: FlaskClient, cast: Cast) -> None:
    from marketplace.custom import contracts
    from tests.factories import UserFactory

    admin = UserFactory(email="ops@example.org", is_platform_admin=True)
    open_request = _request(cast)
    contract = contracts.accept_quote(cast.uow(), cast.people["buyer"], _quote(cast, "beta", open_request))
    cast.session.flush()
    cast.people["ops"] = admin
    _login(client, cast, "ops")
    assert client.get(f"/contracts/{contract.id}").status_code == 200
    assert client.get(f"/requests/{open_request.id}/edit").status_code == 404


@pytest.mark.parametrize(
    ("who", "action"),
    [
        ("alpha", "invite"), ("other_buyer", "invite"),
        ("alpha", "close"), ("other_buyer", "close"),
        ("alpha", "attachments"), ("other_buyer", "attachments"),
    ],
)  # fmt: skip
def test_request_actions_are_404_for_anyone_but_the_buyer(client: FlaskClient, cast: Cast, who, action) -> None:
    open_request = _request(cast)
    _login(client, cast, who)
    data: dict[str, Any] = {"provider": "beta", "reason": "x"}
    if action == "attachments":
        data["file"] = (io.BytesIO(b"spec"), "spec.txt", "text/plain")
    response = _post(client, f"/requests/{open_request.id}/{action}", data, content_type="multipart/form-data")
    assert response.status_code == 404, (who, action)
    cast.session.refresh(open_request)
    assert open_request.state.value == "open"
    assert requests.invited_provider_ids(cast.session, open_request) == []
    assert requests.request_attachments(cast.session, open_request) == []
    _login(client, cast, "buyer")  # the same call by the buyer goes through: the 404 above is the permission's
    if action == "attachments":
        data["file"] = (io.BytesIO(b"spec"), "spec.txt", "text/plain")
    allowed = _post(client, f"/requests/{open_request.id}/{action}", data, content_type="multipart/form-data")
    assert allowed.status_code in (302, 303), allowed.get_data(as_text=True)[:300]


@pytest.mark.parametrize("action", ["withdraw", "decline", "accept"])
def test_quote_actions_are_404_for_other_providers_and_other_buyers(client: FlaskClient, cast: Cast, action) -> None:
    open_request = _request(cast)
    quote = _quote(cast, "alpha", open_request)
    for outsider in ("beta", "other_buyer"):
        _login(client, cast, outsider)
        response = _post(client, f"/quotes/{quote.id}/{action}", {"reason": "x"})
        assert response.status_code == 404, (outsider, action)
    cast.session.refresh(quote)
    assert quote.state.value == "submitted"
    _login(client, cast, "alpha" if action == "withdraw" else "buyer")  # the party it belongs to goes through
    assert _post(client, f"/quotes/{quote.id}/{action}", {"reason": "x"}).status_code in (302, 303)
