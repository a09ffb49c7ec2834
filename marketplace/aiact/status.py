"""Which datasets have complete AI Act documentation, for the catalog: the search facet and the badges.

A version's documentation is complete once signed off (a sign-off is refused while any part is missing), and it
counts only while the version is published. Kept apart from :mod:`.services` so the catalog's pages can ask
without importing the pack builder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from marketplace.aiact.models import AiActSignOff
from marketplace.catalog import vocab
from marketplace.catalog.facets import Facet, register_facet
from marketplace.catalog.models import DatasetVersion
from marketplace.catalog.vocab import VersionStatus

FACET_NAME = "ai_act"
COMPLETE = "complete"
FACET_LABELS = {COMPLETE: "AI Act documentation complete"}


def _complete_rows() -> Any:
    return (
        select(col(DatasetVersion.dataset_id), col(DatasetVersion.version))
        .join(AiActSignOff, col(AiActSignOff.version_id) == DatasetVersion.id)
        .where(DatasetVersion.status == VersionStatus.PUBLISHED)
    )


def complete_versions(session: Session, dataset_ids: Sequence[int]) -> dict[int, list[str]]:
    """For each of ``dataset_ids`` with complete documentation, the labels of those versions, newest first."""
    if not dataset_ids:
        return {}
    found: dict[int, list[str]] = {}
    for dataset_id, label in session.execute(_complete_rows().where(col(DatasetVersion.dataset_id).in_(dataset_ids))):
        found.setdefault(dataset_id, []).append(label)
    return {i: sorted(labels, key=vocab.semver_key, reverse=True) for i, labels in found.items()}


def register_ai_act_facet() -> None:
    """Register the "AI Act documentation" facet (one value, ``complete``: a published version signed off);
    :func:`marketplace.create_app` calls it. Idempotent."""
    register_facet(
        Facet(
            name=FACET_NAME,
            label="AI Act documentation",
            values=lambda: (
                select(
                    col(DatasetVersion.dataset_id).label("dataset_id"), sa.literal(COMPLETE, sa.String()).label("value")
                )
                .join(AiActSignOff, col(AiActSignOff.version_id) == DatasetVersion.id)
                .where(DatasetVersion.status == VersionStatus.PUBLISHED)
            ),
            labels=lambda _session, values: {v: FACET_LABELS.get(v, v) for v in values},
            accepts=lambda value: value in FACET_LABELS,
            fixed_order=list(FACET_LABELS),
            distinct=True,  # several signed-off versions are one dataset
            sources=(
                (AiActSignOff, lambda _session, sign_off: [sign_off.dataset_id]),
                (DatasetVersion, lambda _session, version: [version.dataset_id]),
            ),
        )
    )
