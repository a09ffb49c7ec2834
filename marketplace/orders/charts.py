"""Server-rendered SVG charts: no JavaScript, no third-party library, nothing fetched from a CDN."""

from __future__ import annotations

from datetime import date
from html import escape

import licensing


def bar_chart_svg(series: list[tuple[date, int]], currency: str, *, width: int = 720, height: int = 180) -> str:
    """A bar per day of net sales (minor units), with the maximum labelled; safe to embed in a page."""
    if not series:
        return ""
    peak = max(amount for _, amount in series) or 1
    pad_left, pad_bottom, pad_top = 8, 22, 18
    inner_w, inner_h = width - 2 * pad_left, height - pad_bottom - pad_top
    step = inner_w / len(series)
    bars = []
    for i, (day, amount) in enumerate(series):
        h = round(inner_h * amount / peak, 1)
        x = round(pad_left + i * step + step * 0.1, 1)
        y = round(pad_top + inner_h - h, 1)
        label = f"{day.isoformat()}: {licensing.Money(amount, currency).format()}"
        bars.append(
            f'<rect class="bar" x="{x}" y="{y}" width="{round(step * 0.8, 1)}" height="{h}">'
            f"<title>{escape(label)}</title></rect>"
        )
    first, last = series[0][0].isoformat(), series[-1][0].isoformat()
    peak_label = escape(licensing.Money(peak, currency).format())
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Net sales per day in {escape(currency)}, {first} to {last}">'
        f'<text x="{pad_left}" y="12" class="chart-label">max {peak_label}/day</text>'
        + "".join(bars)
        + f'<text x="{pad_left}" y="{height - 6}" class="chart-label">{first}</text>'
        f'<text x="{width - pad_left}" y="{height - 6}" class="chart-label" text-anchor="end">{last}</text>'
        "</svg>"
    )
