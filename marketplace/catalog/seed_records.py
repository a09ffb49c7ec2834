"""How a demo listing is written down: :func:`listing` makes a complete catalog record (the AI Act record, one
version with its file manifest) from a few fields, :func:`parts` a run of numbered archive parts for that manifest.
:data:`DemoListing` is one entry of :data:`marketplace.catalog.seed.DEMO_DATASETS`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from marketplace.catalog.vocab import PREPARATION_OPERATIONS

#: A demo listing: its provider's slug, how many days ago it was published, its record, and its sample files
#: (file name in ``seed_samples/``, media type, description).
DemoListing = tuple[str, int, dict[str, Any], list[tuple[str, str, str]]]


def _files(slug: str, specs: list[tuple[str, int, str]]) -> list[dict[str, Any]]:
    # Until uploads exist a manifest is declared metadata; these digests are stand-ins derived from the path.
    return [
        {"path": p, "size_bytes": n, "sha256": hashlib.sha256(f"{slug}/{p}".encode()).hexdigest(), "media_type": t}
        for p, n, t in specs
    ]


def parts(prefix: str, count: int, size: int, media_type: str, ext: str) -> list[tuple[str, int, str]]:
    """``count`` numbered archive parts under ``prefix``, each a little larger than ``size`` bytes."""
    return [(f"{prefix}/part-{i:04d}.{ext}", size + i * 7919, media_type) for i in range(count)]


def listing(
    slug: str,
    *,
    ai: dict[str, Any],
    files: list[tuple[str, int, str]],
    changelog: str = "First release.",
    **fields: Any,
) -> dict[str, Any]:
    """A complete record: the fields given, the AI Act record from ``ai``, one version with ``files``."""
    preparation = {k: ai.pop(k) for k in PREPARATION_OPERATIONS if k in ai}
    files.append(("README.md", 9_000 + len(slug), "text/markdown"))
    return {
        "external_id": slug.upper(),
        "slug": slug,
        **fields,
        "file_count": fields.get("file_count", len(files)),
        "ai_act": {**ai, "preparation": preparation},
        "versions": [{"version": "1.0.0", "changelog": changelog, "files": _files(slug, files)}],
    }
