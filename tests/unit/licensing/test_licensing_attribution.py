"""Attribution notices (CC BY 4.0 §3(a)) in text, HTML and Markdown."""

from __future__ import annotations

import html
import re

import pytest

from licensing import AttributionError, build_attribution, get_template
from licensing.attribution import markdown_escape


def _notice(license_id: str = "CC-BY-4.0", **kwargs: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "title": "Speech Commands DE",
        "creator": "Acme Labs",
        "source_url": "https://data.example/speech",
    }
    values.update(kwargs)
    return build_attribution(license_id, **values)  # type: ignore[arg-type]


def test_text_has_every_element_cc_by_requires() -> None:
    text = _notice(copyright_notice="© 2024 Acme Labs", modifications="resampled to 16 kHz").text()
    assert text == (
        '"Speech Commands DE" by Acme Labs (https://data.example/speech). © 2024 Acme Labs. '
        "Licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). "
        "Changes: resampled to 16 kHz. Provided as is, without warranties."
    )
    assert "No changes were made." in _notice().text()
    plain = _notice().html()
    assert "©" not in plain and "No changes were made." in plain


def test_share_alike_and_non_commercial_notes() -> None:
    sa = _notice("CC-BY-SA-4.0").text()
    assert "Adaptations must be shared under CC BY-SA 4.0 or a compatible license." in sa
    assert "https://creativecommons.org/licenses/by-sa/4.0/" in sa
    nc = _notice("CC-BY-NC-4.0").text()
    assert "Non-commercial use only." in nc
    odbl = _notice(get_template("ODbL-1.0")).text()
    assert "ODbL 1.0" in odbl and "Adaptations must be shared" in odbl


def test_html_is_escaped() -> None:
    notice = _notice(
        "CC-BY-SA-4.0",
        title='<script>alert("x")</script>',
        creator="Tom & Jerry's <Lab>",
        source_url='https://data.example/a?b=1&c="2"',
        copyright_notice="© <2024>",
        modifications="<b>bold</b> changes!",
    )
    out = notice.html()
    assert "<script>" not in out and "<b>" not in out and "<Lab>" not in out
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
    assert "Tom &amp; Jerry&#x27;s &lt;Lab&gt;" in out
    assert 'href="https://data.example/a?b=1&amp;c=&quot;2&quot;"' in out
    assert 'rel="license"' in out and out.startswith('<p class="license-attribution">')
    assert "Changes: &lt;b&gt;bold&lt;/b&gt; changes!" in out
    # Only our own tags remain.
    assert set(re.findall(r"</?([a-z]+)", out)) == {"p", "a"}
    assert html.unescape(re.sub(r"<[^>]+>", "", out)).startswith('“<script>alert("x")</script>”')


def test_markdown_is_escaped() -> None:
    notice = _notice(title="[Click](javascript:x) *bold*", creator="A_B <c>", source_url="https://x.example/a(b)")
    out = notice.markdown()
    assert out.startswith(r'"[\[Click\]\(javascript:x\) \*bold\*](https://x.example/a%28b%29)" by A\_B \<c\>.')


def test_markdown_escape() -> None:
    assert markdown_escape("a*b_c[d](e)<f>#g!h|i&j~k`l\\") == r"a\*b\_c\[d\]\(e\)\<f\>\#g\!h\|i\&j\~k\`l\\"


def test_markdown_full_notice() -> None:
    out = _notice("CC-BY-4.0", copyright_notice="(c) Acme").markdown()
    assert out == (
        '"[Speech Commands DE](https://data.example/speech)" by Acme Labs. \\(c\\) Acme. '
        "Licensed under [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/). "
        "No changes were made. Provided as is, without warranties."
    )


@pytest.mark.parametrize(
    ("license_id", "kwargs", "field"),
    [
        ("CC0-1.0", {}, "license"),
        ("CDLA-Permissive-2.0", {}, "license"),
        ("Nope-1.0", {}, "license"),
        ("LicenseRef-research-only-1.0", {}, "base_url"),
        ("CC-BY-4.0", {"title": " "}, "title"),
        ("CC-BY-4.0", {"creator": None}, "creator"),
        ("CC-BY-4.0", {"source_url": "javascript:alert(1)"}, "source_url"),
        ("CC-BY-4.0", {"source_url": "/relative"}, "source_url"),
        ("CC-BY-4.0", {"source_url": "https://a.example/x y"}, "source_url"),
        ("CC-BY-4.0", {"source_url": 5}, "source_url"),
        ("CC-BY-4.0", {"modifications": ""}, "modifications"),
    ],
)
def test_attribution_errors(license_id: str, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(AttributionError) as info:
        _notice(license_id, **kwargs)
    assert info.value.fields == (field,)


def test_commercial_license_with_base_url() -> None:
    notice = _notice("LicenseRef-research-only-1.0", base_url="https://market.example/")
    assert notice.license_url == "https://market.example/license-templates/LicenseRef-research-only-1.0"
    assert "Non-commercial use only." in notice.text()
