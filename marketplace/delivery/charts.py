"""The provider's download chart: a plain SVG bar chart rendered on the server (no script, no CDN)."""

from __future__ import annotations

from html import escape

from markupsafe import Markup


def bar_chart(series: list[tuple[str, int]], *, title: str, width: int = 720, height: int = 200) -> Markup:
    """One bar per ``(label, count)`` with the peak and the first and last labels written out; safe to embed.

    Every label is escaped; each bar carries a ``<title>`` (its label and count) for hover and screen readers.
    """
    if not series:
        return Markup("")
    peak = max(count for _label, count in series)
    scale = peak or 1
    left, right, top, bottom = 34, 8, 16, 24
    inner_w, inner_h = width - left - right, height - top - bottom
    step = inner_w / len(series)
    parts = [
        f'<svg class="dl-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="dl-axis" x1="{left}" y1="{top + inner_h}" x2="{width - right}" y2="{top + inner_h}"/>',
        f'<text class="dl-label" x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text class="dl-label" x="{left - 4}" y="{top + inner_h}" text-anchor="end">0</text>',
    ]
    for index, (label, count) in enumerate(series):
        bar_h = round(inner_h * count / scale, 1)
        x = round(left + index * step + step * 0.15, 1)
        y = round(top + inner_h - bar_h, 1)
        parts.append(
            f'<rect class="dl-bar" x="{x}" y="{y}" width="{round(step * 0.7, 1)}" height="{bar_h}" '
            f'data-count="{count}"><title>{escape(label)}: {count}</title></rect>'
        )
    parts.append(f'<text class="dl-label" x="{left}" y="{height - 6}">{escape(series[0][0])}</text>')
    parts.append(
        f'<text class="dl-label" x="{width - right}" y="{height - 6}" text-anchor="end">{escape(series[-1][0])}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
