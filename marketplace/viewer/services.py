"""The data viewer's services: who may look at which file, a local copy to read, rows, search, statistics, media.

Two kinds of file are shown. A listing's **samples** are open to whoever may see the samples on the dataset page
(:func:`marketplace.catalog.services.serve_sample` decides, the same rule as the sample download). A published
version's **full files** are open only to members of an organisation holding a grant that passes the download
gate now (:func:`marketplace.delivery.downloads.check_view_allowed`: ``Action.GRANT_DOWNLOAD``, the grant active
and in term, governed access in force, the version covered and not withdrawn); the first of the requester's
grants for the dataset that passes is used, else the refusal of the newest one is raised (403, with delivery's
refusal code). Every look at a full file is recorded as a :class:`~marketplace.delivery.models.ViewEvent` and
in the licensee's and licensor's audit chains as ``data.viewed``: never as a download, and never counted toward
the download limit.

A file is read from a local temporary copy (a sample's bytes from the database, a full file streamed from
storage), only when it is at most ``VIEWER_MAX_BYTES``; the engine then applies its row, offset and time limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select

from marketplace import audit
from marketplace.accounts.models import Membership
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion, SampleFile
from marketplace.db import UnitOfWork
from marketplace.delivery.downloads import Requester, check_view_allowed
from marketplace.delivery.errors import DownloadRefused, RefusalReason, storage_errors
from marketplace.delivery.models import ViewEvent, ViewKind
from marketplace.delivery.stores import dataset_storage, seconds_setting
from marketplace.errors import Conflict, DomainError, NotFound, ServiceUnavailable, ValidationFailed
from marketplace.licenses.models import Grant
from marketplace.viewer import engine
from marketplace.viewer.engine import DataFormat, Page, ViewerProblem
from marketplace.viewer.errors import ViewerErrorCode
from marketplace.viewer.files import Target, domain_problem, limits_from, local_copy
from marketplace.viewer.statistics import StatisticsView, statistics_view

__all__ = [
    "FileRef",
    "Target",
    "ViewerPage",
    "file_rows",
    "file_search",
    "file_statistics",
    "resolve",
    "viewer_page",
]


@dataclass(frozen=True)
class FileRef:
    """Which file the viewer is asked for: a sample (``sample_id``) or a version's file (``label``, ``file_id``)."""

    slug: str
    sample_id: int | None = None
    label: str | None = None
    file_id: int | None = None

    @property
    def is_sample(self) -> bool:
        return self.sample_id is not None


@dataclass
class ViewerPage:
    """Everything the viewer page shows for one file: the rows or search results, the statistics, a media link,
    or the problem that stopped the engine (shown on the page instead of a table)."""

    target: Target
    rows: Page | None = None
    query: str = ""
    statistics: StatisticsView | None = None
    media_url: str | None = None
    problem: DomainError | None = None


# --- resolving and checking ----------------------------------------------------------------------------------------


def resolve(uow: UnitOfWork, requester: Requester, ref: FileRef) -> Target:
    """The file ``ref`` names when ``requester`` may look at it; NotFound or DownloadRefused (403) otherwise."""
    if ref.sample_id is not None:
        return _sample_target(uow, requester, ref.slug, ref.sample_id)
    assert ref.label is not None and ref.file_id is not None
    return _file_target(uow, requester, ref.slug, ref.label, ref.file_id)


def _sample_target(uow: UnitOfWork, requester: Requester, slug: str, sample_id: int) -> Target:
    session = uow.session
    sample = session.get(SampleFile, sample_id)
    if sample is None:
        raise NotFound(message="No such sample file.")
    # The sample download's own rule: the same people see it in the viewer.
    served = catalog.serve_sample(session, requester.user, slug, sample_id, sample.filename, uow.now())
    dataset = catalog.get_dataset(session, slug)
    return Target(
        dataset=dataset,
        name=served.sample.filename,
        media_type=served.sample.media_type,
        size_bytes=served.sample.size_bytes,
        fmt=engine.detect_format(served.sample.filename, served.sample.media_type),
        sample=served.sample,
    )


def _grants_of(uow: UnitOfWork, requester: Requester, dataset: Dataset) -> list[Grant]:
    """The grants for ``dataset`` held by organisations the requester belongs to (its credential's one, through
    the API), newest first."""
    user = requester.user
    if user is None:
        return []
    orgs = select(Membership.organisation_id).where(Membership.user_id == user.id)
    statement = select(Grant).where(Grant.dataset_id == dataset.id, col(Grant.licensee_org_id).in_(orgs))
    if requester.organisation_id is not None:
        statement = statement.where(Grant.licensee_org_id == requester.organisation_id)
    return list(uow.session.exec(statement.order_by(col(Grant.issued_at).desc(), col(Grant.id).desc())).all())


def _file_target(uow: UnitOfWork, requester: Requester, slug: str, label: str, file_id: int) -> Target:
    session = uow.session
    dataset = catalog.get_dataset(session, slug)
    file = session.get(DatasetFile, file_id)
    version = session.get(DatasetVersion, file.version_id) if file is not None else None
    if file is None or version is None or version.dataset_id != dataset.id or version.version != label:
        raise NotFound(message="No such file in this version.")
    refusal: DomainError | None = None
    for grant in _grants_of(uow, requester, dataset):
        try:
            version, file = check_view_allowed(uow, grant, requester, file_id)
        except (DownloadRefused, Conflict) as error:
            refusal = refusal or error
            continue
        return Target(
            dataset=dataset,
            name=file.path,
            media_type=file.media_type,
            size_bytes=file.size_bytes,
            fmt=engine.detect_format(file.path, file.media_type),
            version=version,
            file=file,
            grant=grant,
        )
    raise refusal or DownloadRefused.because(
        RefusalReason.NOT_LICENSEE, "Only holders of an active license for this dataset may view its full files."
    )


def _record_view(uow: UnitOfWork, target: Target, requester: Requester, what: ViewKind) -> ViewEvent | None:
    """A full file's view in the delivery audit (a ViewEvent and ``data.viewed``); nothing for a sample."""
    grant, file, version = target.grant, target.file, target.version
    if grant is None or file is None or version is None:
        return None
    event = ViewEvent(
        grant_id=grant.id,
        file_id=file.id,  # type: ignore[arg-type]
        dataset_id=grant.dataset_id,
        licensee_org_id=grant.licensee_org_id,
        user_id=requester.user.id if requester.user is not None and requester.api_key_id is None else None,
        api_key_id=requester.api_key_id,
        what=what,
        ip_address=(requester.ip or "")[:64],
        user_agent=(requester.user_agent or "")[:512],
        viewed_at=uow.now(),
    )
    uow.session.add(event)
    uow.session.flush()
    audit.append(
        uow,
        organisation_ids=[grant.licensee_org_id, grant.licensor_org_id],
        kind="data.viewed",
        subject_type="license",
        subject_id=grant.id,
        actor=audit.actor_of(
            requester.user, api_key_id=requester.api_key_id, oauth_client_id=requester.oauth_client_id
        ),
        data={
            "view": f"vw-{event.id}",
            "dataset": target.dataset.slug,
            "version": version.version,
            "path": file.path,
            "what": what.value,
        },
    )
    return event


# --- reading -------------------------------------------------------------------------------------------------------


def _tabular(target: Target) -> DataFormat:
    if target.fmt is None:
        raise Conflict(
            message=f"{target.name} ({target.media_type}) cannot be shown: the viewer shows CSV, JSON Lines, "
            "Parquet, plain text, images, audio and video.",
            code=ViewerErrorCode.UNSUPPORTED_FORMAT,
        )
    if not target.fmt.tabular:
        raise Conflict(
            message=f"{target.name} is {target.fmt.label}: it has no rows; open it in the viewer's player.",
            code=ViewerErrorCode.NOT_TABULAR,
        )
    return target.fmt


def _read(uow: UnitOfWork, target: Target, *, offset: int, length: int, query: str = "") -> Page:
    fmt = _tabular(target)
    limits = limits_from(uow.settings)
    try:
        with local_copy(uow, target) as path:
            if query:
                return engine.search_rows(path, fmt, query, offset=offset, length=length, limits=limits)
            return engine.read_rows(path, fmt, offset=offset, length=length, limits=limits)
    except ViewerProblem as problem:
        raise domain_problem(problem) from problem


# --- the services the views and the API call -----------------------------------------------------------------------


def file_rows(uow: UnitOfWork, requester: Requester, ref: FileRef, *, offset: int, length: int) -> tuple[Target, Page]:
    """One page of rows of a file the requester may look at (recorded as a view of a full file)."""
    target = resolve(uow, requester, ref)
    page = _read(uow, target, offset=offset, length=length)
    _record_view(uow, target, requester, ViewKind.ROWS)
    return target, page


def file_search(
    uow: UnitOfWork, requester: Requester, ref: FileRef, *, query: str, offset: int, length: int
) -> tuple[Target, Page]:
    """The rows containing ``query`` (case-insensitive, in any column), one page of them, and how many match."""
    target = resolve(uow, requester, ref)
    if not query.strip():
        raise ValidationFailed.for_field("q", "Type something to search for.")
    page = _read(uow, target, offset=offset, length=length, query=query)
    _record_view(uow, target, requester, ViewKind.SEARCH)
    return target, page


def file_statistics(uow: UnitOfWork, requester: Requester, ref: FileRef) -> tuple[Target, StatisticsView]:
    """The file's cached statistics, or their state ("being computed", or why they could not be)."""
    target = resolve(uow, requester, ref)
    _tabular(target)
    view = statistics_view(
        uow, file_id=target.file.id if target.file else None, sample_id=target.sample.id if target.sample else None
    )
    _record_view(uow, target, requester, ViewKind.STATISTICS)
    return target, view


def _media_url(uow: UnitOfWork, target: Target, requester: Requester) -> str:
    """A short-lived link for the page's player of a full file: a presigned link whose reference is the
    view's audit row, so it stops working with the license like a download link (but counts as no download)."""
    event = _record_view(uow, target, requester, ViewKind.MEDIA)
    assert event is not None and target.file is not None and target.file.storage_key is not None
    lifetime = seconds_setting(uow, "DOWNLOAD_LINK_SECONDS", 900)
    if target.grant is not None and target.grant.valid_until is not None:
        lifetime = max(timedelta(seconds=1), min(lifetime, target.grant.valid_until - uow.now()))
    with storage_errors("path"):
        return dataset_storage(uow, target.dataset).presign_download(
            target.file.storage_key,
            expires_in=lifetime,
            content_type=target.file.media_type or None,
            reference=f"vw-{event.id}",
        )


def viewer_page(
    uow: UnitOfWork, requester: Requester, ref: FileRef, *, offset: int, length: int, query: str = ""
) -> ViewerPage:
    """The viewer page of one file: a page of rows (or of search results) and the statistics for a table, a
    player's link for media. A file the engine cannot read is shown with its problem rather than refused."""
    target = resolve(uow, requester, ref)
    result = ViewerPage(target=target, query=query.strip())
    if target.fmt is not None and not target.fmt.tabular:
        # A sample is played from its own route (the page links it); a full file through a view link.
        result.media_url = _media_url(uow, target, requester) if target.file is not None else None
        return result
    try:
        result.rows = _read(uow, target, offset=offset, length=length, query=result.query)
    except (Conflict, ServiceUnavailable) as problem:
        result.problem = problem
        return result
    result.statistics = statistics_view(
        uow, file_id=target.file.id if target.file else None, sample_id=target.sample.id if target.sample else None
    )
    _record_view(uow, target, requester, ViewKind.SEARCH if result.query else ViewKind.ROWS)
    return result
