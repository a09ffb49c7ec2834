"""File manifests: the canonical form a version's digest is computed over, and reading one from text.

The canonical manifest is the RFC 8785 (JCS) serialisation of the list of files sorted by path (by the
UTF-8 bytes of the path), each file an object with exactly ``path``, ``size_bytes``, ``sha256`` and
``media_type``. For these value types JCS is plain JSON with sorted keys, no insignificant whitespace and
non-ASCII characters left as UTF-8, so anyone can recompute :func:`compute_manifest_digest` with a few lines
of code in any language and compare it with the digest a license certificate carries.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from typing import Any, Protocol

from marshmallow import ValidationError

from marketplace.catalog.schemas import ManifestEntrySchema, duplicate_paths
from marketplace.errors import FieldProblem, ValidationFailed
from marketplace.forms import field_problems

MANIFEST_COLUMNS = ("path", "size_bytes", "sha256", "media_type")


class ManifestFile(Protocol):
    path: str
    size_bytes: int
    sha256: str
    media_type: str


def _entry(file: ManifestFile | dict[str, Any]) -> dict[str, Any]:
    if isinstance(file, dict):
        return {name: file[name] for name in MANIFEST_COLUMNS}
    return {"path": file.path, "size_bytes": file.size_bytes, "sha256": file.sha256, "media_type": file.media_type}


def canonical_manifest(files: Iterable[ManifestFile | dict[str, Any]]) -> bytes:
    """The bytes the manifest digest is the SHA-256 of (see the module documentation)."""
    entries = sorted((_entry(f) for f in files), key=lambda e: str(e["path"]).encode("utf-8"))
    for entry in entries:
        entry["size_bytes"] = int(entry["size_bytes"])
    return json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_manifest_digest(files: Iterable[ManifestFile | dict[str, Any]]) -> str:
    """Hex SHA-256 of the canonical manifest of ``files`` (objects or dicts with the four manifest fields)."""
    return hashlib.sha256(canonical_manifest(files)).hexdigest()


def parse_manifest_text(text: str) -> list[dict[str, Any]]:
    """Read a manifest given as CSV (header ``path,size_bytes,sha256,media_type``), a JSON array, or JSON Lines.

    Raises :class:`ValidationFailed` with one problem per bad line and field; nothing is returned half-read.
    """
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise ValidationFailed.for_field("manifest", "the manifest is empty")
    rows: list[tuple[str, Any]]
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValidationFailed.for_field("manifest", f"not valid JSON: {exc.msg} (line {exc.lineno})") from exc
        if not isinstance(data, list):
            raise ValidationFailed.for_field("manifest", "a JSON manifest is an array of file objects")
        rows = [(f"file {i + 1}", item) for i, item in enumerate(data)]
    elif stripped.startswith("{"):
        rows = []
        for number, line in enumerate(stripped.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise ValidationFailed(
                    message=f"line {number}: not valid JSON",
                    details=[FieldProblem("manifest", f"not valid JSON: {exc.msg}", f"line {number}")],
                ) from exc
    else:
        reader = csv.DictReader(io.StringIO(stripped))
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in MANIFEST_COLUMNS if c not in header]
        if missing:
            raise ValidationFailed.for_field(
                "manifest", f"the CSV header must name {', '.join(MANIFEST_COLUMNS)}; missing {', '.join(missing)}"
            )
        rows = [
            (f"line {reader.line_num}", {(k or "").strip(): v for k, v in row.items() if k and k.strip()})
            for row in reader
        ]
    return load_manifest_rows(rows)


def load_manifest_rows(rows: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Validate ``(location, object)`` rows as manifest entries; every problem is reported with its location."""
    schema = ManifestEntrySchema()
    problems: list[FieldProblem] = []
    files: list[dict[str, Any]] = []
    for location, item in rows:
        if not isinstance(item, dict):
            problems.append(
                FieldProblem("file", "each file is an object with path, size_bytes, sha256, media_type", location)
            )
            continue
        try:
            files.append(schema.load(item))
        except ValidationError as exc:
            problems.extend(field_problems(exc, schema, location=location))
    if not problems:
        for index, first in duplicate_paths(files):
            problems.append(FieldProblem("path", f"the same path as {rows[first][0]}", rows[index][0]))
    if problems:
        summary = "; ".join(f"{p.location}: {p.field}: {p.message}" for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ValidationFailed(message=f"The manifest has problems: {summary}{more}", details=problems)
    if not files:
        raise ValidationFailed.for_field("manifest", "the manifest lists no file")
    return files
