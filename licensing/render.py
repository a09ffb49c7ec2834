"""Rendering a grant: the full license document (HTML and plain text) and an ODRL 2.2 Agreement.

The documents list the parties, the dataset and versions, every term with its plain-language line,
the validity window and status, and the certificate id and terms hash. All values are escaped in
HTML. :func:`to_odrl` expresses the terms as an ODRL 2.2 JSON-LD ``Agreement``: permissions,
prohibitions and duties, with constraints for territory (``spatial``), validity (``dateTime``) and
counts (``count``). AI-specific actions are defined in our own ODRL profile namespace.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from .duration import format_datetime
from .grants import Grant
from .templates import DEFAULT_REGISTRY, TemplateRegistry
from .terms import FIELD_LABELS, ModelWeights, RawRedistribution, Terms, Use

ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
PROFILE = "urn:dataset-marketplace:odrl:profile:1"
NAMESPACE = "urn:dataset-marketplace:odrl:"

_ODRL_USE_ACTIONS: dict[Use, str] = {
    Use.RESEARCH: "dm:research",
    Use.EVALUATION: "dm:evaluate",
    Use.BENCHMARK: "dm:benchmark",
    Use.INTERNAL_USE: "dm:internalUse",
    Use.TRAIN: "dm:train",
    Use.FINE_TUNE: "dm:fineTune",
    Use.RAG: "dm:retrievalAugmentedGeneration",
    Use.OUTPUT_COMMERCIAL: "dm:commercialiseOutput",
    Use.MODEL_COMMERCIAL: "dm:commercialiseModel",
}


def _rows(
    grant: Grant, certificate_id: str | None, registry: TemplateRegistry
) -> list[tuple[str, list[tuple[str, str]]]]:
    template = registry.find(grant.license_id)
    license_name = f"{template.name} ({grant.license_id})" if template else grant.license_id
    versions = ", ".join(grant.versions) + (
        " and every version published during the term" if grant.all_versions else ""
    )
    until = "no end (perpetual)" if grant.valid_until is None else format_datetime(grant.valid_until)
    parties = [("Licensor", grant.licensor), ("Licensee", grant.licensee)]
    dataset = [
        ("Dataset", grant.dataset_id + (f" ({grant.dataset_slug})" if grant.dataset_slug else "")),
        ("Versions", versions),
        ("Manifest digest", grant.manifest_digest),
    ]
    license_rows = [("License", license_name)]
    if template:
        license_rows.append(("License text", template.url))
    license_rows.append(("Price paid", grant.price_paid.format()))
    if grant.payment_reference:
        license_rows.append(("Payment reference", grant.payment_reference))
    validity = [
        ("Issued", format_datetime(grant.issued_at)),
        ("Valid from", format_datetime(grant.valid_from)),
        ("Valid until", until),
        ("Status", grant.status.value.replace("_", " ")),
    ]
    lines = grant.terms.plain_language_by_field()
    terms = [(FIELD_LABELS[name], line) for name, line in lines.items()]
    certificate = [("Certificate id", certificate_id or grant.id), ("Terms hash (SHA-256)", grant.terms_hash)]
    return [
        ("Parties", parties),
        ("Dataset", dataset),
        ("License", license_rows),
        ("Validity", validity),
        ("Terms", terms),
        ("Certificate", certificate),
    ]


def render_text(
    grant: Grant, *, certificate_id: str | None = None, registry: TemplateRegistry = DEFAULT_REGISTRY
) -> str:
    """Return the grant's full license document as plain text (one ``Label: value`` line per item)."""
    out = [f"LICENSE {grant.id}", ""]
    for section, rows in _rows(grant, certificate_id, registry):
        out.append(section.upper())
        out.extend(f"  {label}: {value}" for label, value in rows)
        out.append("")
    return "\n".join(out)


def render_html(
    grant: Grant, *, certificate_id: str | None = None, registry: TemplateRegistry = DEFAULT_REGISTRY
) -> str:
    """Return the grant's full license document as an HTML fragment (an ``<article>``), every value escaped."""
    e = html.escape
    out = [f'<article class="license-document" id="license-{e(grant.id)}">', f"<h1>License {e(grant.id)}</h1>"]
    for section, rows in _rows(grant, certificate_id, registry):
        out.append(f"<section><h2>{e(section)}</h2><dl>")
        out.extend(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in rows)
        out.append("</dl></section>")
    out.append("</article>")
    return "\n".join(out)


def _constraint(left: str, operator: str, right: Any) -> dict[str, Any]:
    return {"leftOperand": left, "operator": operator, "rightOperand": right}


def _shared_constraints(terms: Terms, valid_from: str | None, valid_until: str | None) -> list[dict[str, Any]]:
    """The constraints every permission carries: territory, validity window, non-commercial purpose."""
    constraints: list[dict[str, Any]] = []
    if not terms.territory.is_worldwide:
        constraints.append(_constraint("spatial", "isAnyOf", list(terms.territory.countries or ())))
    if valid_from:
        constraints.append(_constraint("dateTime", "gteq", {"@value": valid_from, "@type": "xsd:dateTime"}))
    if valid_until:
        constraints.append(_constraint("dateTime", "lt", {"@value": valid_until, "@type": "xsd:dateTime"}))
    if terms.non_commercial:
        constraints.append(_constraint("purpose", "isNoneOf", ["dm:commercial"]))
    return constraints


def _shared_duties(terms: Terms) -> list[dict[str, Any]]:
    """The duties every permission carries: attribution, a data processing agreement."""
    duties: list[dict[str, Any]] = []
    if terms.attribution.required:
        duty: dict[str, Any] = {"action": "attribute"}
        if terms.attribution.text:
            duty["dm:attributionText"] = terms.attribution.text
        duties.append(duty)
    if terms.pii.dpa_required:
        duties.append({"action": "dm:signDataProcessingAgreement"})
    return duties


@dataclass
class _Rules:
    """The permissions and prohibitions of one policy, in the order they are added."""

    target: str
    constraints: list[dict[str, Any]]
    duties: list[dict[str, Any]]
    permissions: list[dict[str, Any]] = field(default_factory=list)
    prohibitions: list[dict[str, Any]] = field(default_factory=list)

    def permit(
        self, action: str, extra: list[dict[str, Any]] | None = None, more: list[dict[str, Any]] | None = None
    ) -> None:
        """Permit ``action`` under the shared constraints and duties plus ``extra`` constraints, ``more`` duties."""
        rule: dict[str, Any] = {"target": self.target, "action": action}
        if self.constraints or extra:
            rule["constraint"] = self.constraints + (extra or [])
        if self.duties or more:
            rule["duty"] = self.duties + (more or [])
        self.permissions.append(rule)

    def prohibit(self, action: str) -> None:
        self.prohibitions.append({"target": self.target, "action": action})

    def permit_or_prohibit(self, allowed: bool, action: str) -> None:
        if allowed:
            self.permit(action)
        else:
            self.prohibit(action)


def _use_rules(rules: _Rules, terms: Terms) -> None:
    seats = [_constraint("dm:seats", "lteq", terms.seats)] if terms.seats is not None else []
    rules.permit("use", seats)
    for use in Use:
        if use in terms.permitted_uses:
            rules.permit(_ODRL_USE_ACTIONS[use], seats)
    if terms.download_limit is not None:
        rules.permit("reproduce", [_constraint("count", "lteq", terms.download_limit)])
    for use in Use:
        if use not in terms.permitted_uses:
            rules.prohibit(_ODRL_USE_ACTIONS[use])


def _sharing_rules(rules: _Rules, terms: Terms) -> None:
    share_alike = [{"action": "dm:shareAlike"}] if terms.share_alike else []
    if terms.derivatives:
        rules.permit("derive", None, share_alike)
    else:
        rules.prohibit("derive")
    if terms.raw_redistribution is RawRedistribution.NONE:
        rules.prohibit("distribute")
    else:
        affiliates = terms.raw_redistribution is RawRedistribution.AFFILIATES
        extra = [_constraint("recipient", "isA", "dm:affiliate")] if affiliates else []
        same = [{"action": "dm:sameLicense"}] if terms.raw_redistribution is RawRedistribution.SAME_LICENSE else []
        rules.permit("distribute", extra, same + share_alike)
    if terms.model_weights is ModelWeights.NONE:
        rules.prohibit("dm:distributeModelWeights")
    else:
        research = terms.model_weights is ModelWeights.RESEARCH_ONLY
        extra = [_constraint("purpose", "eq", "dm:research")] if research else []
        same = [{"action": "dm:sameTerms"}] if terms.model_weights is ModelWeights.SAME_TERMS else []
        rules.permit("dm:distributeModelWeights", extra, same)


def _rights_rules(rules: _Rules, terms: Terms) -> None:
    rules.permit_or_prohibit(terms.sublicensing, "grantUse")
    rules.permit_or_prohibit(terms.transferable, "transfer")
    if terms.non_commercial:
        rules.prohibit("commercialize")
    if terms.pii.no_reidentification:
        rules.prohibit("dm:reidentify")


def _deletion_obligation(terms: Terms, target: str, assignee: str | None) -> dict[str, Any] | None:
    deletion = terms.deletion_on_termination
    if not deletion.required:
        return None
    obligation: dict[str, Any] = {"action": "delete", "target": target, "assignee": assignee}
    if deletion.days is not None:
        obligation["constraint"] = [
            _constraint("elapsedTime", "lteq", {"@value": f"P{deletion.days}D", "@type": "xsd:duration"})
        ]
    if deletion.certification:
        obligation["consequence"] = [{"action": "dm:certifyDeletion"}]
    return {k: v for k, v in obligation.items() if v is not None}


def terms_to_odrl(
    terms: Terms,
    *,
    uid: str,
    target: str,
    assigner: str | None = None,
    assignee: str | None = None,
    valid_from: str | None = None,
    valid_until: str | None = None,
) -> dict[str, Any]:
    """Return the terms as an ODRL 2.2 JSON-LD ``Agreement`` (``Set`` when there are no parties).

    Every permission carries the shared constraints (territory as ``spatial``/``isAnyOf``, the
    validity window as ``dateTime`` ``gteq``/``lt``, commercial purpose excluded for non-commercial
    terms) and duties (attribution). Seats and downloads become ``count`` constraints.
    """
    rules = _Rules(target, _shared_constraints(terms, valid_from, valid_until), _shared_duties(terms))
    _use_rules(rules, terms)
    _sharing_rules(rules, terms)
    _rights_rules(rules, terms)
    policy: dict[str, Any] = {
        "@context": [ODRL_CONTEXT, {"dm": NAMESPACE}],
        "@type": "Agreement" if assigner and assignee else "Set",
        "uid": uid,
        "profile": PROFILE,
        "permission": rules.permissions,
        "prohibition": rules.prohibitions,
    }
    if assigner and assignee:
        policy["assigner"] = assigner
        policy["assignee"] = assignee
    obligation = _deletion_obligation(terms, target, assignee)
    if obligation is not None:
        policy["obligation"] = [obligation]
    return policy


def to_odrl(grant: Grant, *, base_uri: str = "urn:dataset-marketplace:") -> dict[str, Any]:
    """Return the grant's terms as an ODRL 2.2 JSON-LD ``Agreement`` between licensor and licensee.

    The target is the dataset (and version when one version is granted); the validity window
    becomes ``dateTime`` constraints on every permission.
    """
    version = "" if grant.all_versions or len(grant.versions) != 1 else f":{grant.versions[0]}"
    return terms_to_odrl(
        grant.terms,
        uid=f"{base_uri}license:{grant.id}",
        target=f"{base_uri}dataset:{grant.dataset_id}{version}",
        assigner=f"{base_uri}party:{grant.licensor}",
        assignee=f"{base_uri}party:{grant.licensee}",
        valid_from=format_datetime(grant.valid_from),
        valid_until=None if grant.valid_until is None else format_datetime(grant.valid_until),
    )
