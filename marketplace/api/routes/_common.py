"""Small helpers the route modules share."""

from __future__ import annotations

from sqlmodel import select

from marketplace.accounts.models import Organisation
from marketplace.api.core import Call
from marketplace.errors import ValidationFailed


def organisation_slug(call: Call, slug: str | None, *, field: str = "organisation") -> str:
    """The organisation a request names, or the credential's own; a user's key must name one."""
    if slug:
        return slug
    if call.caller.organisation is not None:
        return call.caller.organisation.slug
    raise ValidationFailed.for_field(field, "name the organisation: this credential may act for several")


def organisation(call: Call, slug: str | None, *, field: str = "organisation") -> Organisation:
    chosen = organisation_slug(call, slug, field=field)
    org = call.uow.session.exec(select(Organisation).where(Organisation.slug == chosen)).first()
    if org is None:
        raise ValidationFailed.for_field(field, f"no organisation called {chosen!r}")
    return org


def page_limit(call: Call) -> int:
    return int(call.query.get("limit") or 20)
