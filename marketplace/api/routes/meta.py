"""The caller's own credential."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.services import organisations_of
from marketplace.api import schemas
from marketplace.api.core import Call, operation
from marketplace.apikeys.services import describe
from marketplace.permissions import Action, can


@operation(
    "/v1/me",
    "GET",
    summary="Describe the calling credential",
    tag="Account",
    response=schemas.MeSchema(),
)
def me(call: Call) -> dict[str, Any]:
    """The credential (type, name, scopes, expiry), the user it acts as, and the organisations it may act for."""
    principal = call.caller
    session = call.uow.session
    reachable = [
        {"slug": org.slug, "name": org.name, "kind": org.kind.value, "role": role.value}
        for org, role in organisations_of(session, principal.user)
        if can(session, principal.user, Action.ORG_VIEW, org)
    ]
    return {**describe(principal), "organisations": reachable}
