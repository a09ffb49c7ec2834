"""Samples: small preview files of a listing, checked against their media type, public unless the provider of a
governed dataset chose to show them only to people holding access."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from marketplace.access.policy import may_see_samples, samples_visible
from marketplace.accounts.models import User
from marketplace.catalog import vocab
from marketplace.catalog.models import (
    Dataset,
    SampleFile,
)
from marketplace.catalog.services.reading import get_dataset, get_sample, samples_of
from marketplace.catalog.services.records import _require_edit, _require_editable, record_event
from marketplace.db import UnitOfWork
from marketplace.errors import NotFound, ValidationFailed
from marketplace.permissions import Action, can
from marketplace.viewer import statistics as viewer_statistics

# --- samples -----------------------------------------------------------------------------------------------------

#: Media types a sample may have: the page can show each of them safely (no HTML, SVG or script).
SAMPLE_MEDIA_TYPES = {
    "text/plain": "text",
    "text/csv": "text",
    "text/tab-separated-values": "text",
    "text/markdown": "text",
    "application/json": "text",
    "application/jsonl": "text",
    "application/x-ndjson": "text",
    "application/vnd.apache.parquet": "data",  # a table: shown by the data viewer, not inline
    "image/png": "image",
    "image/jpeg": "image",
    "image/webp": "image",
    "image/gif": "image",
    "audio/wav": "audio",
    "audio/x-wav": "audio",
    "audio/mpeg": "audio",
    "audio/ogg": "audio",
    "audio/flac": "audio",
    "video/mp4": "video",
    "video/webm": "video",
}
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "audio/flac": (b"fLaC",),
    "audio/ogg": (b"OggS",),
    "application/vnd.apache.parquet": (b"PAR1",),
}
#: What a browser that does not know a table format sends it as, by the file name's extension.
_BY_EXTENSION = {".parquet": "application/vnd.apache.parquet", ".jsonl": "application/jsonl", ".csv": "text/csv"}
SAMPLES_PER_DATASET = 10
_FILENAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")


def _content_matches(media_type: str, content: bytes) -> bool:
    """A cheap check that the bytes are what the media type says, so a preview cannot smuggle another format."""
    if media_type in _SIGNATURES:
        return content.startswith(_SIGNATURES[media_type])
    if media_type in ("audio/wav", "audio/x-wav"):
        return content[:4] == b"RIFF" and content[8:12] == b"WAVE"
    if media_type == "image/webp":
        return content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    if media_type == "audio/mpeg":
        return content.startswith(b"ID3") or content[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
    if media_type == "video/mp4":
        return content[4:8] == b"ftyp"
    if media_type == "video/webm":
        return content.startswith(b"\x1a\x45\xdf\xa3")
    if SAMPLE_MEDIA_TYPES.get(media_type) == "text":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in content
    return False


def add_sample(
    uow: UnitOfWork,
    user: User | None,
    dataset: Dataset,
    *,
    filename: str,
    content: bytes,
    media_type: str,
    description: str = "",
) -> SampleFile:
    """Attach a small public preview file (text, image, audio or video, checked against its media type)."""
    _require_edit(uow, user, dataset)
    _require_editable(dataset)
    session = uow.session
    name = filename.strip().rsplit("/", 1)[-1]
    if not _FILENAME_RE.match(name):
        raise ValidationFailed.for_field("file", "use a file name of letters, digits, spaces, . _ and -")
    if media_type in ("", "application/octet-stream"):
        media_type = _BY_EXTENSION.get(name[name.rfind(".") :].lower(), media_type) if "." in name else media_type
    try:
        kind = vocab.media_type(media_type)
    except ValueError as exc:
        raise ValidationFailed.for_field("file", str(exc)) from exc
    if kind not in SAMPLE_MEDIA_TYPES:
        raise ValidationFailed.for_field(
            "file",
            f"{kind} cannot be previewed; use text, CSV, JSON, Parquet, PNG, JPEG, WebP, GIF, WAV, MP3, OGG, FLAC, "
            "MP4 or WebM",
        )
    limit = int(uow.settings["CATALOG_SAMPLE_MAX_BYTES"])
    if not content:
        raise ValidationFailed.for_field("file", "the file is empty")
    if len(content) > limit:
        raise ValidationFailed.for_field("file", f"a sample may have at most {limit:,} bytes")
    if not _content_matches(kind, content):
        raise ValidationFailed.for_field("file", f"the file's content is not {kind}")
    existing = samples_of(session, dataset)
    if len(existing) >= SAMPLES_PER_DATASET:
        raise ValidationFailed.for_field("file", f"a listing has at most {SAMPLES_PER_DATASET} samples")
    if any(s.filename == name for s in existing):
        raise ValidationFailed.for_field("file", f"there is already a sample called {name}")
    sample = SampleFile(
        dataset_id=dataset.id,  # type: ignore[arg-type]
        filename=name,
        media_type=kind,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        description=description.strip(),
        content=content,
        created_at=uow.now(),
    )
    session.add(sample)
    session.flush()
    record_event(uow, dataset, user, "sample_added", name)
    viewer_statistics.request_for_sample(uow, sample)  # the data viewer's statistics, computed by a job
    return sample


def delete_sample(uow: UnitOfWork, user: User | None, dataset: Dataset, sample_id: int) -> None:
    _require_edit(uow, user, dataset)
    _require_editable(dataset)
    sample = get_sample(uow.session, dataset, sample_id)
    uow.session.delete(sample)
    record_event(uow, dataset, user, "sample_deleted", sample.filename)


def sample_kind(sample: SampleFile) -> str:
    return SAMPLE_MEDIA_TYPES.get(sample.media_type, "text")


@dataclass(frozen=True)
class ServedSample:
    """A sample file as served to one viewer: the file, how to show it, and whether a shared cache may keep it."""

    sample: SampleFile
    kind: str
    public: bool


def serve_sample(
    session: Session, user: User | None, slug: str, sample_id: int, filename: str, now: datetime
) -> ServedSample:
    """The sample file ``sample_id`` of the dataset ``slug`` for ``user``, or :class:`NotFound` for anyone who
    may not see it: an unlisted dataset's samples only for its provider's members and reviewers; a governed
    dataset's samples, when its provider chose not to make them public, only for the people governed access
    lets see them (:func:`marketplace.access.policy.may_see_samples`, called here explicitly)."""
    dataset = get_dataset(session, slug)
    private_reader = can(session, user, Action.DATASET_EDIT, dataset) or can(
        session, user, Action.DATASET_REVIEW, dataset
    )
    if not dataset.is_public and not private_reader:
        raise NotFound(message="No such sample file.")
    if not may_see_samples(session, user, dataset, now):
        raise NotFound(message="No such sample file.")
    sample = get_sample(session, dataset, sample_id)
    if sample.filename != filename:
        raise NotFound(message="No such sample file.")
    public = dataset.is_public and samples_visible(session, dataset)
    return ServedSample(sample, sample_kind(sample), public)
