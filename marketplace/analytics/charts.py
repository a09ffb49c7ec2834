"""The analytics page's charts as SVG written on the server: no script, no library, nothing fetched from a CDN.

Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and described by its ``<desc>`` (which states the
figures in words); the page also shows the same figures as a table. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["SERIES", "bar_chart", "line_chart"]

#: The funnel's series: field name, label, CSS class (the stylesheet gives each its colour and dash pattern).
SERIES = (
    ("listing_views", "Listing views", "s1"),
    ("offer_views", "Offer views", "s2"),
    ("checkouts", "Checkouts", "s3"),
    ("sales", "Sales", "s4"),
)


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="an-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]


def line_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    width: int = 760,
    height: int = 240,
) -> Markup:
    """One line per ``(label, css class, values)`` over the x ``labels``, with a legend, the peak and the first and
    last labels written out; the ``<desc>`` gives each series' total."""
    if not labels:
        return Markup("")
    peak = max((max(values, default=0) for _name, _cls, values in series), default=0)
    scale = peak or 1
    left, right, top, bottom = 40, 10, 30, 24
    inner_w, inner_h = width - left - right, height - top - bottom
    step = inner_w / max(len(labels) - 1, 1)
    totals = ", ".join(f"{name}: {sum(values)}" for name, _cls, values in series)
    parts = _open(chart_id, title, f"{labels[0]} to {labels[-1]}. Totals: {totals}.", width, height)
    parts += [
        f'<line class="an-axis" x1="{left}" y1="{top + inner_h}" x2="{width - right}" y2="{top + inner_h}"/>',
        f'<text class="an-label" x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text class="an-label" x="{left - 4}" y="{top + inner_h}" text-anchor="end">0</text>',
    ]
    for index, (name, css, values) in enumerate(series):
        points = " ".join(
            f"{round(left + i * step, 1)},{round(top + inner_h - inner_h * v / scale, 1)}" for i, v in enumerate(values)
        )
        parts.append(f'<polyline class="an-line {css}" points="{points}" data-series="{escape(name)}"/>')
        x = left + index * 170
        parts.append(f'<line class="an-line {css}" x1="{x}" y1="12" x2="{x + 18}" y2="12"/>')
        parts.append(f'<text class="an-label" x="{x + 22}" y="16">{escape(name)}</text>')
    parts.append(f'<text class="an-label" x="{left}" y="{height - 6}">{escape(labels[0])}</text>')
    parts.append(
        f'<text class="an-label" x="{width - right}" y="{height - 6}" text-anchor="end">{escape(labels[-1])}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, int, str]], *, width: int = 760) -> Markup:
    """A horizontal bar per ``(label, value, value as shown)``, longest first as given; the ``<desc>`` lists them."""
    if not bars:
        return Markup("")
    row, label_w, value_w, top = 26, 220, 130, 6
    height = top * 2 + row * len(bars)
    peak = max(value for _label, value, _shown in bars) or 1
    inner_w = width - label_w - value_w
    desc = "; ".join(f"{label}: {shown}" for label, _value, shown in bars)
    parts = _open(chart_id, title, desc + ".", width, height)
    for index, (label, value, shown) in enumerate(bars):
        y = top + index * row
        bar_w = round(inner_w * value / peak, 1)
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(f'<text class="an-label" x="{label_w - 6}" y="{y + 17}" text-anchor="end">{escape(short)}</text>')
        parts.append(
            f'<rect class="an-bar" x="{label_w}" y="{y + 4}" width="{bar_w}" height="{row - 8}" data-value="{value}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
        )
        parts.append(f'<text class="an-label" x="{label_w + bar_w + 6}" y="{y + 17}">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
