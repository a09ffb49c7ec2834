"""Reading a version's AI Act documentation pack, and signing it off.

Who may do what is in the permission table (:mod:`marketplace.permissions`): anyone reads the pack of a published
version of a public listing (``ai_act_pack:read``); its provider (and reviewing admins) read a draft version's;
only a member of the provider signs off (``ai_act_pack:sign_off``). A pack nobody may read is reported as not
found, so its existence is not confirmed to outsiders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from marketplace.accounts.models import User
from marketplace.aiact.errors import AiActErrorCode
from marketplace.aiact.models import AiActSignOff
from marketplace.aiact.pack import MissingPart, build_content, content_digest, missing_parts
from marketplace.aiact.states import DocumentationState, IllegalTransition, Transition, move
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.db import UnitOfWork
from marketplace.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from marketplace.permissions import Action, DatasetVersionTarget, can, require

SIGN_OFF_PART = "sign_off"
SIGN_OFF_MESSAGE = "A member of the provider must sign off the documentation of this version."


@dataclass(frozen=True)
class Pack:
    """A version's documentation: its content (frozen once signed off), its state, and what it still lacks."""

    dataset: Dataset
    version: DatasetVersion
    content: dict[str, Any]
    state: DocumentationState
    missing: list[MissingPart]
    sign_off: AiActSignOff | None

    @property
    def complete(self) -> bool:
        """ "AI Act documentation complete": every part filled and the whole signed off."""
        return self.state is DocumentationState.SIGNED_OFF and not self.missing

    def to_dict(self) -> dict[str, Any]:
        """The pack as JSON: its state, completeness, missing parts, sign-off and documented parts."""
        signed = self.sign_off
        return {
            "format": self.content["format"],
            "state": self.state.value,
            "complete": self.complete,
            "missing": [part.to_dict() for part in self.missing],
            "sign_off": {
                "name": signed.signer_name,
                "role": signed.signer_role,
                "signed_at": signed.signed_at.isoformat(),
                "content_digest": signed.content_digest,
            }
            if signed is not None
            else None,
            **{key: value for key, value in self.content.items() if key != "format"},
        }


def sign_off_of(session: Session, version: DatasetVersion) -> AiActSignOff | None:
    return session.exec(select(AiActSignOff).where(AiActSignOff.version_id == version.id)).first()


def _pack(session: Session, dataset: Dataset, version: DatasetVersion) -> Pack:
    signed = sign_off_of(session, version)
    if signed is not None:
        return Pack(dataset, version, signed.content, signed.state, missing_parts(signed.content), signed)
    content = build_content(session, dataset, version)
    missing = [*missing_parts(content), MissingPart(SIGN_OFF_PART, SIGN_OFF_MESSAGE)]
    return Pack(dataset, version, content, DocumentationState.DRAFT, missing, None)


def read_pack(session: Session, user: User | None, slug: str, label: str) -> Pack:
    """The documentation pack of version ``label`` of dataset ``slug``, for ``user``; :class:`NotFound` when
    there is no such version or ``user`` may not read it."""
    dataset = catalog.get_dataset(session, slug)
    try:
        version = catalog.get_any_version(session, dataset, label)
    except NotFound:
        version = None
    if version is None or not can(session, user, Action.AI_ACT_PACK_READ, DatasetVersionTarget(dataset, version)):
        raise NotFound(message=f"No AI Act documentation for version {label!r} of {slug!r}.")
    return _pack(session, dataset, version)


def packs_of(session: Session, dataset: Dataset) -> list[Pack]:
    """The pack of each published version of ``dataset``, newest first (for its provider's page)."""
    return [_pack(session, dataset, version) for version in catalog.versions_of(session, dataset)]


def sign_off(
    uow: UnitOfWork, user: User | None, dataset: Dataset, version: DatasetVersion, *, name: str, role: str
) -> AiActSignOff:
    """Sign off ``version``'s documentation as the person ``name`` (``role`` in the provider): the pack's content
    is frozen as it stands now, with its digest, the signer and the time.

    Refused when ``user`` is not a member of the provider (PermissionDenied), when the version is not published
    or the listing is not public (409 ``ai_act_version_not_published``), when it was already signed off (409
    ``ai_act_already_signed_off``) or when a part is missing (422 ``ai_act_pack_incomplete``, each missing part
    named).
    """
    signer = require(uow.session, user, Action.AI_ACT_SIGN_OFF, dataset)
    if not (version.is_published and dataset.is_public):
        raise Conflict(
            message="Only a published version of a public listing can be signed off: its files can no longer change.",
            code=AiActErrorCode.VERSION_NOT_PUBLISHED,
        )
    existing = sign_off_of(uow.session, version)
    state = move(existing.state if existing else DocumentationState.DRAFT, Transition.SIGN_OFF)
    content = build_content(uow.session, dataset, version)
    missing = missing_parts(content)
    if missing:
        raise ValidationFailed(
            message="The documentation is not complete yet: fill in the missing parts, then sign it off.",
            code=AiActErrorCode.PACK_INCOMPLETE,
            details=[FieldProblem(part.part, part.message) for part in missing],
        )
    assert dataset.id is not None and version.id is not None
    row = AiActSignOff(
        version_id=version.id,
        dataset_id=dataset.id,
        state=state,
        signed_by_id=signer.id,
        signer_name=name.strip(),
        signer_role=role.strip(),
        signed_at=uow.now(),
        content=content,
        content_digest=content_digest(content),
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(row)
    except IntegrityError as error:  # signed off at the same moment by someone else: the version is unique
        raise IllegalTransition(DocumentationState.SIGNED_OFF, Transition.SIGN_OFF) from error
    catalog.record_event(uow, dataset, signer, "ai_act_signed_off", f"Version {version.version}, signed by {name}")
    return row
