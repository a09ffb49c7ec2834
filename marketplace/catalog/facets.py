"""Catalog facets: the registry, the built-in facets, and how a facet's counted values are shown.

A facet is a ``SELECT dataset_id, value``: from a column of ``dataset``, from a child table, or from any other
table keyed by dataset (offers, say). Filtering and counting (in :mod:`marketplace.catalog.search`) work the same
for every facet, so adding one is one :func:`register_facet` call. The built-in facets below are registered when
this module is imported; facets of other parts of the application are registered by :func:`marketplace.create_app`
(e.g. :func:`marketplace.licenses.facets.register_offer_facets`), never as a side effect of importing a view.

A facet may be *hierarchical*: its values are hyphen-separated paths (BCP 47 language tags: ``en``, ``en-US``),
``parent_of`` names each value's parent, and ``values`` yields every dataset's values together with their parents.
Selecting a value then matches it and every value below it (``en`` finds ``en-US`` and ``en-GB``: BCP 47 prefix
matching), its count is of the distinct datasets below it, and it is shown with its children under it
(English › United States).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import langcodes
import sqlalchemy as sa
from sqlmodel import Session, col, select

from marketplace.accounts.models import Organisation
from marketplace.catalog import vocab
from marketplace.catalog.models import Dataset, DatasetTerm, TermScheme

# A model whose rows feed a facet, and how to find the listings a changed (added, edited, deleted) row affects.
Source = tuple[type, Callable[[Session, Any], Iterable[int | None]]]

FACET_VALUES_SHOWN = 15
PATH_SEPARATOR = " › "


def _static_labels(labels: Callable[[str], str]) -> Callable[[Session, Sequence[str]], dict[str, str]]:
    return lambda _session, values: {value: labels(value) for value in values}


_IDENTITY_LABELS = _static_labels(str)


@dataclass(frozen=True)
class Facet:
    """One facet: its query-string name, its heading, and the ``(dataset_id, value)`` pairs it is built from.

    ``values`` returns a SELECT with two columns labelled ``dataset_id`` and ``value`` (text). ``accepts`` says
    whether a value given in the query string is well-formed (unknown values are refused with a 400).
    ``labels`` turns stored values into what people read (for a child value: its own part only, "United States").
    ``parent_of`` makes the facet hierarchical (see the module documentation). ``sources`` names the models its
    values come from besides ``dataset`` and ``dataset_term`` (which the search index always follows), each with
    how to find the listings a changed row affects: the index rewrites those listings' rows in the same
    transaction (:mod:`marketplace.catalog.search_index`), so a facet that leaves one out goes stale.
    """

    name: str
    label: str
    values: Callable[[], Any]
    labels: Callable[[Session, Sequence[str]], dict[str, str]] = field(default=_IDENTITY_LABELS)
    accepts: Callable[[str], bool] = lambda value: 0 < len(value) <= 100
    fixed_order: Sequence[str] | None = None
    # False when ``values`` can never repeat a (dataset_id, value) pair, so rows need not be de-duplicated
    # before counting (true of the built-in flat facets; keep the default for a table with several rows per dataset).
    distinct: bool = True
    parent_of: Callable[[str], str | None] | None = None
    sources: tuple[Source, ...] = ()

    @property
    def hierarchical(self) -> bool:
        return self.parent_of is not None


FACETS: dict[str, Facet] = {}


def register_facet(facet: Facet) -> Facet:
    """Add (or replace, keeping its place) a facet; it appears in the sidebar, the query string and the API's
    search parameters in registration order."""
    FACETS[facet.name] = facet
    return facet


# --- shown values ----------------------------------------------------------------------------------------------


@dataclass
class FacetValue:
    """One value of a facet as shown: ``label`` is the whole path ("English › United States"), ``leaf_label`` its
    last part ("United States"), ``parent`` the parent's value (None at the top)."""

    value: str
    label: str
    count: int
    selected: bool
    parent: str | None = None
    leaf_label: str = ""

    @property
    def path_prefix(self) -> str:
        """The parents' part of ``label`` with its separator ("English › "); empty at the top."""
        return self.label[: len(self.label) - len(self.leaf_label)] if self.parent else ""


@dataclass
class FacetResult:
    """A facet as shown; ``estimated``: its counts are estimates (the search matched more listings than are
    counted exactly), shown as "about"."""

    name: str
    label: str
    values: list[FacetValue]
    more: int = 0
    estimated: bool = False


def _sorted(facet: Facet, values: list[FacetValue]) -> list[FacetValue]:
    if facet.fixed_order is not None:
        order = {v: i for i, v in enumerate(facet.fixed_order)}
        return sorted(values, key=lambda fv: (order.get(fv.value, len(order)), fv.label))
    return sorted(values, key=lambda fv: (-fv.count, fv.label.lower(), fv.value))


def facet_result(
    session: Session, facet: Facet, counts: dict[str, int], selected: Sequence[str], *, estimated: bool = False
) -> FacetResult:
    """A facet's counted values as the sidebar and the API show them: most frequent first (or in the facet's fixed
    order), children right after their parent, selected values always shown (with their parents)."""
    counts = dict(counts)
    for value in selected:
        current: str | None = value
        while current is not None:
            counts.setdefault(current, 0)
            current = facet.parent_of(current) if facet.parent_of else None
    leaf = facet.labels(session, list(counts))
    parents = {v: facet.parent_of(v) if facet.parent_of else None for v in counts}

    def path(value: str) -> str:
        parent = parents.get(value)
        own = leaf.get(value, value)
        return own if parent is None or parent not in counts else path(parent) + PATH_SEPARATOR + own

    values = [
        FacetValue(
            value=v,
            label=path(v),
            count=n,
            selected=v in selected,
            parent=parents[v] if parents[v] in counts else None,
            leaf_label=leaf.get(v, v),
        )
        for v, n in counts.items()
    ]
    children: dict[str | None, list[FacetValue]] = {}
    for fv in values:
        children.setdefault(fv.parent, []).append(fv)
    top = _sorted(facet, children.get(None, []))
    shown_top = top[:FACET_VALUES_SHOWN] + [fv for fv in top[FACET_VALUES_SHOWN:] if _any_selected(fv, children)]
    shown: list[FacetValue] = []

    def walk(fv: FacetValue) -> None:
        shown.append(fv)
        for child in _sorted(facet, children.get(fv.value, [])):
            walk(child)

    for fv in shown_top:
        walk(fv)
    return FacetResult(
        name=facet.name, label=facet.label, values=shown, more=len(values) - len(shown), estimated=estimated
    )


def _any_selected(fv: FacetValue, children: dict[str | None, list[FacetValue]]) -> bool:
    return fv.selected or any(_any_selected(child, children) for child in children.get(fv.value, []))


# --- the built-in facets ---------------------------------------------------------------------------------------


def _as_text(column: Any) -> Any:
    return sa.type_coerce(column, sa.String())


def column_facet(name: str, label: str, column: Any, vocabulary: type[vocab.Vocabulary]) -> Facet:
    """A facet over an enumerated column of ``dataset``."""
    return Facet(
        name=name,
        label=label,
        values=lambda: select(col(Dataset.id).label("dataset_id"), _as_text(column).label("value")).where(
            column.is_not(None)
        ),
        labels=_static_labels(vocabulary.label_of),
        accepts=lambda value: value in vocabulary._value2member_map_,
        fixed_order=[m.value for m in vocabulary],
        distinct=False,  # one value per listing
    )


def term_facet(
    name: str,
    label: str,
    scheme: TermScheme,
    *,
    labels: Callable[[str], str] = str,
    accepts: Callable[[str], bool] | None = None,
) -> Facet:
    """A facet over one list of :class:`DatasetTerm` (tasks, industries…)."""
    return Facet(
        name=name,
        label=label,
        values=lambda: select(
            col(DatasetTerm.dataset_id).label("dataset_id"), col(DatasetTerm.value).label("value")
        ).where(DatasetTerm.scheme == scheme),
        labels=_static_labels(labels),
        accepts=accepts or (lambda value: 0 < len(value) <= 100),
        distinct=False,  # (dataset, scheme, value) is unique
    )


def _enum_accepts(vocabulary: type[vocab.Vocabulary]) -> Callable[[str], bool]:
    return lambda value: value in vocabulary._value2member_map_


# Languages: a stored tag is canonical BCP 47 (``en-US``, ``zh-Hant-TW``); its parent is its primary language
# subtag, which the IANA registry makes two or three letters (longer ones are reserved or unused).


def _language_ok(value: str) -> bool:
    try:
        return vocab.language_tag(value) == value
    except ValueError:
        return False


def language_parent(tag: str) -> str | None:
    """The primary language of a tag with more subtags (``en-US`` → ``en``); None for a bare language."""
    primary, _, rest = tag.partition("-")
    return primary if rest else None


@functools.lru_cache(maxsize=2048)
def language_leaf_label(tag: str) -> str:
    """What a tag adds to its language (``en-US`` → ``United States``, ``zh-Hant-TW`` → ``Traditional, Taiwan``);
    the language's own name for a bare language (``en`` → ``English``)."""
    if language_parent(tag) is None:
        return vocab.language_name(tag)
    try:
        parts = langcodes.Language.get(tag).describe()
    except Exception:  # a tag langcodes cannot describe is still shown, as itself
        return tag
    rest = [str(text) for key, text in parts.items() if key != "language"]
    return ", ".join(rest) or tag


def _primary_subtag(value: Any) -> Any:
    """SQL for the primary language subtag of a canonical tag that has further subtags (the same on both databases:
    ``substr`` only)."""
    return sa.case(
        (sa.func.substr(value, 3, 1) == "-", sa.func.substr(value, 1, 2)),
        else_=sa.func.substr(value, 1, 3),
    )


def _language_values() -> Any:
    value = col(DatasetTerm.value)
    tags: Any = select(col(DatasetTerm.dataset_id).label("dataset_id"), value.label("value")).where(
        DatasetTerm.scheme == TermScheme.LANGUAGE
    )
    parents: Any = select(col(DatasetTerm.dataset_id).label("dataset_id"), _primary_subtag(value).label("value")).where(
        DatasetTerm.scheme == TermScheme.LANGUAGE, value.contains("-")
    )
    return sa.union_all(tags, parents)


LANGUAGE_FACET = Facet(
    name="language",
    label="Language",
    values=_language_values,
    labels=_static_labels(language_leaf_label),
    accepts=_language_ok,
    distinct=True,  # a listing in en-US and en-GB is one English listing
    parent_of=language_parent,
)

# Synthetic share: a bucket of the percentage, not the percentage itself.

SYNTHETIC_SHARE_LABELS = {
    "none": "None (0 %)",
    "under_half": "Under half (1–49 %)",
    "over_half": "Half or more (50–99 %)",
    "all": "Fully synthetic (100 %)",
}


def _synthetic_bucket() -> Any:
    share = col(Dataset.synthetic_share_pct)
    return sa.case(
        (share == 0, "none"),
        (share < 50, "under_half"),
        (share < 100, "over_half"),
        else_="all",
    )


def _datasets_of_organisation(session: Session, organisation: Any) -> list[int]:
    statement = sa.select(col(Dataset.id)).where(col(Dataset.organisation_id) == organisation.id)
    return [int(i) for (i,) in session.connection().execute(statement) if i is not None]


def _provider_labels(session: Session, values: Sequence[str]) -> dict[str, str]:
    if not values:
        return {}
    rows = session.exec(select(Organisation.slug, Organisation.name).where(col(Organisation.slug).in_(values)))
    return {slug: name for slug, name in rows}


register_facet(column_facet("modality", "Modality", col(Dataset.modality), vocab.Modality))
register_facet(column_facet("offering_type", "Offering type", col(Dataset.offering_type), vocab.OfferingType))
register_facet(
    term_facet("task", "Task", TermScheme.TASK, labels=vocab.Task.label_of, accepts=_enum_accepts(vocab.Task))
)
register_facet(
    term_facet(
        "industry",
        "Industry",
        TermScheme.INDUSTRY,
        labels=vocab.Industry.label_of,
        accepts=_enum_accepts(vocab.Industry),
    )
)
register_facet(LANGUAGE_FACET)
register_facet(column_facet("personal_data", "Personal data", col(Dataset.personal_data), vocab.PersonalData))
register_facet(
    Facet(
        name="synthetic_share",
        label="Synthetic share",
        values=lambda: select(col(Dataset.id).label("dataset_id"), _synthetic_bucket().label("value")).where(
            col(Dataset.synthetic_share_pct).is_not(None)
        ),
        labels=_static_labels(lambda v: SYNTHETIC_SHARE_LABELS.get(v, v)),
        accepts=lambda value: value in SYNTHETIC_SHARE_LABELS,
        fixed_order=list(SYNTHETIC_SHARE_LABELS),
        distinct=False,
    )
)
register_facet(column_facet("storage_region", "Storage region", col(Dataset.storage_region), vocab.StorageRegion))
register_facet(
    Facet(
        name="provider",
        label="Provider",
        values=lambda: select(col(Dataset.id).label("dataset_id"), col(Organisation.slug).label("value")).join(
            Organisation, col(Organisation.id) == Dataset.organisation_id
        ),
        labels=_provider_labels,
        sources=((Organisation, _datasets_of_organisation),),
        accepts=lambda value: re.fullmatch(r"[a-z0-9-]{1,64}", value) is not None,
        distinct=False,
    )
)
