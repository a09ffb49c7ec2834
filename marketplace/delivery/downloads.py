"""Downloads under a license: one gate for the site and the API, audited links, and links that die with the license.

:func:`issue_download_links` is the one gate. A :class:`Requester` (the user, and the API credential with its
organisation when the request came through the API) must pass ``Action.GRANT_DOWNLOAD`` on the grant; the grant
must be active and inside its term, every file's version covered and the download limit not reached for all the
links asked for at once (one lock, one count). Then each link is presigned for a short time and its
``DownloadEvent`` written in the same transaction. A refusal raises
:class:`~marketplace.delivery.errors.DownloadRefused` (403, with the reason) and writes nothing.

Each link carries its audit row's reference (:func:`link_reference`) in its signed part. The local storage server
asks :func:`link_refusal` about it before serving a byte, so a link issued before a refund, a revocation or a
suspension stops working at once (410). An S3 presigned URL cannot be recalled: it works until it expires, at most
``DOWNLOAD_LINK_SECONDS`` after it was issued.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, func, or_, select

import licensing
import storage
from marketplace import audit, metrics
from marketplace.access import gate as access_gate
from marketplace.accounts.models import User
from marketplace.audit.chain import format_time
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import UnitOfWork
from marketplace.delivery.errors import DeliveryErrorCode, DownloadRefused, RefusalReason, storage_errors
from marketplace.delivery.models import DownloadChannel, DownloadEvent, ViewEvent
from marketplace.delivery.stores import dataset_storage, seconds_setting
from marketplace.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied
from marketplace.licenses.models import Grant
from marketplace.licenses.services import grant_value
from marketplace.permissions import Action, delegated, require
from marketplace.withdrawals import lookup as withdrawals
from marketplace.withdrawals.models import Withdrawal

if TYPE_CHECKING:
    from marketplace.apikeys.services import Principal

__all__ = [
    "DownloadLink",
    "Rendition",
    "Requester",
    "check_download_allowed",
    "check_view_allowed",
    "covered_versions",
    "deliverable_files",
    "downloads_used",
    "grant_for_download",
    "grant_for_file_download",
    "grant_manifest",
    "issue_download_link",
    "issue_download_links",
    "link_reference",
    "link_refusal",
]

_REFERENCE = re.compile(r"dl-([1-9][0-9]{0,17})")
_VIEW_REFERENCE = re.compile(r"vw-([1-9][0-9]{0,17})")
_GONE = "This download link is no longer valid; ask for a new one."


@dataclass(frozen=True)
class Requester:
    """Who asks for download links, the same for the site and the API.

    ``user`` is the person (logged in, or the one an API credential acts for). Through the API, ``api_key_id`` or
    ``oauth_client_id`` names the credential, and ``organisation_id`` the one organisation an organisation's
    credential is limited to; ``ip`` and ``user_agent`` are recorded with every link.
    """

    user: User | None
    ip: str = ""
    user_agent: str = ""
    organisation_id: int | None = None
    api_key_id: int | None = None
    oauth_client_id: int | None = None

    @classmethod
    def through_api(cls, principal: Principal, *, ip: str, user_agent: str) -> Requester:
        """The requester behind an API credential (an API key or an OAuth client)."""
        return cls(
            user=principal.user,
            ip=ip,
            user_agent=user_agent,
            organisation_id=principal.organisation_id,
            api_key_id=principal.api_key_id,
            oauth_client_id=principal.credential_id if principal.kind == "oauth_client" else None,
        )

    @property
    def via_api(self) -> bool:
        return self.api_key_id is not None or self.oauth_client_id is not None


@dataclass(frozen=True)
class Rendition:
    """A file served in another form than it was uploaded (its Parquet conversion, for Delta Sharing).

    The link is issued, limited and audited for the source file (``file_id`` of the audit row) like any download;
    only the object it points at is the rendition's, named in the audit entry with its own SHA-256.
    """

    path: str
    storage_key: str
    sha256: str
    media_type: str


@dataclass(frozen=True)
class DownloadLink:
    """A presigned link handed out for one file, and the audit row that records it."""

    url: str
    file: DatasetFile
    version: DatasetVersion
    expires_at: datetime
    event: DownloadEvent

    @property
    def filename(self) -> str:
        return posixpath.basename(self.file.path)


# --- what a grant covers -------------------------------------------------------------------------------------------


def covered_versions(
    session: Session,
    grant: Grant,
    value: licensing.Grant | None = None,
    *,
    withdrawn: dict[int, int | None] | None = None,
) -> list[DatasetVersion]:
    """The published versions of the grant's dataset that the grant serves, oldest first.

    A withdrawn version is never served; a license that covered it serves the withdrawal's patched version
    instead, once that is published (see :mod:`marketplace.withdrawals.lookup`). ``withdrawn``: the dataset's
    withdrawn versions when the caller has already read them.
    """
    published, found = _versions_and_withdrawals(session, grant.dataset_id)
    return _served_of(value or grant_value(grant), published, found if withdrawn is None else withdrawn)


def _versions_and_withdrawals(session: Session, dataset_id: int) -> tuple[list[DatasetVersion], dict[int, int | None]]:
    """The dataset's published versions, oldest first, and its withdrawn versions as
    :func:`~marketplace.withdrawals.lookup.withdrawn_versions` gives them, read by one statement (a download asks
    for both)."""
    rows = session.exec(
        select(DatasetVersion, Withdrawal.id, Withdrawal.patched_version_id, Withdrawal.patch_published_at)
        .outerjoin(Withdrawal, col(Withdrawal.version_id) == col(DatasetVersion.id))
        .where(DatasetVersion.dataset_id == dataset_id)
        .where(or_(DatasetVersion.status == VersionStatus.PUBLISHED, col(Withdrawal.id).is_not(None)))
        .order_by(col(DatasetVersion.published_at), col(DatasetVersion.id))
    ).all()
    published = [version for version, *_ in rows if version.status is VersionStatus.PUBLISHED]
    withdrawn = {
        version.id: (patched if patch_published_at is not None else None)
        for version, withdrawal_id, patched, patch_published_at in rows
        if withdrawal_id is not None
    }
    return published, withdrawn  # type: ignore[return-value]


def _served_of(
    value: licensing.Grant, published: list[DatasetVersion], withdrawn: dict[int, int | None]
) -> list[DatasetVersion]:
    served = withdrawals.with_substitutes(withdrawn, {v.id for v in published if _covers(value, v)})  # type: ignore[misc]
    return [v for v in published if v.id in served]


def _served_versions(
    session: Session, grant: Grant, value: licensing.Grant
) -> tuple[dict[int | None, DatasetVersion], dict[int, int | None]]:
    """The versions the grant serves now, by id, and the dataset's withdrawn versions (one statement)."""
    published, withdrawn = _versions_and_withdrawals(session, grant.dataset_id)
    return {v.id: v for v in _served_of(value, published, withdrawn)}, withdrawn


def _covers(value: licensing.Grant, version: DatasetVersion) -> bool:
    if not value.covers_version(version.version):
        return False
    if value.all_versions and version.version not in value.versions and value.valid_until is not None:
        # "Every version published during the term": not the ones published after it ended.
        return version.published_at is not None and version.published_at < value.valid_until
    return True


def deliverable_files(
    session: Session, grant: Grant, value: licensing.Grant
) -> list[tuple[DatasetVersion, DatasetFile]]:
    """Every uploaded file of every covered version, by version then path."""
    result: list[tuple[DatasetVersion, DatasetFile]] = []
    for version in covered_versions(session, grant, value):
        files = session.exec(
            select(DatasetFile)
            .where(DatasetFile.version_id == version.id, col(DatasetFile.storage_key).is_not(None))
            .order_by(col(DatasetFile.path))
        ).all()
        result.extend((version, f) for f in files)
    return result


def downloads_used(session: Session, grant: Grant) -> int:
    """How many download links were issued under ``grant`` (what its download limit counts)."""
    return int(
        session.exec(select(func.count()).select_from(DownloadEvent).where(DownloadEvent.grant_id == grant.id)).one()
    )


def grant_manifest(session: Session, grant: Grant) -> dict[str, Any]:
    """The files the grant covers with size and SHA-256 per file, per version (for checking downloads)."""
    value = grant_value(grant)
    dataset = session.get(Dataset, grant.dataset_id)
    versions = []
    for version in covered_versions(session, grant, value):
        files = session.exec(
            select(DatasetFile).where(DatasetFile.version_id == version.id).order_by(col(DatasetFile.path))
        ).all()
        versions.append(
            {
                "version": version.version,
                "manifest_digest": version.manifest_digest,
                "file_count": version.file_count,
                "total_bytes": version.total_bytes,
                "files": [
                    {
                        "id": f.id,
                        "path": f.path,
                        "size_bytes": f.size_bytes,
                        "sha256": f.sha256,
                        "media_type": f.media_type,
                        "downloadable": f.storage_key is not None,
                    }
                    for f in files
                ],
            }
        )
    return {
        "license": grant.id,
        "dataset": dataset.slug if dataset else None,
        "license_manifest_digest": grant.manifest_digest,
        "versions": versions,
    }


# --- the gate ------------------------------------------------------------------------------------------------------


def _refusal_for(value: licensing.Grant, now: datetime) -> RefusalReason | None:
    status = value.status_at(now)
    if status is licensing.GrantStatus.REVOKED:
        return RefusalReason.REVOKED
    if status is licensing.GrantStatus.SUSPENDED:
        return RefusalReason.SUSPENDED
    if status is licensing.GrantStatus.EXPIRED:
        return RefusalReason.EXPIRED
    if status is not licensing.GrantStatus.ACTIVE:
        return RefusalReason.NOT_ACTIVE
    if now < value.valid_from:
        return RefusalReason.NOT_YET_VALID
    if not value.is_valid_at(now):
        return RefusalReason.EXPIRED
    return None


def check_download_allowed(
    uow: UnitOfWork, grant: Grant, requester: Requester | None = None, *, user: User | None = None
) -> licensing.Grant:
    """Return the engine's grant when the requester may download under it now; raise DownloadRefused otherwise.

    Checks who asks first (a stranger learns nothing about the grant's state), then the grant's status and term.
    ``user`` alone stands for ``Requester(user)``, a person on the site.
    """
    who = requester if requester is not None else Requester(user=user)
    # An API credential never exceeds its organisation, even when a service is called outside the API's wrapper.
    limits = delegated(who.organisation_id) if who.via_api else nullcontext()
    with limits:
        try:
            require(uow.session, who.user, Action.GRANT_DOWNLOAD, grant)
        except (NotAuthenticated, PermissionDenied) as error:
            raise DownloadRefused.because(RefusalReason.NOT_LICENSEE) from error
    value = grant_value(grant)
    reason = _refusal_for(value, uow.now())
    if reason is not None:
        raise DownloadRefused.because(reason)
    # Governed datasets: the person must also hold access in force (approval, agreement, credential).
    problem = access_gate.download_refusal(uow.session, who.user, grant.dataset_id, grant.licensee_org_id, uow.now())
    if problem is not None:
        raise DownloadRefused.because(RefusalReason.ACCESS_ENDED, problem)
    return value


def _check_limit(session: Session, grant: Grant, value: licensing.Grant, wanted: int) -> None:
    limit = value.terms.download_limit
    if limit is None:
        return
    # Serialise link issuance per grant so two requests cannot both take the last download (PostgreSQL).
    session.exec(select(Grant.id).where(Grant.id == grant.id).with_for_update())
    used = downloads_used(session, grant)
    if used + wanted > limit:
        left = max(0, limit - used)
        message = RefusalReason.LIMIT_REACHED.message + f" ({used} of {limit} used"
        message += f"; {left} left, {wanted} asked for)" if wanted > 1 and left else ")"
        raise DownloadRefused.because(RefusalReason.LIMIT_REACHED, message)


def _file_of_grant(
    session: Session,
    grant: Grant,
    file_id: int,
    served: dict[int | None, DatasetVersion],
    withdrawn: dict[int, int | None],
) -> tuple[DatasetVersion, DatasetFile]:
    """The file ``file_id`` when the grant serves its version (``served``: the versions it serves now, by id)."""
    file = session.get(DatasetFile, file_id) if isinstance(file_id, int) and not isinstance(file_id, bool) else None
    version = None
    if file is not None:
        version = served.get(file.version_id) or session.get(DatasetVersion, file.version_id)
    if file is None or version is None or version.dataset_id != grant.dataset_id:
        raise NotFound(message="No such file under this license.")
    if version.status is VersionStatus.PUBLISHED and version.id in withdrawn:
        raise DownloadRefused.because(RefusalReason.VERSION_WITHDRAWN)
    if version.status is not VersionStatus.PUBLISHED or version.id not in served:
        raise DownloadRefused.because(RefusalReason.VERSION_NOT_COVERED)
    if file.storage_key is None:
        raise Conflict(
            message=f"{file.path} was declared but never uploaded, so it cannot be downloaded.",
            code=DeliveryErrorCode.FILE_UNAVAILABLE,
        )
    return version, file


def _chosen_files(
    session: Session, grant: Grant, value: licensing.Grant, file_ids: Sequence[int] | None, version_label: str | None
) -> list[tuple[DatasetVersion, DatasetFile]]:
    if file_ids is not None:
        # A file asked for twice gets one link (and counts once).
        served, withdrawn = _served_versions(session, grant, value)
        return [_file_of_grant(session, grant, file_id, served, withdrawn) for file_id in dict.fromkeys(file_ids)]
    if version_label is not None:
        _refuse_withdrawn_label(session, grant, version_label)
    files = [(v, f) for v, f in deliverable_files(session, grant, value) if version_label in (None, v.version)]
    if version_label is not None and not files:
        raise NotFound(message=f"No downloadable file in version {version_label} under this license.")
    return files


def check_view_allowed(
    uow: UnitOfWork, grant: Grant, requester: Requester, file_id: int
) -> tuple[DatasetVersion, DatasetFile]:
    """The version and file ``file_id`` when the requester may look at it under ``grant`` now: the download gate
    (:func:`check_download_allowed`) and the same file rules as a download (its version covered, published, not
    withdrawn, the file uploaded), but no download limit, which counts downloads only. Raises as a download would."""
    value = check_download_allowed(uow, grant, requester)
    served, withdrawn = _served_versions(uow.session, grant, value)
    return _file_of_grant(uow.session, grant, file_id, served, withdrawn)


def _refuse_withdrawn_label(session: Session, grant: Grant, label: str) -> None:
    version = session.exec(
        select(DatasetVersion).where(DatasetVersion.dataset_id == grant.dataset_id, DatasetVersion.version == label)
    ).first()
    if version is not None and withdrawals.withdrawal_of_version(session, version.id) is not None:  # type: ignore[arg-type]
        raise DownloadRefused.because(RefusalReason.VERSION_WITHDRAWN)


# --- issuing links -------------------------------------------------------------------------------------------------


def link_reference(event: DownloadEvent) -> str:
    """The reference a link carries in its signed part: its audit row."""
    return f"dl-{event.id}"


#: Built once: its values come as parameters, so each link neither builds nor compiles it again.
_INSERT_EVENT = sa.insert(DownloadEvent.__table__)  # type: ignore[attr-defined]


def _insert_event(session: Session, **values: Any) -> DownloadEvent:
    """Insert one :class:`DownloadEvent` row (every column given) by a plain ``INSERT`` and return it, in the
    session, with its id: the link's reference. The same row the session's flush would write, without its unit of
    work's bookkeeping for a row that is only ever inserted. What the session holds unwritten is written first, as
    before (the row refers to the grant and the file)."""
    session.flush()
    key = cast(sa.CursorResult[Any], session.execute(_INSERT_EVENT, values)).inserted_primary_key
    assert key is not None
    event = DownloadEvent(id=key[0], **values)
    make_transient_to_detached(event)
    session.add(event)
    return event


def _issue(
    uow: UnitOfWork,
    grant: Grant,
    dataset: Dataset,
    version: DatasetVersion,
    file: DatasetFile,
    who: Requester,
    *,
    channel: DownloadChannel = DownloadChannel.DOWNLOAD,
    rendition: Rendition | None = None,
) -> DownloadLink:
    now = uow.now()
    lifetime = seconds_setting(uow, "DOWNLOAD_LINK_SECONDS", 900)
    if grant.valid_until is not None:
        # A link never outlives the license it was issued under.
        lifetime = max(timedelta(seconds=1), min(lifetime, grant.valid_until - now))
    with storage_errors("path"):
        expires_at = now + timedelta(seconds=storage.expiry_seconds(lifetime))
    event = _insert_event(
        uow.session,
        grant_id=grant.id,
        file_id=file.id,
        dataset_id=grant.dataset_id,
        licensee_org_id=grant.licensee_org_id,
        user_id=who.user.id if who.user is not None and who.api_key_id is None else None,
        api_key_id=who.api_key_id,
        ip_address=(who.ip or "")[:64],
        user_agent=(who.user_agent or "")[:512],
        issued_at=now,
        expires_at=expires_at,
        channel=channel.value,
    )
    assert file.storage_key is not None
    served = rendition or Rendition(file.path, file.storage_key, file.sha256, file.media_type)
    with storage_errors("path"):
        url = dataset_storage(uow, dataset).presign_download(
            served.storage_key,
            expires_in=lifetime,
            filename=posixpath.basename(served.path),
            content_type=served.media_type or None,
            reference=link_reference(event),
        )
    # Last, so the audit chains' heads are locked (concurrent downloads of one licensee wait for them) only from
    # here to the commit.
    audit.append(
        uow,
        organisation_ids=[grant.licensee_org_id, grant.licensor_org_id],
        kind="download.link_issued",
        subject_type="license",
        subject_id=grant.id,
        actor=audit.actor_of(who.user, api_key_id=who.api_key_id, oauth_client_id=who.oauth_client_id),
        data={
            "link": link_reference(event),
            "dataset": dataset.slug,
            "version": version.version,
            "path": file.path,
            "sha256": file.sha256,
            "expires_at": format_time(expires_at),
            "ip_address": event.ip_address,
            **({"channel": channel.value} if channel is not DownloadChannel.DOWNLOAD else {}),
            **({"served_path": served.path, "served_sha256": served.sha256} if rendition is not None else {}),
        },
    )
    return DownloadLink(url=url, file=file, version=version, expires_at=expires_at, event=event)


def issue_download_links(
    uow: UnitOfWork,
    *,
    grant: Grant,
    requester: Requester,
    file_ids: Sequence[int] | None = None,
    version_label: str | None = None,
    channel: DownloadChannel = DownloadChannel.DOWNLOAD,
    renditions: Mapping[int, Rendition] | None = None,
    dataset: Dataset | None = None,
) -> list[DownloadLink]:
    """Fresh links for the given files, or every file of one version, or every file the grant covers; all or nothing.

    One permission check, one lock and one limit check for the whole batch (see the module documentation).
    ``channel`` names how the links are handed out (:class:`DownloadChannel`: a Delta Sharing query, a bucket
    export); ``renditions`` points the links of some files (by id) at another form of them (see :class:`Rendition`).
    Raises :class:`DownloadRefused` (not licensee, revoked, suspended, expired, not yet valid, version not
    covered, limit reached), :class:`NotFound` for a file outside the grant's dataset; nothing is written then.
    ``dataset``: the grant's dataset when the caller holds it already (:func:`grant_for_download`).
    """
    # Held from here on, so the access check's look-up of the dataset is answered from the session, not the database.
    if dataset is None or dataset.id != grant.dataset_id:
        dataset = uow.session.get(Dataset, grant.dataset_id)
    value = check_download_allowed(uow, grant, requester)
    chosen = _chosen_files(uow.session, grant, value, file_ids, version_label)
    _check_limit(uow.session, grant, value, len(chosen))
    assert dataset is not None
    forms = renditions or {}
    links = [
        _issue(uow, grant, dataset, version, file, requester, channel=channel, rendition=forms.get(file.id or 0))
        for version, file in chosen
    ]
    uow.session.flush()
    kind = channel.value if channel is not DownloadChannel.DOWNLOAD else "api" if requester.via_api else "site"
    uow.after_commit(functools.partial(metrics.count_download_links, kind, len(links)))  # not for a rolled-back issue
    return links


def issue_download_link(
    uow: UnitOfWork, *, grant: Grant, file_id: int, requester: Requester, dataset: Dataset | None = None
) -> DownloadLink:
    """One link to one file: :func:`issue_download_links` for a single file."""
    return issue_download_links(uow, grant=grant, requester=requester, file_ids=[file_id], dataset=dataset)[0]


def grant_for_download(session: Session, grant_id: str) -> tuple[Grant, Dataset] | None:
    """The grant ``grant_id`` and its dataset, read by one statement (the gate needs both), or ``None``."""
    if len(grant_id) > 26:
        return None
    row = session.exec(
        select(Grant, Dataset).join(Dataset, col(Dataset.id) == col(Grant.dataset_id)).where(Grant.id == grant_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def grant_for_file_download(
    session: Session, grant_id: str, file_id: int
) -> tuple[Grant, Dataset, DatasetFile | None] | None:
    """:func:`grant_for_download`, and the file ``file_id`` (``None`` when there is none) read by the same statement.

    A read ahead for :func:`issue_download_link`: while the caller holds the file, the gate's look-up of it is
    answered from the session instead of another statement, and it checks the file exactly as it would have
    (whose version it is, covered, published, not withdrawn, uploaded). The file is not checked here.
    """
    if len(grant_id) > 26 or isinstance(file_id, bool) or not isinstance(file_id, int):
        return None
    row = session.exec(
        select(Grant, Dataset, DatasetFile)
        .join(Dataset, col(Dataset.id) == col(Grant.dataset_id))
        .outerjoin(DatasetFile, col(DatasetFile.id) == file_id)
        .where(Grant.id == grant_id)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


# --- links that die with the license -------------------------------------------------------------------------------


def link_refusal(uow: UnitOfWork, reference: str) -> str | None:
    """Why a link issued under ``reference`` must not be served any more, or ``None`` while its grant is in force.

    The storage server asks this on every download: a refund or revocation (revoked), a dispute (suspended) or
    the end of the term stops every link issued before, at once; a reinstated grant's unexpired links work again.
    """
    match = _REFERENCE.fullmatch(reference)
    event: DownloadEvent | ViewEvent | None = uow.session.get(DownloadEvent, int(match.group(1))) if match else None
    viewed = _VIEW_REFERENCE.fullmatch(reference)
    if viewed:  # a media player's link, issued by the data viewer under the same grant rules
        event = uow.session.get(ViewEvent, int(viewed.group(1)))
    grant = uow.session.get(Grant, event.grant_id) if event is not None else None
    if grant is None:
        return _GONE
    reason = _refusal_for(grant_value(grant), uow.now())
    if reason is not None:
        return reason.message
    # A link to a file of a version withdrawn since it was issued stops at once too.
    file = uow.session.get(DatasetFile, event.file_id) if event is not None else None
    if file is not None and withdrawals.withdrawal_of_version(uow.session, file.version_id) is not None:
        return RefusalReason.VERSION_WITHDRAWN.message
    # A link issued before access ended (expired, reset, revoked, suspended) stops at once too.
    user = uow.session.get(User, event.user_id) if event is not None and event.user_id is not None else None
    return access_gate.download_refusal(uow.session, user, grant.dataset_id, grant.licensee_org_id, uow.now())
