"""Use check (may this use go ahead under these terms or this grant?) and license compatibility.

:func:`check_use` answers "fine-tune a commercial model in Germany on 1 March" with a
:class:`Decision`: ``allowed``, the blocking ``reasons`` (each a code and a message) and the
``obligations`` that come with an allowed use. :func:`check_compatibility` says whether datasets
under several licenses can be combined into one derived dataset, and with which resulting terms and
obligations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .duration import require_utc
from .errors import LicensingError, TermsError
from .grants import Grant, GrantStatus
from .offers import validate_version_label
from .templates import DEFAULT_REGISTRY, LicenseFamily, LicenseTemplate, TemplateRegistry
from .terms import (
    MODEL_WEIGHTS_ORDER,
    RAW_REDISTRIBUTION_ORDER,
    USE_LABELS,
    WARRANTY_ORDER,
    Attribution,
    DeletionOnTermination,
    Exclusivity,
    ModelWeights,
    PIIObligations,
    RawRedistribution,
    Terms,
    Territory,
    Use,
    country_name,
)


class Action(StrEnum):
    """What a licensee intends to do with the data."""

    TRAIN = "train"
    FINE_TUNE = "fine_tune"
    EVALUATE = "evaluate"
    BENCHMARK = "benchmark"
    RESEARCH = "research"
    RAG = "rag"
    INTERNAL_USE = "internal_use"
    REDISTRIBUTE_RAW = "redistribute_raw"
    DISTRIBUTE_MODEL_WEIGHTS = "distribute_model_weights"
    CREATE_DERIVATIVE = "create_derivative"


_ACTION_USE: dict[Action, Use] = {
    Action.TRAIN: Use.TRAIN,
    Action.FINE_TUNE: Use.FINE_TUNE,
    Action.EVALUATE: Use.EVALUATION,
    Action.BENCHMARK: Use.BENCHMARK,
    Action.RESEARCH: Use.RESEARCH,
    Action.RAG: Use.RAG,
    Action.INTERNAL_USE: Use.INTERNAL_USE,
}


@dataclass(frozen=True)
class IntendedUse:
    """A use to check: the action, whether it is commercial, where, when, and how many seats are in use.

    ``territory`` is an ISO 3166-1 alpha-2 code; ``at`` is needed when checking a grant;
    ``to_affiliates`` says a raw redistribution goes only to affiliates; ``version`` is the dataset
    version used (checked against a grant).
    """

    action: Action
    commercial: bool = False
    territory: str | None = None
    at: datetime | None = None
    seats_in_use: int | None = None
    to_affiliates: bool = False
    version: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "action", Action(self.action))
        except ValueError:
            raise LicensingError(f"unknown action {self.action!r}", "action") from None
        if not isinstance(self.commercial, bool) or not isinstance(self.to_affiliates, bool):
            raise LicensingError("commercial and to_affiliates must be true or false", ("commercial", "to_affiliates"))
        if self.territory is not None:
            try:
                country_name(self.territory)
            except TermsError as exc:
                raise LicensingError(exc.message, "territory") from exc
        if self.at is not None:
            object.__setattr__(self, "at", require_utc(self.at, "at"))
        seats = self.seats_in_use
        if seats is not None and (isinstance(seats, bool) or not isinstance(seats, int) or seats < 0):
            raise LicensingError("seats in use must be a whole number, at least 0", "seats_in_use")
        if self.version is not None:
            validate_version_label(self.version)


@dataclass(frozen=True)
class Reason:
    """A machine-readable ``code`` and a sentence for people."""

    code: str
    message: str


@dataclass(frozen=True)
class Decision:
    """Result of :func:`check_use`: ``allowed`` iff there is no blocking reason."""

    allowed: bool
    reasons: tuple[Reason, ...]
    obligations: tuple[Reason, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the blocking reasons."""
        return tuple(r.code for r in self.reasons)

    def __bool__(self) -> bool:
        return self.allowed


def _grant_reasons(grant: Grant, use: IntendedUse) -> list[Reason]:
    if use.at is None:
        raise LicensingError("a date is needed to check a use against a grant", "at")
    reasons = []
    status = grant.status_at(use.at)
    if status is not GrantStatus.ACTIVE:
        reasons.append(Reason("grant_not_active", f"The license is {status.value.replace('_', ' ')}."))
    if use.at < grant.valid_from:
        reasons.append(Reason("not_yet_valid", "The license is not valid yet on that date."))
    elif grant.valid_until is not None and use.at >= grant.valid_until:
        reasons.append(Reason("expired", "The license has expired by that date."))
    if use.version is not None and not grant.covers_version(use.version):
        reasons.append(Reason("version_not_covered", f"The license does not cover version {use.version}."))
    return reasons


def _action_reasons(terms: Terms, use: IntendedUse) -> list[Reason]:
    reasons: list[Reason] = []
    action = use.action
    uses = terms.permitted_uses
    trains = bool(uses & {Use.TRAIN, Use.FINE_TUNE})
    if action in _ACTION_USE:
        needed = _ACTION_USE[action]
        if needed not in uses:
            reasons.append(Reason("use_not_permitted", f"The license does not permit {USE_LABELS[needed]}."))
    elif action is Action.REDISTRIBUTE_RAW:
        mode = terms.raw_redistribution
        if mode is RawRedistribution.NONE:
            reasons.append(Reason("redistribution_not_permitted", "The license does not allow sharing the data."))
        elif mode is RawRedistribution.AFFILIATES and not use.to_affiliates:
            reasons.append(Reason("redistribution_affiliates_only", "The data may be shared only with affiliates."))
    elif action is Action.DISTRIBUTE_MODEL_WEIGHTS:
        if terms.model_weights is ModelWeights.NONE or not trains:
            reasons.append(
                Reason("model_weights_not_permitted", "The license does not allow distributing trained model weights.")
            )
        elif terms.model_weights is ModelWeights.RESEARCH_ONLY and use.commercial:
            reasons.append(
                Reason("model_weights_research_only", "Trained model weights may be distributed for research only.")
            )
    elif not terms.derivatives:  # Action.CREATE_DERIVATIVE
        reasons.append(Reason("derivatives_not_permitted", "The license does not allow derivative datasets."))
    if use.commercial:
        if terms.non_commercial:
            reasons.append(Reason("non_commercial", "The license allows non-commercial use only."))
        elif action in (Action.TRAIN, Action.FINE_TUNE, Action.DISTRIBUTE_MODEL_WEIGHTS) and (
            Use.MODEL_COMMERCIAL not in uses
        ):
            reasons.append(
                Reason(
                    "commercial_model_not_permitted", "The license does not permit commercial use of trained models."
                )
            )
        elif action is Action.RAG and Use.OUTPUT_COMMERCIAL not in uses:
            reasons.append(
                Reason(
                    "commercial_output_not_permitted", "The license does not permit commercial use of model outputs."
                )
            )
    return reasons


def _obligations(terms: Terms, use: IntendedUse) -> list[Reason]:
    found: list[Reason] = []
    sharing = use.action in (Action.REDISTRIBUTE_RAW, Action.CREATE_DERIVATIVE, Action.DISTRIBUTE_MODEL_WEIGHTS)
    if terms.attribution.required:
        text = f": {terms.attribution.text}" if terms.attribution.text else "."
        found.append(Reason("attribution_required", f"Credit the source{text}"))
    if terms.share_alike and use.action in (Action.REDISTRIBUTE_RAW, Action.CREATE_DERIVATIVE):
        found.append(Reason("share_alike", "Share derivatives only under the same license."))
    if use.action is Action.REDISTRIBUTE_RAW and terms.raw_redistribution is RawRedistribution.SAME_LICENSE:
        found.append(Reason("same_license", "Pass the data on only under this same license."))
    if use.action is Action.DISTRIBUTE_MODEL_WEIGHTS and terms.model_weights is ModelWeights.SAME_TERMS:
        found.append(Reason("same_terms", "Distribute the model weights only under these same terms."))
    if terms.pii.no_reidentification:
        found.append(Reason("no_reidentification", "Do not try to re-identify any person in the data."))
    if terms.pii.dpa_required:
        found.append(Reason("dpa_required", "A data processing agreement must be in place."))
    if terms.deletion_on_termination.required and not sharing:
        found.append(Reason("deletion_on_termination", "Delete the data when the license ends."))
    return found


def check_use(subject: Terms | Grant, use: IntendedUse) -> Decision:
    """Decide whether ``use`` is allowed under ``subject`` (terms, or a grant) and say why.

    With a grant, its status (at ``use.at``), validity window and covered versions count too, and
    ``use.at`` is required. Territory: a use in a country outside the licensed territory is refused;
    so is a use whose country is not given when the territory is limited. Seats: more seats in use
    than the terms allow is refused. Commercial use is refused under non-commercial terms, and
    commercial training or model distribution needs ``model_commercial`` (commercial RAG needs
    ``output_commercial``). An allowed decision lists the obligations that come with the use.
    """
    reasons: list[Reason] = []
    if isinstance(subject, Grant):
        terms = subject.terms
        reasons.extend(_grant_reasons(subject, use))
    else:
        terms = subject
    reasons.extend(_action_reasons(terms, use))
    if not terms.territory.is_worldwide:
        if use.territory is None:
            reasons.append(
                Reason("territory_unknown", f"The license applies only in {terms.territory.describe()}: say where.")
            )
        elif not terms.territory.includes(use.territory):
            reasons.append(
                Reason("territory_not_covered", f"The license does not apply in {country_name(use.territory)}.")
            )
    if terms.seats is not None and use.seats_in_use is not None and use.seats_in_use > terms.seats:
        reasons.append(
            Reason("seats_exceeded", f"{use.seats_in_use} seats are in use; the license allows {terms.seats}.")
        )
    allowed = not reasons
    return Decision(allowed, tuple(reasons), tuple(_obligations(terms, use)) if allowed else ())


# --------------------------------------------------------------------------- compatibility


@dataclass(frozen=True)
class Compatibility:
    """Result of :func:`check_compatibility`.

    ``compatible`` with the ``terms`` a derived dataset would carry (the most restrictive combination)
    and ``result_license`` when a share-alike license forces one; or not compatible, with ``reasons``.
    ``obligations`` lists what the combination requires (attribution for each source that needs it,
    share-alike, non-commercial, restricted uses).
    """

    compatible: bool
    reasons: tuple[Reason, ...]
    obligations: tuple[Reason, ...]
    result_license: str | None
    terms: Terms | None
    attribution_required_for: tuple[str, ...]

    def __bool__(self) -> bool:
        return self.compatible


@dataclass(frozen=True)
class _Input:
    label: str
    terms: Terms
    template: LicenseTemplate | None


def _resolve(items: Sequence[str | LicenseTemplate | Terms], registry: TemplateRegistry) -> list[_Input]:
    resolved = []
    for index, item in enumerate(items):
        if isinstance(item, Terms):
            resolved.append(_Input(f"input {index + 1} (terms {item.terms_hash[:12]})", item, None))
        else:
            template = item if isinstance(item, LicenseTemplate) else registry.get(item)
            resolved.append(_Input(template.id, template.terms, template))
    return resolved


def _share_alike_conflicts(sa: _Input, other: _Input) -> list[str]:
    s, o = sa.terms, other.terms
    problems = []
    if o.non_commercial and not s.non_commercial:
        problems.append("it is non-commercial")
    missing = s.permitted_uses - o.permitted_uses
    if missing and not o.non_commercial:
        problems.append("it does not permit " + ", ".join(sorted(u.value for u in missing)))
    if o.raw_redistribution in (RawRedistribution.NONE, RawRedistribution.AFFILIATES):
        problems.append("it does not allow sharing the data")
    if not o.territory.covers(s.territory):
        problems.append("it applies in a narrower territory")
    if o.term is not None and s.term is None:
        problems.append("it is limited in time")
    return problems


def _merge(inputs: list[_Input]) -> Terms:
    ts = [i.terms for i in inputs]
    territory: Territory | None = Territory.worldwide()
    for t in ts:
        territory = None if territory is None else territory.intersection(t.territory)
    if territory is None:
        raise TermsError("the licenses share no territory", "territory")
    terms_limited = [t.term for t in ts if t.term is not None]
    seats = [t.seats for t in ts if t.seats is not None]
    downloads = [t.download_limit for t in ts if t.download_limit is not None]
    texts = [t.attribution.text for t in ts if t.attribution.text]
    deletions = [t.deletion_on_termination for t in ts if t.deletion_on_termination.required]
    deletion_days = [d.days for d in deletions if d.days is not None]
    laws = {t.governing_law for t in ts}
    uses = frozenset.intersection(*(t.permitted_uses for t in ts))
    return Terms(
        permitted_uses=uses,
        derivatives=all(t.derivatives for t in ts),
        model_weights=MODEL_WEIGHTS_ORDER[min(MODEL_WEIGHTS_ORDER.index(t.model_weights) for t in ts)],
        raw_redistribution=RAW_REDISTRIBUTION_ORDER[
            min(RAW_REDISTRIBUTION_ORDER.index(t.raw_redistribution) for t in ts)
        ],
        sublicensing=all(t.sublicensing for t in ts),
        transferable=all(t.transferable for t in ts),
        exclusivity=Exclusivity.NONE,
        territory=territory,
        term=min(terms_limited, key=lambda d: d.approximate_days()) if terms_limited else None,
        seats=min(seats) if seats else None,
        download_limit=min(downloads) if downloads else None,
        attribution=Attribution(
            required=any(t.attribution.required for t in ts), text="; ".join(texts) if texts else None
        ),
        share_alike=any(t.share_alike for t in ts),
        non_commercial=any(t.non_commercial for t in ts),
        deletion_on_termination=DeletionOnTermination(
            required=bool(deletions),
            days=min(deletion_days) if deletion_days else None,
            certification=any(d.certification for d in deletions),
        ),
        pii=PIIObligations(
            no_reidentification=any(t.pii.no_reidentification for t in ts),
            dpa_required=any(t.pii.dpa_required for t in ts),
        ),
        warranty=WARRANTY_ORDER[min(WARRANTY_ORDER.index(t.warranty) for t in ts)],
        liability_cap=None,
        governing_law=laws.pop() if len(laws) == 1 else None,
    )


def check_compatibility(
    items: Sequence[str | LicenseTemplate | Terms], registry: TemplateRegistry = DEFAULT_REGISTRY
) -> Compatibility:
    """Say whether datasets under ``items`` (license ids, templates or terms) can form one derived dataset.

    Incompatible when: a source forbids derivatives; two different share-alike licenses meet (e.g.
    CC-BY-SA-4.0 with ODbL-1.0); a share-alike license meets a source whose limits it cannot carry
    (non-commercial, narrower uses, no sharing, narrower territory, limited time — e.g. CC-BY-SA-4.0
    with CC-BY-NC-4.0); or the combined terms contradict each other (e.g. no common territory).
    Otherwise the result carries the most restrictive combination of the terms: attribution to every
    source that needs it, share-alike forcing the result license, non-commercial if any source is,
    and the permitted uses common to all (so research-only or evaluation-only limits are carried).
    """
    if not items:
        raise LicensingError("give at least one license", "licenses")
    inputs = _resolve(items, registry)
    reasons: list[Reason] = []
    for item in inputs:
        if not item.terms.derivatives:
            reasons.append(Reason("derivatives_not_permitted", f"{item.label} does not allow derivative datasets."))
    share_alike: dict[str, _Input] = {}
    for item in inputs:
        if item.terms.share_alike:
            share_alike.setdefault(item.template.id if item.template else item.terms.terms_hash, item)
    if len(share_alike) > 1:
        names = " and ".join(i.label for i in share_alike.values())
        reasons.append(Reason("share_alike_conflict", f"{names} each require derivatives under their own license."))
    elif share_alike:
        (sa,) = share_alike.values()
        for other in inputs:
            if other.terms.share_alike:
                continue
            for problem in _share_alike_conflicts(sa, other):
                reasons.append(
                    Reason(
                        "share_alike_conflict",
                        f"{sa.label} requires the result under its own terms, but {other.label}: {problem}.",
                    )
                )
    merged: Terms | None = None
    if not reasons:
        try:
            merged = _merge(inputs)
        except TermsError as exc:
            reasons.append(Reason("conflicting_terms", f"The combined terms contradict each other: {exc}."))
    if reasons or merged is None:
        return Compatibility(False, tuple(reasons), (), None, None, ())
    attributed = tuple(dict.fromkeys(i.label for i in inputs if i.terms.attribution.required))
    obligations = [Reason("attribution_required", f"Credit {label}.") for label in attributed]
    result_license = None
    if share_alike:
        (sa,) = share_alike.values()
        result_license = sa.template.id if sa.template else None
        obligations.append(Reason("share_alike", f"Share the derived dataset only under {sa.label}."))
    if merged.non_commercial:
        obligations.append(Reason("non_commercial", "The derived dataset may be used non-commercially only."))
    all_uses = frozenset.union(*(i.terms.permitted_uses for i in inputs))
    if merged.permitted_uses != all_uses:
        carried = [
            i.label
            for i in inputs
            if i.template is not None
            and i.template.family in (LicenseFamily.RESEARCH_ONLY, LicenseFamily.EVALUATION_ONLY)
        ]
        origin = f" (carried from {', '.join(carried)})" if carried else ""
        obligations.append(
            Reason(
                "restricted_uses",
                "The derived dataset may be used only for: "
                + ", ".join(USE_LABELS[u] for u in Use if u in merged.permitted_uses)
                + origin
                + ".",
            )
        )
    return Compatibility(True, (), tuple(obligations), result_license, merged, attributed)
