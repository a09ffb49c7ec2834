"""The documentation pack as a PDF, laid out with ReportLab (a real PDF library; nothing is drawn by hand).

Text is set in DejaVu Sans, vendored under ``fonts/`` with its licence (``LICENSE-DejaVu.txt``), so Latin,
Greek and Cyrillic text written by providers prints as typed, and nothing is fetched at run time. The PDF shows
the same parts, in the same order, as the JSON (:meth:`marketplace.aiact.services.Pack.to_dict`).
"""

from __future__ import annotations

import functools
import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from marketplace.aiact.pack import PARTS, PREPARATION_OPERATIONS
from marketplace.pdffonts import BOLD, REGULAR, register_fonts

NOT_GIVEN = "Not given."


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=13, spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=16, leading=20, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=12, leading=15, spaceBefore=10),
        "label": ParagraphStyle("label", parent=body, fontName=BOLD),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.HexColor("#444444")),
    }


def _p(text: Any, style: str = "body", *, blank: str = NOT_GIVEN) -> Paragraph:
    """A paragraph of untrusted text: escaped (ReportLab reads a little markup), line breaks kept; ``blank`` when
    there is no text."""
    shown = blank if text in (None, "", []) else str(text)
    return Paragraph(escape(shown).replace("\n", "<br/>"), _styles()[style])


def _field(label: str, value: Any) -> list[Paragraph]:
    return [_p(label, "label"), _p(value)]


def _table(header: list[str], rows: list[list[Any]]) -> Table | Paragraph:
    if not rows:
        return _p(NOT_GIVEN)
    data = [[_p(h, "label") for h in header]] + [[_p(cell, blank="") for cell in row] for row in rows]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _names(items: list[dict[str, Any]], key: str = "name") -> str:
    return ", ".join(str(item[key]) for item in items)


def _part(key: str, pack: dict[str, Any]) -> list[Any]:
    """The flowables of one part of the pack."""
    if key == "design_choices":
        return [_p(pack["design_choices"])]
    if key == "collection":
        c = pack["collection"]
        period = f"{c['period_start'] or '?'} to {c['period_end'] or '?'}"
        flow = _field("Collection processes", c["processes"]) + _field("Collection methods", ", ".join(c["methods"]))
        flow += _field("Collection period", period) + _field("Origin", c["origin"])
        flow += _field("Countries of origin", _names(c["countries"]))
        if c["personal_data"] == "yes":
            flow += _field("Original purpose of the personal data", c["original_purpose"])
        return flow
    if key == "preparation":
        rows = [[op.capitalize(), pack["preparation"][op]] for op in PREPARATION_OPERATIONS if pack["preparation"][op]]
        return [_table(["Operation", "What was done"], rows)]
    if key == "assumptions":
        return [_p(pack["assumptions"])]
    if key == "suitability":
        return _suitability(pack["suitability"])
    if key == "bias":
        b = pack["bias"]
        flow = _field("Examination", b["examination"]) + _field("Mitigation", b["mitigation"])
        return flow + _field("Reviewed by", f"{b['reviewer'] or '?'}, on {b['reviewed_on'] or '?'}")
    if key == "gaps":
        return _field("Identified gaps and shortcomings", pack["gaps"]["identified"]) + _field(
            "How they are addressed", pack["gaps"]["how_addressed"]
        )
    if key == "special_categories":
        return _special(pack["special_categories"])
    if key == "provenance":
        return _provenance(pack["provenance"])
    if key == "manifest":
        v = pack["version"]
        return _field("Manifest digest (SHA-256)", v["manifest_digest"]) + _field(
            "Files", f"{v['file_count']:,} files, {v['total_bytes']:,} bytes"
        )
    return _license_terms(pack["license_terms"])


def _suitability(s: dict[str, Any]) -> list[Any]:
    stats = s["statistics"]
    records = "not given" if stats["records"] is None else f"{stats['records']:,}"
    flow: list[Any] = _field("Suitability", s["description"])
    flow += _field("Quantity", f"{records} records in {stats['files']:,} files ({stats['bytes']:,} bytes)")
    flow += _field("Languages", _names(stats["languages"])) + _field("Countries", _names(stats["countries"]))
    rows = [
        [g["dimension"], g["group"], "" if g.get("share_pct") is None else f"{g['share_pct']:g} %", g.get("count")]
        for g in stats["groups"]
    ]
    return [*flow, _p("Distribution across groups", "label"), _table(["Dimension", "Group", "Share", "Count"], rows)]


def _special(s: dict[str, Any]) -> list[Any]:
    flow = _field("Personal data", s["personal_data"])
    flow += _field("Special categories", _names(s["categories"]) or "None.")
    flow += _field("De-identification", _names(s["deidentification"]))
    flow += _field("Lawful basis", s["lawful_basis"]["name"] if s["lawful_basis"] else None)
    answers = {True: "yes", False: "no", None: "not stated"}
    flow += _field(
        "Consent obtained; opt-outs honoured",
        f"{answers[s['consent_obtained']]}; {answers[s['opt_out_honoured']]}",
    )
    return flow + _field("Safeguards and notes", s["notes"])


def _provenance(p: dict[str, Any]) -> list[Any]:
    sources = [[s["name"], s["license"], s.get("url") or ""] for s in p["sources"]]
    parents = [[d["title"], d.get("slug") or "", d.get("url") or ""] for d in p["parent_datasets"]]
    flow: list[Any] = [_p("Sources", "label"), _table(["Source", "License (SPDX)", "URL"], sources)]
    if parents:
        flow += [_p("Parent datasets", "label"), _table(["Dataset", "Listed here as", "URL"], parents)]
    return flow


def _license_terms(offers: list[dict[str, Any]]) -> list[Any]:
    if not offers:
        return [_p(NOT_GIVEN)]
    flow: list[Any] = []
    for offer in offers:
        flow.append(_p(f"{offer['offer']} ({offer['license_id']}; covers {offer['versions']})", "label"))
        flow.extend(_p(f"• {line}") for line in offer["lines"])
    return flow


def render_pdf(pack: dict[str, Any]) -> bytes:
    """The PDF of a pack as :meth:`~marketplace.aiact.services.Pack.to_dict` returns it."""
    dataset, version = pack["dataset"], pack["version"]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"EU AI Act Article 10 documentation: {dataset['title']} {version['label']}",
        author=dataset["provider"],
    )
    story: list[Any] = [
        _p("EU AI Act Article 10 documentation", "title"),
        _p(f"{dataset['title']}, version {version['label']}, by {dataset['provider']}"),
        _p(f"Published {version['published_at'] or 'not yet'}. Pack format {pack['format']}.", "small"),
        *_status(pack),
    ]
    for number, (key, title, article) in enumerate(PARTS, start=1):
        story.append(_p(f"{number}. {title}", "h2"))
        story.append(_p(article, "small"))
        story.extend(_part(key, pack))
    document.build(story)
    return buffer.getvalue()


def _status(pack: dict[str, Any]) -> list[Any]:
    signed = pack["sign_off"]
    if pack["complete"] and signed:
        line = f"AI Act documentation complete. Signed off by {signed['name']}"
        line += f" ({signed['role']})" if signed["role"] else ""
        return [
            Spacer(1, 4),
            _p(f"{line} on {signed['signed_at']}.", "label"),
            _p(f"Content digest (SHA-256): {signed['content_digest']}", "small"),
        ]
    missing = [_p(f"• {m['title']}: {m['message']}") for m in pack["missing"]]
    return [Spacer(1, 4), _p("Not complete: this pack is a draft. Still missing:", "label"), *missing]
