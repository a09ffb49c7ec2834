"""Discovery: what result cards say of a listing's price, licenses, size and AI training (batched for a page of
cards), the home page's new and popular listings and facet tiles, and a dataset's citation (BibTeX, APA).

Everything here reads: nothing is changed, so no unit of work is needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from licensing import DEFAULT_REGISTRY, LicenseKind, Money
from marketplace.accounts.models import Organisation
from marketplace.catalog import search_index, vocab
from marketplace.catalog.croissant import store as croissant_store
from marketplace.catalog.models import Dataset, DatasetVersion
from marketplace.licenses.models import Grant, Offer

#: How far back "popular" looks: licenses issued in this many days.
POPULAR_DAYS = 90
HOME_LISTINGS = 6

_DOCUMENT = sa.table("search_document", sa.column("dataset_id"), sa.column("published_at"))
_FACET_VALUE = sa.table("search_facet_value", sa.column("facet"), sa.column("value"), sa.column("listings"))
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>{}]+)")
_UNITS = ("bytes", "kB", "MB", "GB", "TB", "PB")

# --- result cards -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardFacts:
    """What a card says beyond the listing's own columns.

    ``price``: "from €499" (the lowest public price per currency, in major units), "Free" when every public offer
    is free, "By quote" for a custom-collection service, "" without a public offer. ``open_licenses``: the SPDX ids
    of its open licenses; ``commercial``: whether a commercial license is offered. ``training``: True when a public
    offer permits AI training, False when offers exist and none does, None without offers. ``size``: human bytes
    and the record count when known ("1.2 GB · 120,000 records").
    """

    price: str
    open_licenses: tuple[str, ...]
    commercial: bool
    training: bool | None
    size: str


def money_text(amount: int, currency: str) -> str:
    """An amount in minor units for people, in major units with the currency symbol: ``€499``, ``€12.50``."""
    money = Money(amount, currency)
    text = money.format()
    whole_units = 10**money.exponent
    return text.rsplit(".", 1)[0] if money.exponent and amount % whole_units == 0 else text


def human_bytes(size: int | None) -> str:
    """A byte count for people in decimal units: ``532 bytes``, ``1.2 GB``; empty when unknown."""
    if size is None:
        return ""
    value = float(size)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return ""  # pragma: no cover - the loop always returns


def _price(dataset: Dataset, offers: Sequence[tuple[int, str]]) -> str:
    if dataset.is_custom:
        low, high, currency = dataset.service_price_min, dataset.service_price_max, dataset.service_price_currency
        if currency and low is not None and high is not None:
            return f"By quote (typically {money_text(low, currency)}–{money_text(high, currency)})"
        return "By quote"
    if not offers:
        return ""
    if all(amount == 0 for amount, _ in offers):
        return "Free"
    lowest: dict[str, int] = {}
    for amount, currency in offers:
        if amount > 0:
            lowest[currency] = min(amount, lowest.get(currency, amount))
    priced = " or ".join(f"from {money_text(a, c)}" for c, a in sorted(lowest.items(), key=lambda kv: kv[1]))
    return f"Free, or {priced}" if any(amount == 0 for amount, _ in offers) else priced


def _size(dataset: Dataset) -> str:
    parts = [human_bytes(dataset.total_bytes)]
    if dataset.record_count is not None:
        parts.append(f"{dataset.record_count:,} record{'' if dataset.record_count == 1 else 's'}")
    return " · ".join(p for p in parts if p)


def card_facts(session: Session, datasets: Sequence[Dataset]) -> dict[int, CardFacts]:
    """Each listing's :class:`CardFacts`, by id, from one query over the public, active offers of all of them."""
    ids = [d.id for d in datasets if d.id is not None]
    offers: dict[int, list[tuple[int, str, str, bool]]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            sa.select(
                col(Offer.dataset_id),
                col(Offer.price_amount),
                col(Offer.currency),
                col(Offer.license_id),
                col(Offer.training_permitted),
            )
            .where(col(Offer.dataset_id).in_(ids), col(Offer.is_active).is_(True), col(Offer.audience_org_id).is_(None))
            .order_by(col(Offer.price_amount), col(Offer.id))
        )
        for dataset_id, amount, currency, license_id, training in rows:
            offers[dataset_id].append((amount, currency, license_id, training))
    facts = {}
    for dataset in datasets:
        if dataset.id is None:
            continue
        mine = offers[dataset.id]
        templates = [(license_id, DEFAULT_REGISTRY.find(license_id)) for _, _, license_id, _ in mine]
        open_ids = [t.id for _, t in templates if t is not None and t.kind is LicenseKind.OPEN]
        facts[dataset.id] = CardFacts(
            price=_price(dataset, [(amount, currency) for amount, currency, _, _ in mine]),
            open_licenses=tuple(dict.fromkeys(open_ids)),
            commercial=any(t is None or t.kind is LicenseKind.COMMERCIAL for _, t in templates),
            training=any(training for *_, training in mine) if mine else None,
            size=_size(dataset),
        )
    return facts


# --- the home page ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """A facet value on the home page: its facet, value, label and how many published listings have it."""

    facet: str
    value: str
    label: str
    count: int


def newest_ids(session: Session, limit: int = HOME_LISTINGS) -> list[int]:
    """The most recently published listings (the search index's newest order: one index range)."""
    search_index.sync(session)
    rows = session.execute(
        sa.select(_DOCUMENT.c.dataset_id)
        .order_by(_DOCUMENT.c.published_at.desc(), _DOCUMENT.c.dataset_id.desc())
        .limit(limit)
    )
    return [int(i) for (i,) in rows]


def popular_ids(session: Session, now: datetime, limit: int = HOME_LISTINGS) -> list[int]:
    """The published listings with the most licenses issued (free licenses and paid orders alike) in the last
    :data:`POPULAR_DAYS` days, most first (then newest), topped up with the newest listings when fewer have any.

    One query: the grants issued since the cut-off, grouped by listing and joined to the search index (published
    listings only), so its cost grows with recent sales, not with the catalog; then :func:`newest_ids` (one index
    range) only when it returned fewer than ``limit``.
    """
    search_index.sync(session)
    since = now - timedelta(days=POPULAR_DAYS)
    rows = session.execute(
        sa.select(col(Grant.dataset_id))
        .join(_DOCUMENT, _DOCUMENT.c.dataset_id == col(Grant.dataset_id))
        .where(col(Grant.issued_at) >= since)
        .group_by(col(Grant.dataset_id), _DOCUMENT.c.published_at)
        .order_by(sa.func.count().desc(), _DOCUMENT.c.published_at.desc(), col(Grant.dataset_id).desc())
        .limit(limit)
    )
    ids = [int(i) for (i,) in rows]
    if len(ids) < limit:
        ids += [i for i in newest_ids(session, limit + len(ids)) if i not in ids][: limit - len(ids)]
    return ids


def facet_tiles(session: Session) -> dict[str, list[Tile]]:
    """The modality and industry tiles: every value of each vocabulary, in its order, with the count of published
    listings the search index's facet dictionary keeps (read, never computed)."""
    search_index.sync(session)
    counts: dict[tuple[str, str], int] = {
        (str(facet), str(value)): int(n)
        for facet, value, n in session.execute(
            sa.select(_FACET_VALUE.c.facet, _FACET_VALUE.c.value, _FACET_VALUE.c.listings).where(
                _FACET_VALUE.c.facet.in_(("modality", "industry"))
            )
        )
    }
    vocabularies: dict[str, type[vocab.Vocabulary]] = {"modality": vocab.Modality, "industry": vocab.Industry}
    return {
        facet: [Tile(facet, m.value, m.label, counts.get((facet, m.value), 0)) for m in vocabulary]
        for facet, vocabulary in vocabularies.items()
    }


# --- citation ---------------------------------------------------------------------------------------------------

_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": "", "}": "", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                   "_": r"\_"}  # fmt: skip


def _bibtex_text(text: str) -> str:
    """Text safe inside a BibTeX field: braces dropped (so the entry's stay balanced), LaTeX specials escaped."""
    return "".join(_BIBTEX_SPECIAL.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class Citation:
    """How to cite a dataset: who made it, its title, year, version, address and DOI (when it has one)."""

    key: str
    authors: tuple[str, ...]
    title: str
    year: int
    version: str | None
    url: str
    doi: str | None

    def bibtex(self) -> str:
        """A BibTeX ``@misc`` entry; each author in double braces (an organisation's name is not split)."""
        fields = [
            ("author", " and ".join(f"{{{_bibtex_text(a)}}}" for a in self.authors)),
            ("title", f"{{{_bibtex_text(self.title)}}}"),
            ("year", f"{{{self.year}}}"),
        ]
        if self.version:
            fields.append(("version", f"{{{_bibtex_text(self.version)}}}"))
        fields.append(("url", f"{{{self.url}}}"))
        if self.doi:
            fields.append(("doi", f"{{{self.doi}}}"))
        body = ",\n".join(
            f"  {name} = {{{value}}}" if name == "author" else f"  {name} = {value}" for name, value in fields
        )
        return f"@misc{{{self.key},\n{body}\n}}"

    def apa(self) -> str:
        """The APA 7 reference of a data set: ``Author. (Year). Title (Version X) [Data set]. DOI or URL``."""
        names = list(self.authors)
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", & " + names[-1]
        version = f" (Version {self.version})" if self.version else ""
        where = f"https://doi.org/{self.doi}" if self.doi else self.url
        return f"{who}{'' if who.endswith('.') else '.'} ({self.year}). {self.title}{version} [Data set]. {where}"


def _creators(properties: dict[str, Any]) -> list[str]:
    creator = properties.get("creator")
    items = creator if isinstance(creator, list) else [creator] if creator else []
    names = [item.get("name") if isinstance(item, dict) else item for item in items]
    return [str(n).strip() for n in names if isinstance(n, str) and n.strip()]


def find_doi(properties: dict[str, Any]) -> str | None:
    """The DOI an imported description gives (``identifier``, ``sameAs``, ``citeAs`` or ``url``), if any."""
    for name in ("identifier", "sameAs", "citeAs", "url"):
        value = properties.get(name)
        for text in value if isinstance(value, list) else [value]:
            match = _DOI.search(str(text)) if isinstance(text, str | dict) else None
            if match:
                return match.group(1).rstrip(".,;")
    return None


def citation(
    session: Session, dataset: Dataset, org: Organisation, version: DatasetVersion | None, url: str
) -> Citation:
    """The citation of ``dataset`` at ``version`` (its latest, or None before any): the authors an imported
    Croissant description names (else the provider), the year the version (else the listing) was published."""
    profile = croissant_store.profile_of(session, dataset)
    properties = profile.properties if profile else {}
    published = (version.published_at if version else None) or dataset.published_at or dataset.created_at
    return Citation(
        key=re.sub(r"[^a-z0-9]", "", dataset.slug.lower())[:40] + str(published.year),
        authors=tuple(_creators(properties) or [org.name]),
        title=dataset.title,
        year=published.year,
        version=version.version if version else None,
        url=url,
        doi=find_doi(properties),
    )
