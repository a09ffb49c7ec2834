"""AI Act documentation: a version's Article 10 pack (scope ``catalog:read``) and its sign-off by the provider
(scope ``provider:write``)."""

from __future__ import annotations

from typing import Any

from marketplace.aiact import services as aiact
from marketplace.aiact.schemas import SignOffSchema
from marketplace.api import schemas
from marketplace.api.core import Call, operation
from marketplace.apikeys.scopes import CATALOG_READ, PROVIDER_WRITE
from marketplace.catalog import services as catalog
from marketplace.errors import NotFound
from marketplace.permissions import Action, can


@operation(
    "/v1/datasets/{slug}/versions/{version}/ai-act",
    "GET",
    summary="Read a version's AI Act documentation pack",
    tag="Catalog",
    scope=CATALOG_READ,
    path_params={"slug": "slug", "version": "version"},
    response=schemas.AI_ACT_PACK_DOCUMENT,
)
def read_pack(call: Call, slug: str, version: str) -> dict[str, Any]:
    """The EU AI Act Article 10 documentation of a version: ``state`` (``draft`` or ``signed_off``), ``complete``
    (every part filled and signed off), the parts still ``missing`` in plain words, the ``sign_off`` (who, role,
    when, content SHA-256) and each documented part. Anyone may read a published version's pack; a draft version's
    only its provider. The same document is at ``/datasets/{slug}/versions/{version}/ai-act.json`` (and as PDF)."""
    return aiact.read_pack(call.uow.session, call.caller.user, slug, version).to_dict()


@operation(
    "/v1/provider/datasets/{slug}/versions/{version}/ai-act/sign-off",
    "POST",
    summary="Sign off a version's AI Act documentation",
    tag="Provider",
    scope=PROVIDER_WRITE,
    path_params={"slug": "slug", "version": "version"},
    body=SignOffSchema(),
    response=schemas.AI_ACT_PACK_DOCUMENT,
    status=201,
)
def sign_off(call: Call, slug: str, version: str) -> dict[str, Any]:
    """Freeze a published version's documentation as it stands, signed by the named person (``name``, ``role``,
    ``confirm: true``). Refused with 422 ``ai_act_pack_incomplete`` (each missing part named) while a part is
    missing, 409 ``ai_act_already_signed_off`` the second time, 409 ``ai_act_version_not_published`` for a draft
    version. Another organisation's listing is 404."""
    session = call.uow.session
    dataset = catalog.get_dataset(session, slug)
    if not can(session, call.caller.user, Action.AI_ACT_SIGN_OFF, dataset):
        raise NotFound(message=f"No dataset called {slug!r}.")
    target = catalog.get_any_version(session, dataset, version)
    aiact.sign_off(call.uow, call.caller.user, dataset, target, name=call.body["name"], role=call.body["role"])
    return aiact.read_pack(session, call.caller.user, slug, version).to_dict()
