"""A contract made by accepting a quote goes on through escrow: paid in the sandbox, milestone 1 delivered and
accepted (a transfer with the contract's own transfer group), the license certificate names the delivery."""

from __future__ import annotations

import licensing
from marketplace.apikeys import services as keys
from marketplace.custom import contracts, milestones, quotes, requests
from marketplace.custom.contract_summary import contract_summary
from marketplace.licenses.models import Grant
from marketplace.licenses.services import keyring
from marketplace.orders.models import ProviderAccount
from marketplace.orders.payments import platform_fee
from tests.functional.api.conftest import bearer
from tests.functional.custom.conftest import Cast, quote_data, request_spec
from tests.support.contracts import pay_in_sandbox, upload_version


def test_an_accepted_quote_is_paid_delivered_and_licensed(client, cast: Cast) -> None:
    request = requests.create_request(cast.uow(), cast.people["buyer"], request_spec(title="Cohort speech"))
    quote = quotes.submit_quote(cast.uow(), cast.people["alpha"], request, quote_data(price=400_000))
    contract = contracts.accept_quote(cast.uow(), cast.people["buyer"], quote)
    cast.session.add(ProviderAccount(organisation_id=cast.orgs["alpha"].id, account_id="acct_alpha", backend="sandbox",
                                     charges_enabled=True, payouts_enabled=True))  # fmt: skip
    cast.session.flush()
    group = contract.transfer_group
    assert group  # set when the contract was made
    pay_in_sandbox(cast.uow(), cast.people["buyer"], contract)
    cast.session.refresh(contract)
    first = milestones.get_milestone(cast.uow(), contract, 1)
    assert contract.payment_plan.value == "per_milestone"  # the quote's plan: only milestone 1 is paid now
    assert contract.state.value == "active" and contract.amount_held == first.amount

    provider = bearer(keys.create_key(cast.uow(), cast.people["alpha"], name="k", scopes=["provider:write"])[1])
    dataset_slug = contract_summary(cast.uow(), contract)["dataset"]
    upload_version(client, provider, dataset_slug, "1.0.0", b"id,text\n1,hello\n")
    milestones.deliver_milestone(cast.uow(), cast.people["alpha"], contract, first, version="1.0.0")
    milestones.accept_milestone(cast.uow(), cast.people["buyer"], contract, first)
    cast.session.flush()
    assert first.transfer_reference and contract.transfer_group == group
    assert contract.amount_paid_out == first.amount - platform_fee(first.amount, 1000)  # PLATFORM_FEE_BPS default
    grant = cast.session.get(Grant, contract.grant_id)
    assert grant is not None and grant.versions == ["1.0.0"]
    claims = licensing.verify_certificate(grant.certificate or "", keyring(cast.uow()), cast.uow().now()).claims
    assert claims is not None and claims["contract"]["deliveries"][0]["version"] == "1.0.0"
