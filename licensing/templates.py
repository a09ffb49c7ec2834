"""License templates: the open licenses by SPDX id and our commercial ``LicenseRef-<slug>-<version>`` ones.

A :class:`LicenseTemplate` names a license, links to its text and encodes its terms as
:class:`~licensing.terms.Terms`. :class:`TemplateRegistry` looks templates up by id, lists them and
gives each a *family* for faceting. :func:`validate_license_id` checks any SPDX license expression
and accepts our own ``LicenseRef-`` ids by pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from license_expression import ExpressionError, Licensing, get_spdx_licensing

from .duration import Duration
from .errors import LicenseIdError
from .terms import (
    Attribution,
    DeletionOnTermination,
    ModelWeights,
    PIIObligations,
    RawRedistribution,
    Terms,
    Use,
    Warranty,
)

#: Our own license ids: ``LicenseRef-`` + lower-case slug words + ``-`` + a version such as ``1.0``.
LICENSE_REF_PATTERN = re.compile(r"^LicenseRef-[a-z0-9]+(?:-[a-z0-9]+)*-\d+(?:\.\d+)*$")


class LicenseFamily(StrEnum):
    """A coarse grouping of licenses for faceted search."""

    CC_BY = "cc-by"
    CC_BY_SA = "cc-by-sa"
    CC_BY_NC = "cc-by-nc"
    PUBLIC_DOMAIN = "public-domain"
    ODC = "odc"
    CDLA = "cdla"
    COMMERCIAL = "commercial"
    RESEARCH_ONLY = "research-only"
    EVALUATION_ONLY = "evaluation-only"
    CUSTOM = "custom"


class LicenseKind(StrEnum):
    """Open licenses have fixed public terms and no price; commercial ones are sold and negotiable."""

    OPEN = "open"
    COMMERCIAL = "commercial"


class LicenseScope(StrEnum):
    """What the license covers."""

    #: The licensed material itself (the records, files, annotations).
    CONTENT = "content"
    #: The database (its selection and arrangement, and database rights), not the individual contents.
    DATABASE = "database"


@lru_cache(maxsize=1)
def spdx_licensing() -> Licensing:
    """Return the (cached) SPDX licensing object from ``license_expression``."""
    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def _validate_cached(expression: str) -> str:
    licensing = spdx_licensing()
    try:
        result = licensing.validate(expression)
    except ExpressionError as exc:  # pragma: no cover - validate() reports errors instead of raising
        raise LicenseIdError(f"{expression!r} is not a valid license expression: {exc}", "license_id") from exc
    if not result.errors:
        return str(result.normalized_expression)
    unknown = list(result.invalid_symbols)
    only_unknown_keys = all(e.startswith("Unknown license key(s)") for e in result.errors)
    if only_unknown_keys and unknown and all(LICENSE_REF_PATTERN.match(s) for s in unknown):
        return str(licensing.parse(expression))
    bad = [s for s in unknown if s and not LICENSE_REF_PATTERN.match(s)]
    if only_unknown_keys and bad:
        raise LicenseIdError(
            f"unknown license id(s): {', '.join(bad)}; use an SPDX id or LicenseRef-<slug>-<version>",
            "license_id",
        )
    raise LicenseIdError(f"{expression!r} is not a valid license expression: {'; '.join(result.errors)}", "license_id")


def validate_license_id(expression: str) -> str:
    """Validate a license id or SPDX license expression and return it normalised.

    Accepts any valid SPDX expression (``CC-BY-4.0``, ``cc-by-4.0`` → ``CC-BY-4.0``,
    ``CC-BY-4.0 AND ODbL-1.0``) and ids of the form ``LicenseRef-<slug>-<version>`` (see
    :data:`LICENSE_REF_PATTERN`) inside it. Raises :class:`LicenseIdError` with a clear message for a
    syntax error or an unknown license key.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise LicenseIdError("a license id is required", "license_id")
    return _validate_cached(expression.strip())


@dataclass(frozen=True)
class LicenseTemplate:
    """A named, versioned license with its terms encoded.

    ``url`` is the canonical text of an open license, or for our commercial templates the path of the
    license page relative to the platform's base URL. ``notes`` record facts about the license that
    the structured terms cannot (for example what it does *not* cover).
    """

    id: str
    name: str
    short_name: str
    version: str
    url: str
    family: LicenseFamily
    kind: LicenseKind
    terms: Terms
    scope: LicenseScope = LicenseScope.CONTENT
    notes: tuple[str, ...] = ()
    #: True when the license places no restriction on trained models, their weights or other results.
    results_unrestricted: bool = False

    def __post_init__(self) -> None:
        normalised = validate_license_id(self.id)
        if normalised != self.id:
            raise LicenseIdError(f"template id must be written {normalised!r}", "id")
        is_ref = self.id.startswith("LicenseRef-")
        if (self.kind is LicenseKind.OPEN) == is_ref:
            raise LicenseIdError("open templates use a single SPDX id; commercial ones a LicenseRef id", ("id", "kind"))
        if " " in self.id:
            raise LicenseIdError("a template id must be a single license, not an expression", "id")

    @property
    def is_open(self) -> bool:
        """True for open licenses (fixed public terms, no price, no seat limit, no exclusivity)."""
        return self.kind is LicenseKind.OPEN

    @property
    def spdx_id(self) -> str:
        """The SPDX identifier or LicenseRef of this template (same as :attr:`id`)."""
        return self.id


_ALL_USES = frozenset(Use)
_NC_USES = _ALL_USES - {Use.OUTPUT_COMMERCIAL, Use.MODEL_COMMERCIAL}
_BY = Attribution(required=True)


def _open(
    spdx: str,
    name: str,
    short: str,
    url: str,
    family: LicenseFamily,
    terms: Terms,
    *,
    scope: LicenseScope = LicenseScope.CONTENT,
    notes: tuple[str, ...] = (),
    results_unrestricted: bool = False,
) -> LicenseTemplate:
    return LicenseTemplate(
        id=spdx,
        name=name,
        short_name=short,
        version=spdx.rsplit("-", 1)[1],
        url=url,
        family=family,
        kind=LicenseKind.OPEN,
        terms=terms,
        scope=scope,
        notes=notes,
        results_unrestricted=results_unrestricted,
    )


def _commercial(
    slug: str, name: str, family: LicenseFamily, terms: Terms, notes: tuple[str, ...] = ()
) -> LicenseTemplate:
    license_id = f"LicenseRef-{slug}-1.0"
    return LicenseTemplate(
        id=license_id,
        name=name,
        short_name=f"{name} 1.0",
        version="1.0",
        url=f"/license-templates/{license_id}",
        family=family,
        kind=LicenseKind.COMMERCIAL,
        terms=terms,
        notes=notes,
    )


_CC_NOTE = (
    "Every recipient receives the license directly from the licensor, so it cannot be sublicensed; "
    "it lasts as long as the licensed rights do."
)
_COMMERCIAL_BASE = Terms(
    permitted_uses=_ALL_USES,
    derivatives=True,
    model_weights=ModelWeights.UNRESTRICTED,
    raw_redistribution=RawRedistribution.NONE,
    term=Duration(years=1),
    deletion_on_termination=DeletionOnTermination(required=True, days=30, certification=True),
    pii=PIIObligations(no_reidentification=True),
    warranty=Warranty.RIGHTS,
)

BUILTIN_TEMPLATES: tuple[LicenseTemplate, ...] = (
    _open(
        "CC-BY-4.0",
        "Creative Commons Attribution 4.0 International",
        "CC BY 4.0",
        "https://creativecommons.org/licenses/by/4.0/",
        LicenseFamily.CC_BY,
        Terms(
            permitted_uses=_ALL_USES,
            derivatives=True,
            model_weights=ModelWeights.UNRESTRICTED,
            raw_redistribution=RawRedistribution.ANY,
            attribution=_BY,
        ),
        notes=(_CC_NOTE,),
    ),
    _open(
        "CC-BY-SA-4.0",
        "Creative Commons Attribution Share Alike 4.0 International",
        "CC BY-SA 4.0",
        "https://creativecommons.org/licenses/by-sa/4.0/",
        LicenseFamily.CC_BY_SA,
        Terms(
            permitted_uses=_ALL_USES,
            derivatives=True,
            model_weights=ModelWeights.SAME_TERMS,
            raw_redistribution=RawRedistribution.SAME_LICENSE,
            attribution=_BY,
            share_alike=True,
        ),
        notes=(
            _CC_NOTE,
            "Adapted material you share must be licensed under CC BY-SA 4.0 or a license CC lists as "
            "BY-SA compatible. Model weights are treated as possibly adapted material (same terms).",
        ),
    ),
    _open(
        "CC-BY-NC-4.0",
        "Creative Commons Attribution Non Commercial 4.0 International",
        "CC BY-NC 4.0",
        "https://creativecommons.org/licenses/by-nc/4.0/",
        LicenseFamily.CC_BY_NC,
        Terms(
            permitted_uses=_NC_USES,
            derivatives=True,
            model_weights=ModelWeights.SAME_TERMS,
            raw_redistribution=RawRedistribution.ANY,
            attribution=_BY,
            non_commercial=True,
        ),
        notes=(_CC_NOTE, "No use primarily intended for commercial advantage or monetary compensation."),
    ),
    _open(
        "CC0-1.0",
        "Creative Commons Zero v1.0 Universal",
        "CC0 1.0",
        "https://creativecommons.org/publicdomain/zero/1.0/",
        LicenseFamily.PUBLIC_DOMAIN,
        Terms(
            permitted_uses=_ALL_USES,
            derivatives=True,
            model_weights=ModelWeights.UNRESTRICTED,
            raw_redistribution=RawRedistribution.ANY,
            sublicensing=True,
            transferable=True,
        ),
        notes=("A public-domain dedication: the rights are waived, so no condition applies.",),
        results_unrestricted=True,
    ),
    _open(
        "ODC-By-1.0",
        "Open Data Commons Attribution License v1.0",
        "ODC-By 1.0",
        "https://opendatacommons.org/licenses/by/1-0/",
        LicenseFamily.ODC,
        Terms(
            permitted_uses=_ALL_USES,
            derivatives=True,
            model_weights=ModelWeights.UNRESTRICTED,
            raw_redistribution=RawRedistribution.ANY,
            attribution=_BY,
        ),
        scope=LicenseScope.DATABASE,
        notes=(
            "Covers the database (its selection, arrangement and database rights), not its individual "
            "contents: the contents may carry rights of their own, which must be cleared separately.",
        ),
    ),
    _open(
        "ODbL-1.0",
        "Open Data Commons Open Database License v1.0",
        "ODbL 1.0",
        "https://opendatacommons.org/licenses/odbl/1-0/",
        LicenseFamily.ODC,
        Terms(
            permitted_uses=_ALL_USES,
            derivatives=True,
            model_weights=ModelWeights.UNRESTRICTED,
            raw_redistribution=RawRedistribution.SAME_LICENSE,
            attribution=_BY,
            share_alike=True,
        ),
        scope=LicenseScope.DATABASE,
        notes=(
            "Share-alike applies to the database: a derivative database used publicly must be offered "
            "under the ODbL. Produced works (such as trained models or results) need only a notice.",
            "Covers the database, not its individual contents.",
        ),
    ),
    _open(
        "CDLA-Permissive-2.0",
        "Community Data License Agreement Permissive 2.0",
        "CDLA-Permissive 2.0",
        "https://cdla.dev/permissive-2-0/",
        LicenseFamily.CDLA,
        Terms(
            permitted_uses=_ALL_USES,
            derivatives=True,
            model_weights=ModelWeights.UNRESTRICTED,
            raw_redistribution=RawRedistribution.ANY,
        ),
        notes=(
            "Places no restriction on results: trained models, their weights and outputs are yours.",
            "When sharing the data you must make the license text available with it.",
        ),
        results_unrestricted=True,
    ),
    _open(
        "CDLA-Sharing-1.0",
        "Community Data License Agreement Sharing 1.0",
        "CDLA-Sharing 1.0",
        "https://cdla.dev/sharing-1-0/",
        LicenseFamily.CDLA,
        Terms(
            permitted_uses=_ALL_USES,
            derivatives=True,
            model_weights=ModelWeights.UNRESTRICTED,
            raw_redistribution=RawRedistribution.SAME_LICENSE,
            attribution=_BY,
            share_alike=True,
        ),
        notes=(
            "Share-alike applies to the data (and enhanced data you publish), not to results such as "
            "trained models, which are unrestricted.",
        ),
        results_unrestricted=True,
    ),
    _commercial(
        "standard-commercial",
        "Standard Commercial Data License",
        LicenseFamily.COMMERCIAL,
        _COMMERCIAL_BASE,
    ),
    _commercial(
        "enterprise",
        "Enterprise Data License",
        LicenseFamily.COMMERCIAL,
        _COMMERCIAL_BASE.with_overrides(
            {"raw_redistribution": "affiliates", "transferable": True, "term": "P3Y", "warranty": "rights_and_quality"}
        ),
        notes=("Covers the licensee and its affiliates; transferable on a change of control.",),
    ),
    _commercial(
        "research-only",
        "Research-Only Data License",
        LicenseFamily.RESEARCH_ONLY,
        Terms(
            permitted_uses=frozenset({Use.RESEARCH, Use.EVALUATION, Use.BENCHMARK, Use.TRAIN, Use.FINE_TUNE}),
            derivatives=True,
            model_weights=ModelWeights.RESEARCH_ONLY,
            non_commercial=True,
            term=Duration(years=1),
            attribution=_BY,
            deletion_on_termination=DeletionOnTermination(required=True, days=30, certification=True),
            pii=PIIObligations(no_reidentification=True),
        ),
        notes=("For non-commercial research; publications must cite the dataset.",),
    ),
    _commercial(
        "evaluation-only",
        "Evaluation-Only Data License",
        LicenseFamily.EVALUATION_ONLY,
        Terms(
            permitted_uses=frozenset({Use.EVALUATION, Use.BENCHMARK}),
            derivatives=True,
            term=Duration(days=30),
            seats=5,
            deletion_on_termination=DeletionOnTermination(required=True, days=0, certification=True),
            pii=PIIObligations(no_reidentification=True),
        ),
        notes=("For evaluating the data before a purchase; no training, and the data stays in-house.",),
    ),
    _commercial(
        "custom",
        "Custom Data License",
        LicenseFamily.CUSTOM,
        _COMMERCIAL_BASE,
        notes=("Starts from the standard commercial terms; the offer states the negotiated overrides.",),
    ),
)


class TemplateRegistry:
    """A set of license templates, looked up by id (SPDX ids case-insensitively)."""

    def __init__(self, templates: Iterable[LicenseTemplate] = ()) -> None:
        self._by_key: dict[str, LicenseTemplate] = {}
        for template in templates:
            self.register(template)

    def register(self, template: LicenseTemplate) -> None:
        """Add a template; raise :class:`LicenseIdError` if its id is already registered."""
        key = template.id.lower()
        if key in self._by_key:
            raise LicenseIdError(f"template {template.id} is already registered", "id")
        self._by_key[key] = template

    def find(self, license_id: str) -> LicenseTemplate | None:
        """Return the template with this id, or None."""
        return self._by_key.get(license_id.strip().lower()) if isinstance(license_id, str) else None

    def get(self, license_id: str) -> LicenseTemplate:
        """Return the template with this id; raise :class:`LicenseIdError` naming the id if unknown."""
        template = self.find(license_id)
        if template is None:
            raise LicenseIdError(f"no license template {license_id!r}", "license_id")
        return template

    def all(self) -> tuple[LicenseTemplate, ...]:
        """Return every template, open ones first, in registration order."""
        templates = list(self._by_key.values())
        return tuple([t for t in templates if t.is_open] + [t for t in templates if not t.is_open])

    def family(self, license_id: str) -> LicenseFamily:
        """Return the faceting family of a registered license id."""
        return self.get(license_id).family

    def __contains__(self, license_id: object) -> bool:
        return isinstance(license_id, str) and self.find(license_id) is not None

    def __iter__(self) -> Iterator[LicenseTemplate]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._by_key)


#: The registry of built-in templates used when no other registry is given.
DEFAULT_REGISTRY = TemplateRegistry(BUILTIN_TEMPLATES)


def get_template(license_id: str) -> LicenseTemplate:
    """Return a built-in template by id; raise :class:`LicenseIdError` if unknown."""
    return DEFAULT_REGISTRY.get(license_id)


def list_templates() -> tuple[LicenseTemplate, ...]:
    """Return all built-in templates (open ones first)."""
    return DEFAULT_REGISTRY.all()


def license_family(license_id: str) -> LicenseFamily:
    """Return the faceting family of a built-in license id (e.g. ``cc-by-sa`` for ``CC-BY-SA-4.0``)."""
    return DEFAULT_REGISTRY.family(license_id)
