"""Attribution notices as CC BY 4.0 §3(a) requires them, in text, HTML and Markdown.

§3(a)(1) asks the licensee to keep: the creator's identification, a copyright notice (if the
licensor supplied one), a notice referring to the license, a notice referring to the disclaimer of
warranties and a link to the material; to indicate modifications (and keep earlier indications); and
to name the license with a link to it. Share-alike licenses add a note that adaptations must be
shared under the same license; non-commercial ones a non-commercial note.

Notices can be written for any license whose terms require attribution (the CC BY family, ODC-By,
ODbL, CDLA-Sharing, research-only...).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from .errors import AttributionError, LicenseIdError
from .templates import DEFAULT_REGISTRY, LicenseTemplate, TemplateRegistry

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|&~\"])")
DISCLAIMER = "Provided as is, without warranties."


def _check_url(url: str, name: str) -> str:
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 for c in url):
        raise AttributionError("a link must be an absolute http(s) URL without spaces", name)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AttributionError("a link must be an absolute http(s) URL", name)
    return url


def _text(value: str | None, name: str, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise AttributionError("must be a non-blank string", name)
    return " ".join(value.split())


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def markdown_escape(text: str) -> str:
    """Backslash-escape the characters that Markdown (CommonMark) would otherwise interpret."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _markdown_url(url: str) -> str:
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")


@dataclass(frozen=True)
class AttributionNotice:
    """The credit for one licensed dataset; render it with :meth:`text`, :meth:`html` or :meth:`markdown`."""

    title: str
    creator: str
    source_url: str
    license_id: str
    license_name: str
    license_url: str
    copyright_notice: str | None = None
    modifications: str | None = None
    share_alike: bool = False
    non_commercial: bool = False

    def _modified(self) -> str:
        if self.modifications is None:
            return "No changes were made."
        return f"Changes: {_sentence(self.modifications)}"

    def _notes(self) -> list[str]:
        notes = []
        if self.share_alike:
            notes.append(f"Adaptations must be shared under {self.license_name} or a compatible license.")
        if self.non_commercial:
            notes.append("Non-commercial use only.")
        notes.append(DISCLAIMER)
        return notes

    def text(self) -> str:
        """Return the notice as one line of plain text."""
        parts = [f'"{self.title}" by {self.creator} ({self.source_url}).']
        if self.copyright_notice:
            parts.append(_sentence(self.copyright_notice))
        parts.append(f"Licensed under {self.license_name} ({self.license_url}).")
        parts.append(self._modified())
        parts.extend(self._notes())
        return " ".join(parts)

    def html(self) -> str:
        """Return the notice as an HTML paragraph; all text and URLs are escaped."""
        e = html.escape
        parts = [f'&ldquo;<a href="{e(self.source_url)}">{e(self.title)}</a>&rdquo; by {e(self.creator)}.']
        if self.copyright_notice:
            parts.append(e(_sentence(self.copyright_notice)))
        parts.append(f'Licensed under <a href="{e(self.license_url)}" rel="license">{e(self.license_name)}</a>.')
        parts.append(e(self._modified()))
        parts.extend(e(n) for n in self._notes())
        return f'<p class="license-attribution">{" ".join(parts)}</p>'

    def markdown(self) -> str:
        """Return the notice as one Markdown paragraph; text is escaped and URLs percent-encoded."""
        m = markdown_escape
        parts = [f'"[{m(self.title)}]({_markdown_url(self.source_url)})" by {m(self.creator)}.']
        if self.copyright_notice:
            parts.append(m(_sentence(self.copyright_notice)))
        parts.append(f"Licensed under [{m(self.license_name)}]({_markdown_url(self.license_url)}).")
        parts.append(m(self._modified()))
        parts.extend(m(n) for n in self._notes())
        return " ".join(parts)


def build_attribution(
    license: str | LicenseTemplate,
    *,
    title: str,
    creator: str,
    source_url: str,
    copyright_notice: str | None = None,
    modifications: str | None = None,
    registry: TemplateRegistry = DEFAULT_REGISTRY,
    base_url: str | None = None,
) -> AttributionNotice:
    """Return the attribution notice for material under ``license``.

    ``modifications`` describes the changes made (None: unmodified). ``base_url`` (the platform's
    address) turns the relative page path of our commercial licenses into a link. Raises
    :class:`AttributionError` when the license does not require attribution (e.g. CC0), is unknown,
    or a field is blank or a link is not an absolute http(s) URL.
    """
    try:
        template = license if isinstance(license, LicenseTemplate) else registry.get(license)
    except LicenseIdError as exc:
        raise AttributionError(exc.message, "license") from exc
    if not template.terms.attribution.required:
        raise AttributionError(f"{template.id} does not require attribution", "license")
    license_url = template.url
    if license_url.startswith("/"):
        if base_url is None:
            raise AttributionError(f"{template.id} has a relative license URL: give base_url", "base_url")
        license_url = base_url.rstrip("/") + license_url
    return AttributionNotice(
        title=_text(title, "title", True) or "",
        creator=_text(creator, "creator", True) or "",
        source_url=_check_url(source_url, "source_url"),
        license_id=template.id,
        license_name=template.short_name,
        license_url=_check_url(license_url, "license"),
        copyright_notice=_text(copyright_notice, "copyright_notice", False),
        modifications=_text(modifications, "modifications", False),
        share_alike=template.terms.share_alike,
        non_commercial=template.terms.non_commercial,
    )
