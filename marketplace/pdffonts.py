"""The fonts every PDF of the marketplace is set in: DejaVu Sans, vendored once under ``aiact/fonts`` with its
licence (``LICENSE-DejaVu.txt``), so Latin, Greek and Cyrillic text prints as typed and nothing is fetched."""

from __future__ import annotations

import functools
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONTS = Path(__file__).parent / "aiact" / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"


@functools.cache
def register_fonts() -> tuple[str, str]:
    """Register the regular and bold faces with ReportLab (once per process); return their names."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
    return REGULAR, BOLD
