"""An invoice or a credit note as a PDF, laid out with ReportLab from the document's snapshot alone.

Nothing is read from the database here: what was frozen at issue is what prints. Amounts are integer minor units
in the snapshot and shown in major units with the currency's symbol (``€1,250.00``); times are UTC.
"""

from __future__ import annotations

import functools
import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

import licensing
from marketplace.pdffonts import register_fonts


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = register_fonts()
    body = ParagraphStyle("invoice-body", fontName=regular, fontSize=9, leading=12)
    return {
        "title": ParagraphStyle("invoice-title", parent=body, fontName=bold, fontSize=16, leading=20, spaceAfter=4),
        "label": ParagraphStyle("invoice-label", parent=body, fontName=bold),
        "body": body,
        "right": ParagraphStyle("invoice-right", parent=body, alignment=2),
        "right-bold": ParagraphStyle("invoice-right-bold", parent=body, fontName=bold, alignment=2),
        "small": ParagraphStyle("invoice-small", parent=body, fontSize=7.5, leading=10, textColor=colors.grey),
    }


def _p(text: Any, style: str = "body") -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), _styles()[style])


def _money(amount: int, currency: str) -> str:
    return licensing.Money(int(amount), currency).format()


def _utc(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC") if iso else "—"


def _party(title: str, who: dict[str, str]) -> list[Paragraph]:
    """A party's block: its name, then its legal name, address, tax id and e-mail, each only when given."""
    rows = [_p(title, "label"), _p(who["name"])]
    if who.get("billing_name") and who["billing_name"] != who["name"]:
        rows.append(_p(who["billing_name"]))
    if who.get("address"):
        rows.append(_p(who["address"]))
    if who.get("tax_id"):
        rows.append(_p(f"Tax ID: {who['tax_id']}"))
    if who.get("email"):
        rows.append(_p(who["email"]))
    return rows


def _parties(doc: dict[str, Any]) -> Table:
    sellers: list[Flowable] = []
    title = "Seller" if len(doc["sellers"]) == 1 else "Sellers"
    for index, seller in enumerate(doc["sellers"]):
        if index:
            sellers.append(Spacer(1, 2 * mm))
        sellers += _party(title, seller)[0 if index == 0 else 1 :]
    table = Table([[sellers, _party("Buyer", doc["buyer"])]], colWidths=[90 * mm, 80 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _heading(doc: dict[str, Any], number: str) -> list[Flowable]:
    credit = "credit" in doc
    facts = [
        ["Credit note number" if credit else "Invoice number", number],
        ["Issue date", _utc(doc["issued_at"])],
        ["Order", doc["order"]["reference"]],
        ["Paid on", _utc(doc["order"]["paid_at"])],
        ["Currency", doc["currency"]],
    ]
    if credit:
        facts.insert(1, ["Credits invoice", doc["refers_to"]])
    table = Table([[_p(k, "label"), _p(v)] for k, v in facts], colWidths=[40 * mm, 80 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    return [
        _p("Credit note" if credit else "Invoice", "title"),
        _p(f"Issued by {doc['issuer']} on behalf of the seller(s) named below.", "small"),
        Spacer(1, 3 * mm),
        table,
    ]


_HEADER = ["Dataset", "Offer", "Term", "Seats", "Unit price", "Qty", "Amount"]
_WIDTHS = [38 * mm, 34 * mm, 20 * mm, 16 * mm, 24 * mm, 12 * mm, 26 * mm]


def _lines(doc: dict[str, Any]) -> Table:
    currency = doc["currency"]
    rows: list[list[Any]] = [[_p(h, "label") for h in _HEADER]]
    for line in doc["lines"]:
        rows.append(
            [
                _p(f"{line['dataset']}\nby {line['seller']}"),
                _p(f"{line['offer']}\n{line['license']}"),
                _p(line["term"]),
                _p(line["seats"]),
                _p(_money(line["unit_price"], currency), "right"),
                _p(line["quantity"], "right"),
                _p(_money(line["amount"], currency), "right"),
            ]
        )
    table = Table(rows, colWidths=_WIDTHS, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _totals(doc: dict[str, Any]) -> Table:
    currency, totals = doc["currency"], doc["totals"]
    rows = [
        ["Subtotal", _money(totals["subtotal"], currency)],
        ["Total paid", _money(totals["total"], currency)],
        ["of which marketplace commission (kept from the sellers' share)", _money(totals["platform_fee"], currency)],
    ]
    if "credit" in doc:
        credit = doc["credit"]
        rows += [
            ["Credited by this note", "-" + _money(credit["amount"], currency)],
            ["Refunded on this order in all", _money(credit["refunded_total"], currency)],
        ]
    data = [[_p(k, "right-bold" if i in (1, 3) else "right"), _p(v, "right")] for i, (k, v) in enumerate(rows)]
    table = Table(data, colWidths=[120 * mm, 48 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("LINEABOVE", (0, 1), (-1, 1), 0.6, colors.black)]))
    return table


def render_document(doc: dict[str, Any], number: str) -> bytes:
    """The PDF of an invoice (or, when ``doc`` has a ``credit`` part, a credit note) numbered ``number``."""
    buffer = io.BytesIO()
    title = f"{'Credit note' if 'credit' in doc else 'Invoice'} {number}"
    pdf = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, author=doc["issuer"], leftMargin=18 * mm, rightMargin=18 * mm,
        topMargin=18 * mm, bottomMargin=18 * mm,
    )  # fmt: skip
    story: list[Flowable] = [*_heading(doc, number), Spacer(1, 6 * mm), _parties(doc), Spacer(1, 6 * mm)]
    story += [_lines(doc), Spacer(1, 4 * mm), _totals(doc)]
    if "credit" in doc:
        story += [Spacer(1, 4 * mm), _p(f"Reason: {doc['reason']}")]
    story += [Spacer(1, 6 * mm), _p(f"All amounts in {doc['currency']}; times in UTC.", "small")]
    pdf.build(story)
    return buffer.getvalue()
