"""Samples: small public preview files of a listing, checked against their media type."""

from __future__ import annotations

import hashlib
import re

from marketplace.accounts.models import User
from marketplace.catalog import vocab
from marketplace.catalog.models import (
    Dataset,
    SampleFile,
)
from marketplace.catalog.services.reading import get_sample, samples_of
from marketplace.catalog.services.records import _require_edit, _require_editable, record_event
from marketplace.db import UnitOfWork
from marketplace.errors import ValidationFailed

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
}
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
    try:
        kind = vocab.media_type(media_type)
    except ValueError as exc:
        raise ValidationFailed.for_field("file", str(exc)) from exc
    if kind not in SAMPLE_MEDIA_TYPES:
        raise ValidationFailed.for_field(
            "file",
            f"{kind} cannot be previewed; use text, CSV, JSON, PNG, JPEG, WebP, GIF, WAV, MP3, OGG, FLAC, MP4 or WebM",
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
    return sample


def delete_sample(uow: UnitOfWork, user: User | None, dataset: Dataset, sample_id: int) -> None:
    _require_edit(uow, user, dataset)
    _require_editable(dataset)
    sample = get_sample(uow.session, dataset, sample_id)
    uow.session.delete(sample)
    record_event(uow, dataset, user, "sample_deleted", sample.filename)


def sample_kind(sample: SampleFile) -> str:
    return SAMPLE_MEDIA_TYPES.get(sample.media_type, "text")
