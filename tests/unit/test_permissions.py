"""Every permission rule, as one table: who (role) may do what (action) under which API delegation.

The expected table is written out below, cell by cell, so removing, loosening or tightening any rule in
``marketplace.permissions._RULES`` fails this test, and so does a new action without a row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from marketplace.access.models import AccessRequest, Approval, Credential
from marketplace.accounts.models import Organisation, OrgKind, Role, User
from marketplace.catalog.models import DatasetVersion
from marketplace.catalog.vocab import DatasetStatus, Modality, VersionStatus
from marketplace.custom.models import Contract, DataRequest, Quote, RequestInvitation, Thread, Visibility, VolumeUnit
from marketplace.custom.states import RequestState
from marketplace.errors import NotAuthenticated, PermissionDenied
from marketplace.exports.models import BucketDestination, BucketExport
from marketplace.licenses.models import Grant, Offer
from marketplace.notifications.models import Notification
from marketplace.orders.models import Order, OrderLine
from marketplace.permissions import Action, DatasetVersionTarget, ProviderOnRequest, can, delegated, require
from marketplace.withdrawals.models import Withdrawal, WithdrawalNotice
from tests.factories import DatasetFactory, OrganisationFactory, UserFactory, member

ROLES = ("anonymous", "outsider", "member", "admin", "owner", "platform")
DELEGATIONS = ("none", "same_org", "other_org")

# ``y`` allowed, ``-`` refused. Columns: the roles above, towards organisation "acme" (or its listing or its
# license grant). "outsider" owns another organisation; "platform" is a platform admin with no membership.
# Delegation: "none" is the website session; "same_org" an API credential limited to acme; "other_org" one
# limited to the outsider's organisation.
TABLE = """
action                  delegation  anonymous outsider member admin owner platform
org:view                none        -         -        y      y     y     y
org:view                same_org    -         -        y      y     y     -
org:view                other_org   -         -        -      -     -     -
org:update              none        -         -        -      y     y     -
org:update              same_org    -         -        -      y     y     -
org:update              other_org   -         -        -      -     -     -
org:invite              none        -         -        -      y     y     -
org:invite              same_org    -         -        -      y     y     -
org:invite              other_org   -         -        -      -     -     -
org:manage_members      none        -         -        -      y     y     -
org:manage_members      same_org    -         -        -      y     y     -
org:manage_members      other_org   -         -        -      -     -     -
org:manage_owners       none        -         -        -      -     y     -
org:manage_owners       same_org    -         -        -      -     y     -
org:manage_owners       other_org   -         -        -      -     -     -
org:act_for             none        -         -        y      y     y     -
org:act_for             same_org    -         -        y      y     y     -
org:act_for             other_org   -         -        -      -     -     -
platform:admin          none        -         -        -      -     -     y
platform:admin          same_org    -         -        -      -     -     -
platform:admin          other_org   -         -        -      -     -     -
dataset:edit            none        -         -        y      y     y     -
dataset:edit            same_org    -         -        y      y     y     -
dataset:edit            other_org   -         -        -      -     -     -
dataset:review          none        -         -        -      -     -     y
dataset:review          same_org    -         -        -      -     -     -
dataset:review          other_org   -         -        -      -     -     -
dataset:download_stats  none        -         -        y      y     y     -
dataset:download_stats  same_org    -         -        y      y     y     -
dataset:download_stats  other_org   -         -        -      -     -     -
grant:download          none        -         -        y      y     y     -
grant:download          same_org    -         -        y      y     y     -
grant:download          other_org   -         -        -      -     -     -
grant:share             none        -         -        y      y     y     -
grant:share             same_org    -         -        y      y     y     -
grant:share             other_org   -         -        -      -     -     -
webhooks:see            none        -         -        y      y     y     y
webhooks:see            same_org    -         -        y      y     y     -
webhooks:see            other_org   -         -        -      -     -     -
webhooks:manage         none        -         -        -      y     y     -
webhooks:manage         same_org    -         -        -      y     y     -
webhooks:manage         other_org   -         -        -      -     -     -
sso:manage              none        -         -        -      y     y     -
sso:manage              same_org    -         -        -      y     y     -
sso:manage              other_org   -         -        -      -     -     -
api_access:manage       none        -         -        -      y     y     -
api_access:manage       same_org    -         -        -      y     y     -
api_access:manage       other_org   -         -        -      -     -     -
order:view              none        -         -        y      y     y     y
order:view              same_org    -         -        y      y     y     -
order:view              other_org   -         -        -      -     -     -
order:refund            none        -         -        -      y     y     y
order:refund            same_org    -         -        -      y     y     -
order:refund            other_org   -         -        -      -     -     -
order:invoice_view      none        -         -        y      y     y     y
order:invoice_view      same_org    -         -        y      y     y     -
order:invoice_view      other_org   -         -        -      -     -     -
grant:view              none        -         -        y      y     y     y
grant:view              same_org    -         -        y      y     y     -
grant:view              other_org   -         -        -      -     -     -
grant:training_summary  none        -         -        y      y     y     y
grant:training_summary  same_org    -         -        y      y     y     -
grant:training_summary  other_org   -         -        -      -     -     -
custom_request:create   none        -         -        y      y     y     -
custom_request:create   same_org    -         -        y      y     y     -
custom_request:create   other_org   -         -        -      -     -     -
custom_request:view     none        -         -        y      y     y     -
custom_request:view     same_org    -         -        y      y     y     -
custom_request:view     other_org   -         -        -      -     -     -
custom_request:manage   none        -         -        y      y     y     -
custom_request:manage   same_org    -         -        y      y     y     -
custom_request:manage   other_org   -         -        -      -     -     -
custom_quote:submit     none        -         -        y      y     y     -
custom_quote:submit     same_org    -         -        y      y     y     -
custom_quote:submit     other_org   -         -        -      -     -     -
custom_quote:view       none        -         -        y      y     y     -
custom_quote:view       same_org    -         -        y      y     y     -
custom_quote:view       other_org   -         -        -      -     -     -
custom_quote:manage     none        -         -        y      y     y     -
custom_quote:manage     same_org    -         -        y      y     y     -
custom_quote:manage     other_org   -         -        -      -     -     -
custom_quote:decide     none        -         -        y      y     y     -
custom_quote:decide     same_org    -         -        y      y     y     -
custom_quote:decide     other_org   -         -        -      -     -     -
custom_thread:view      none        -         -        y      y     y     -
custom_thread:view      same_org    -         -        y      y     y     -
custom_thread:view      other_org   -         -        -      -     -     -
custom_contract:view    none        -         -        y      y     y     -
custom_contract:view    same_org    -         -        y      y     y     -
custom_contract:view    other_org   -         -        -      -     -     -
custom_contract:pay       none      -         -        y      y     y     -
custom_contract:pay       same_org  -         -        y      y     y     -
custom_contract:pay       other_org -         -        -      -     -     -
custom_milestone:deliver  none      -         -        y      y     y     -
custom_milestone:deliver  same_org  -         -        y      y     y     -
custom_milestone:deliver  other_org -         -        -      -     -     -
custom_milestone:review   none      -         -        y      y     y     -
custom_milestone:review   same_org  -         -        y      y     y     -
custom_milestone:review   other_org -         -        -      -     -     -
custom_milestone:escalate none      -         -        y      y     y     -
custom_milestone:escalate same_org  -         -        y      y     y     -
custom_milestone:escalate other_org -         -        -      -     -     -
custom_escalation:decide  none      -         -        -      -     -     y
custom_escalation:decide  same_org  -         -        -      -     -     -
custom_escalation:decide  other_org -         -        -      -     -     -
access:manage           none        -         -        -      y     y     -
access:manage           same_org    -         -        -      y     y     -
access:manage           other_org   -         -        -      -     -     -
access:review           none        -         -        -      y     y     -
access:review           same_org    -         -        -      y     y     -
access:review           other_org   -         -        -      -     -     -
access:request_view     none        -         -        -      y     y     -
access:request_view     same_org    -         -        -      y     y     -
access:request_view     other_org   -         -        -      -     -     -
access:seats_manage     none        -         -        -      y     y     -
access:seats_manage     same_org    -         -        -      y     y     -
access:seats_manage     other_org   -         -        -      -     -     -
credential:view         none        -         -        -      -     -     y
credential:view         same_org    -         -        -      -     -     -
credential:view         other_org   -         -        -      -     -     -
credential:verify       none        -         -        -      -     -     y
credential:verify       same_org    -         -        -      -     -     -
credential:verify       other_org   -         -        -      -     -     -
offer:view              none        -         -        y      y     y     -
offer:view              same_org    -         -        y      y     y     -
offer:view              other_org   -         -        -      -     -     -
offer:manage            none        -         -        -      y     y     -
offer:manage            same_org    -         -        -      y     y     -
offer:manage            other_org   -         -        -      -     -     -
withdrawal:file         none        -         -        y      y     y     y
withdrawal:file         same_org    -         -        y      y     y     -
withdrawal:file         other_org   -         -        -      -     -     -
withdrawal:view         none        -         -        y      y     y     y
withdrawal:view         same_org    -         -        y      y     y     -
withdrawal:view         other_org   -         -        -      -     -     -
withdrawal:notice_view  none        -         -        y      y     y     y
withdrawal:notice_view  same_org    -         -        y      y     y     -
withdrawal:notice_view  other_org   -         -        -      -     -     -
withdrawal:confirm      none        -         -        y      y     y     -
withdrawal:confirm      same_org    -         -        y      y     y     -
withdrawal:confirm      other_org   -         -        -      -     -     -
ai_act_pack:read        none        -         -        y      y     y     y
ai_act_pack:read        same_org    -         -        y      y     y     -
ai_act_pack:read        other_org   -         -        -      -     -     -
ai_act_pack:sign_off    none        -         -        y      y     y     -
ai_act_pack:sign_off    same_org    -         -        y      y     y     -
ai_act_pack:sign_off    other_org   -         -        -      -     -     -
audit:read              none        -         -        -      y     y     -
audit:read              same_org    -         -        -      y     y     -
audit:read              other_org   -         -        -      -     -     -
analytics:view          none        -         -        y      y     y     y
analytics:view          same_org    -         -        y      y     y     -
analytics:view          other_org   -         -        -      -     -     -
notification:read       none        -         -        y      -     -     -
notification:read       same_org    -         -        -      -     -     -
notification:read       other_org   -         -        -      -     -     -
export_destination:manage none        -         -        -      y     y     -
export_destination:manage same_org    -         -        -      y     y     -
export_destination:manage other_org   -         -        -      -     -     -
export_destination:use  none        -         -        y      y     y     -
export_destination:use  same_org    -         -        y      y     y     -
export_destination:use  other_org   -         -        -      -     -     -
export:view             none        -         -        y      y     y     -
export:view             same_org    -         -        y      y     y     -
export:view             other_org   -         -        -      -     -     -
"""

#: What each action is asked about: the organisation itself, its listing, or a license grant it holds.
TARGETS: dict[Action, str] = {
    Action.ORG_VIEW: "org",
    Action.ORG_UPDATE: "org",
    Action.ORG_INVITE: "org",
    Action.ORG_MANAGE_MEMBERS: "org",
    Action.ORG_MANAGE_OWNERS: "org",
    Action.ORG_ACT_FOR: "org",
    Action.PLATFORM_ADMIN: "none",
    Action.DATASET_EDIT: "dataset",
    Action.DATASET_REVIEW: "dataset",
    Action.DATASET_DOWNLOAD_STATS: "dataset",
    Action.GRANT_DOWNLOAD: "grant",
    Action.GRANT_SHARE: "grant",
    Action.WEBHOOKS_SEE: "org",
    Action.WEBHOOKS_MANAGE: "org",
    Action.SSO_MANAGE: "org",
    Action.API_ACCESS_MANAGE: "org",
    Action.ORDER_VIEW: "bought_order",
    Action.ORDER_REFUND: "sold_order",
    # An order of acme's listing bought by a third organisation: acme's members see its invoice as the seller.
    Action.ORDER_INVOICE_VIEW: "sold_to_third",
    # Custom datasets: acme as the buyer of a request, or as the provider quoting on another buyer's request.
    Action.CUSTOM_REQUEST_CREATE: "org",
    Action.CUSTOM_REQUEST_VIEW: "own_request",
    Action.CUSTOM_REQUEST_MANAGE: "own_request",
    Action.CUSTOM_QUOTE_SUBMIT: "quoting_on_invited_request",
    Action.CUSTOM_QUOTE_VIEW: "quote_by_acme",
    Action.CUSTOM_QUOTE_MANAGE: "quote_by_acme",
    Action.CUSTOM_QUOTE_DECIDE: "quote_to_acme",
    Action.CUSTOM_THREAD_VIEW: "thread_of_acme",
    Action.CUSTOM_CONTRACT_VIEW: "contract_of_acme",
    # Contract milestones: acme as the contract's buyer (pays, reviews) or as its provider (delivers, escalates).
    Action.CUSTOM_CONTRACT_PAY: "contract_bought_by_acme",
    Action.CUSTOM_MILESTONE_DELIVER: "contract_of_acme",
    Action.CUSTOM_MILESTONE_REVIEW: "contract_bought_by_acme",
    Action.CUSTOM_MILESTONE_ESCALATE: "contract_of_acme",
    Action.CUSTOM_ESCALATION_DECIDE: "contract_bought_by_acme",
    Action.GRANT_VIEW: "grant",
    Action.GRANT_TRAINING_SUMMARY: "grant",
    Action.ACCESS_MANAGE: "org",
    Action.ACCESS_REVIEW: "org",
    Action.ACCESS_REQUEST_VIEW: "access_request",
    Action.ACCESS_SEATS_MANAGE: "approval",
    Action.CREDENTIAL_VIEW: "credential",
    Action.CREDENTIAL_VERIFY: "credential",
    Action.OFFER_VIEW: "private_offer",
    Action.OFFER_MANAGE: "offer",
    # Withdrawals: acme's listing and its withdrawal (as provider); a notice acme received (as licensee) from a
    # third provider.
    Action.WITHDRAWAL_FILE: "dataset",
    Action.WITHDRAWAL_VIEW: "withdrawal",
    Action.WITHDRAWAL_NOTICE_VIEW: "withdrawal_notice",
    Action.WITHDRAWAL_CONFIRM: "withdrawal_notice",
    # A draft version's pack (a published one is anyone's: test_a_published_versions_pack_is_anyones below).
    Action.AI_ACT_PACK_READ: "draft_pack",
    Action.AI_ACT_SIGN_OFF: "dataset",
    Action.AUDIT_READ: "org",
    Action.ANALYTICS_VIEW: "org",
    Action.EXPORT_DESTINATION_MANAGE: "org",
    Action.EXPORT_DESTINATION_USE: "destination",
    Action.EXPORT_VIEW: "export",
    # A notification given to the member alone: nobody else (admins and platform admins included) reads it, nor
    # the member through an organisation's API credential.
    Action.NOTIFICATION_READ: "notification_of_member",
}


def _expected() -> dict[tuple[Action, str, str], bool]:
    lines = [line.split() for line in TABLE.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert tuple(header[2:]) == ROLES
    table: dict[tuple[Action, str, str], bool] = {}
    for action, delegation, *cells in rows:
        assert delegation in DELEGATIONS and len(cells) == len(ROLES), (action, delegation)
        for role, cell in zip(ROLES, cells, strict=True):
            assert cell in ("y", "-")
            key = (Action(action), delegation, role)
            assert key not in table, f"row {action} {delegation} is written twice"
            table[key] = cell == "y"
    return table


EXPECTED = _expected()


def test_the_table_covers_every_action_and_delegation() -> None:
    written = {(action, delegation) for action, delegation, _role in EXPECTED}
    assert written == {(action, delegation) for action in Action for delegation in DELEGATIONS}
    assert set(TARGETS) == set(Action)


@pytest.fixture()
def cast(db_session: Session) -> dict[str, Any]:
    acme = OrganisationFactory(slug="acme")
    other = OrganisationFactory(slug="other")
    third = OrganisationFactory(slug="third")
    people: dict[str, User | None] = {
        "anonymous": None,
        "outsider": member(other, Role.OWNER),
        "member": member(acme, Role.MEMBER),
        "admin": member(acme, Role.ADMIN),
        "owner": member(acme, Role.OWNER),
        "platform": UserFactory(is_platform_admin=True),
    }
    dataset = DatasetFactory(organisation=acme)
    db_session.flush()
    stranger = UserFactory()
    db_session.flush()
    # Access: a request made to acme (the provider) by someone else, acme's approval, someone else's credential.
    targets = {
        "org": acme,
        "dataset": dataset,
        "grant": Grant(licensee_org_id=acme.id),
        "bought_order": Order(buyer_org_id=acme.id),
        "sold_order": _order_of_acme_dataset(db_session, dataset, buyer=other),
        "sold_to_third": _order_of_acme_dataset(db_session, dataset, buyer=third),
        # A private offer a third provider made to acme (as buyer), and an offer on acme's own listing.
        "private_offer": Offer(dataset_id=dataset.id, organisation_id=third.id, audience_org_id=acme.id),
        "offer": Offer(dataset_id=dataset.id, organisation_id=acme.id),
        "none": None,
        **_custom_targets(db_session, acme, other),
        "contract_bought_by_acme": Contract(buyer_org_id=acme.id, provider_org_id=other.id),
        "access_request": AccessRequest(provider_org_id=acme.id, requester_id=stranger.id, organisation_id=other.id),
        "approval": Approval(organisation_id=acme.id, provider_org_id=other.id),
        "credential": Credential(user_id=stranger.id),
        "withdrawal": Withdrawal(organisation_id=acme.id, dataset_id=dataset.id),
        "withdrawal_notice": WithdrawalNotice(licensee_org_id=acme.id, provider_org_id=third.id),
        "draft_pack": DatasetVersionTarget(dataset, DatasetVersion(dataset_id=dataset.id, version="1.0.0")),
        "notification_of_member": Notification(recipient_id=people["member"].id),  # type: ignore[union-attr]
        "destination": BucketDestination(
            organisation_id=acme.id, name="Lake", bucket="lake", access_key_id="a", secret_ciphertext="x"
        ),
        "export": BucketExport(
            grant_id="g", licensee_org_id=acme.id, destination_location="s3://lake/", version_label="1"
        ),
    }
    return {"acme": acme, "other": other, "people": people, "targets": targets}


def _custom_targets(session: Session, acme: Organisation, other: Organisation) -> dict[str, Any]:
    """Requests, quotes, a thread and a contract where acme is the buyer or the provider (invited only, so that
    the open board plays no part)."""
    third = OrganisationFactory(slug="third-buyer", kind=OrgKind.BUYER)
    session.flush()

    def request_of(org: Organisation) -> DataRequest:
        row = DataRequest(
            buyer_org_id=org.id, state=RequestState.OPEN, visibility=Visibility.INVITED, title="Data",
            modality=Modality.TEXT, volume_amount=1, volume_unit=VolumeUnit.RECORDS, license_id="CC0-1.0",
            budget_min=0, budget_max=1, currency="EUR", deadline=date(2099, 1, 1),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row

    own, theirs = request_of(acme), request_of(third)
    session.add(RequestInvitation(request_id=theirs.id, provider_org_id=acme.id))
    session.flush()
    return {
        "own_request": own,
        "quoting_on_invited_request": ProviderOnRequest(theirs, acme),
        "quote_by_acme": Quote(request_id=theirs.id, provider_org_id=acme.id),
        "quote_to_acme": Quote(request_id=own.id, provider_org_id=other.id),
        "thread_of_acme": Thread(request_id=theirs.id, provider_org_id=acme.id),
        "contract_of_acme": Contract(buyer_org_id=third.id, provider_org_id=acme.id),
    }


def _order_of_acme_dataset(session: Session, dataset: Any, *, buyer: Organisation) -> Order:
    """A saved order, bought by ``buyer``, whose one line is acme's listing: acme alone may refund it."""
    offer = Offer(
        dataset_id=dataset.id,
        organisation_id=dataset.organisation_id,
        title="Commercial",
        license_id="LicenseRef-standard-commercial-1.0",
        license_family="commercial",
        terms_hash="0" * 64,
        price_amount=1000,
        currency="EUR",
    )
    order = Order(
        buyer_org_id=buyer.id,
        buyer_email="buyer@example.org",
        currency="EUR",
        total_amount=1000,
        platform_fee_amount=100,
        payment_backend="sandbox",
    )
    session.add_all([offer, order])
    session.flush()
    session.add(
        OrderLine(
            order_id=order.id,
            offer_id=offer.id,
            dataset_id=dataset.id,
            provider_org_id=dataset.organisation_id,
            description="Commercial",
            amount=1000,
            currency="EUR",
            platform_fee_amount=100,
            terms_hash="0" * 64,
        )
    )
    session.flush()
    return order


def _delegation_org(delegation: str, acme: Organisation, other: Organisation) -> int | None:
    return {"same_org": acme.id, "other_org": other.id}[delegation]


def test_every_role_action_and_delegation_is_decided_as_the_table_says(db_session: Session, cast) -> None:
    actual: dict[tuple[Action, str, str], bool] = {}
    for action in Action:
        target = cast["targets"][TARGETS[action]]
        for role, user in cast["people"].items():
            actual[(action, "none", role)] = can(db_session, user, action, target)
            for delegation in ("same_org", "other_org"):
                with delegated(_delegation_org(delegation, cast["acme"], cast["other"])):
                    actual[(action, delegation, role)] = can(db_session, user, action, target)
    wrong = sorted(
        f"{action.value} {delegation} {role}: expected {'allowed' if want else 'refused'}"
        for (action, delegation, role), want in EXPECTED.items()
        if actual[(action, delegation, role)] != want
    )
    assert not wrong, "\n".join(wrong)


def test_require_agrees_with_can_and_tells_anonymous_from_refused(db_session: Session, cast) -> None:
    org = cast["targets"]["org"]
    with pytest.raises(NotAuthenticated):
        require(db_session, None, Action.ORG_VIEW, org)
    with pytest.raises(PermissionDenied):
        require(db_session, cast["people"]["member"], Action.WEBHOOKS_MANAGE, org)
    assert require(db_session, cast["people"]["admin"], Action.WEBHOOKS_MANAGE, org) is cast["people"]["admin"]


def test_a_published_versions_pack_is_anyones(db_session: Session, cast) -> None:
    """Buyers and their auditors read a published version's AI Act documentation before buying, signed in or not,
    through any credential; a withdrawn listing's packs are no longer anyone's."""
    dataset = cast["targets"]["dataset"]
    dataset.status = DatasetStatus.PUBLISHED
    published = DatasetVersionTarget(dataset, DatasetVersion(dataset_id=dataset.id, status=VersionStatus.PUBLISHED))
    for user in cast["people"].values():
        assert can(db_session, user, Action.AI_ACT_PACK_READ, published)
        with delegated(cast["other"].id):
            assert can(db_session, user, Action.AI_ACT_PACK_READ, published)
    dataset.status = DatasetStatus.WITHDRAWN
    assert not can(db_session, None, Action.AI_ACT_PACK_READ, published)
    assert not can(db_session, cast["people"]["outsider"], Action.AI_ACT_PACK_READ, published)
