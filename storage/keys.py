"""Validation of untrusted input shared by every backend: object keys, file names, content types, expiries.

Keys follow the strictest common denominator of S3 and a POSIX file system, so that an object stored in one
backend can always be moved to another, and so that no key can name a path outside a local storage root.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import timedelta
from urllib.parse import quote

from storage.errors import InvalidContentType, InvalidExpiry, InvalidFilename, InvalidKey

#: S3's limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
#: Most file systems' limit on one path component, in bytes.
MAX_SEGMENT_BYTES = 255
#: Longest accepted download file name, in UTF-8 bytes.
MAX_FILENAME_BYTES = 255
#: Link lifetime used when the caller does not choose one.
DEFAULT_EXPIRY = timedelta(minutes=15)
#: Longest link lifetime: SigV4 presigned URLs cannot live longer.
MAX_EXPIRY = timedelta(days=7)

# Control (Cc), format (Cf: invisible and bidi controls), surrogate (Cs) and line/paragraph separators.
_KEY_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# File names may keep ordinary format characters (emoji joiners) but not the bidi controls that disguise
# an extension ("invoice\u202efdp.exe").
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_FILENAME_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,16}")
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_CONTENT_TYPE = re.compile(rf"{_TCHARS}/{_TCHARS}([ \t]*;[ \t]*{_TCHARS}=({_TCHARS}|\"[ !#-\[\]-~]*\"))*")
# RFC 5987 attr-char: what may appear unencoded in ext-value.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"


def _show(value: str, limit: int = 80) -> str:
    """Render an untrusted value for an error message: repr'd (so control characters are visible), cut short."""
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _bad_character(value: str, forbidden: frozenset[str], extra: frozenset[str] = frozenset()) -> str | None:
    for char in value:
        if char in extra or unicodedata.category(char) in forbidden:
            return f"U+{ord(char):04X}"
    return None


def _check_segments(key: str, segments: list[str], *, what: str) -> None:
    for segment in segments:
        if segment == "":
            raise InvalidKey(f"Invalid {what} {_show(key)}: empty path segment ('//' or a trailing '/').")
        if segment in (".", ".."):
            raise InvalidKey(f"Invalid {what} {_show(key)}: '{segment}' segments are not allowed.")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(f"Invalid {what} {_show(key)}: a path segment is longer than {MAX_SEGMENT_BYTES} bytes.")


def _check_common(key: object, *, what: str) -> str:
    if not isinstance(key, str):
        raise InvalidKey(f"Invalid {what}: expected a string, got {type(key).__name__}.")
    if "\x00" in key:
        raise InvalidKey(f"Invalid {what} {_show(key)}: NUL bytes are not allowed.")
    if "\\" in key:
        raise InvalidKey(f"Invalid {what} {_show(key)}: backslashes are not allowed; use '/' between segments.")
    bad = _bad_character(key, _KEY_FORBIDDEN_CATEGORIES)
    if bad is not None:
        raise InvalidKey(f"Invalid {what} {_show(key)}: control or invisible character {bad} is not allowed.")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:  # pragma: no cover - lone surrogates are refused above as category Cs
        raise InvalidKey(f"Invalid {what} {_show(key)}: not valid Unicode.") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKey(f"Invalid {what}: {len(encoded)} bytes long, at most {MAX_KEY_BYTES} are allowed.")
    if key.startswith("/"):
        raise InvalidKey(f"Invalid {what} {_show(key)}: absolute paths are not allowed (leading '/').")
    if _WINDOWS_DRIVE.match(key):
        raise InvalidKey(f"Invalid {what} {_show(key)}: looks like a Windows drive path.")
    return key


def validate_key(key: object) -> str:
    """Return ``key`` unchanged if it is a safe object key, else raise :class:`InvalidKey` saying why.

    A key is a non-empty ``/``-separated relative path of at most 1024 UTF-8 bytes whose segments are
    non-empty, not ``.`` or ``..`` and at most 255 bytes, with no backslash, NUL, control, bidi or other
    invisible character. Every backend calls this before touching the store.
    """
    checked = _check_common(key, what="storage key")
    if checked == "":
        raise InvalidKey("Invalid storage key: it is empty.")
    _check_segments(checked, checked.split("/"), what="storage key")
    return checked


def validate_prefix(prefix: object) -> str:
    """Return ``prefix`` unchanged if it is a safe listing prefix, else raise :class:`InvalidKey`.

    A prefix is either empty (everything) or a key, optionally ending in ``/``; its last segment may be a
    partial name (``"datasets/ab"`` lists ``"datasets/abc/..."``), matching S3's plain string prefixes.
    """
    checked = _check_common(prefix, what="storage prefix")
    if checked == "":
        return checked
    segments = checked.split("/")
    if segments[-1] == "":
        segments.pop()
    _check_segments(checked, segments, what="storage prefix")
    return checked


def validate_filename(filename: object) -> str:
    """Return ``filename`` unchanged if it is a safe download file name, else raise :class:`InvalidFilename`.

    A file name is a single path component: not empty or blank, not ``.`` or ``..``, no ``/`` or ``\\``,
    no NUL, control, line-separator or bidi-override character, at most 255 UTF-8 bytes.
    """
    if not isinstance(filename, str):
        raise InvalidFilename(f"Invalid file name: expected a string, got {type(filename).__name__}.")
    if filename.strip() == "":
        raise InvalidFilename("Invalid file name: it is empty.")
    if filename in (".", ".."):
        raise InvalidFilename(f"Invalid file name {_show(filename)}: '.' and '..' are not file names.")
    if "/" in filename or "\\" in filename:
        raise InvalidFilename(f"Invalid file name {_show(filename)}: path separators are not allowed.")
    if "\x00" in filename:
        raise InvalidFilename(f"Invalid file name {_show(filename)}: NUL bytes are not allowed.")
    bad = _bad_character(filename, _FILENAME_FORBIDDEN_CATEGORIES, _BIDI_CONTROLS)
    if bad is not None:
        raise InvalidFilename(f"Invalid file name {_show(filename)}: control character {bad} is not allowed.")
    if len(filename.encode("utf-8")) > MAX_FILENAME_BYTES:
        raise InvalidFilename(f"Invalid file name {_show(filename)}: longer than {MAX_FILENAME_BYTES} bytes.")
    return filename


def validate_content_type(content_type: object) -> str | None:
    """Return a media type such as ``text/csv; charset=utf-8`` unchanged, ``None`` for ``None``/empty.

    Raises :class:`InvalidContentType` for anything that is not ``type/subtype`` with optional parameters,
    so a content type can never smuggle CR/LF into a response header.
    """
    if content_type is None or content_type == "":
        return None
    if not isinstance(content_type, str):
        raise InvalidContentType(f"Invalid content type: expected a string, got {type(content_type).__name__}.")
    if len(content_type) > 255 or not _CONTENT_TYPE.fullmatch(content_type):
        raise InvalidContentType(f"Invalid content type {_show(content_type)}: expected a media type like 'text/csv'.")
    return content_type


def expiry_seconds(expires_in: object) -> int:
    """Return the link lifetime in whole seconds (rounded up), refusing ``<= 0`` and more than 7 days.

    Raises :class:`InvalidExpiry` with the offending value; a non-``timedelta`` is refused too, so a bare
    number of seconds cannot be mistaken for minutes.
    """
    if not isinstance(expires_in, timedelta):
        raise InvalidExpiry(f"Link expiry must be a datetime.timedelta, got {type(expires_in).__name__}.")
    if expires_in <= timedelta(0):
        raise InvalidExpiry(f"Link expiry must be positive, got {expires_in}.")
    if expires_in > MAX_EXPIRY:
        raise InvalidExpiry(f"Link expiry must be at most 7 days, got {expires_in}.")
    return math.ceil(expires_in.total_seconds())


def _sanitise_filename(filename: str) -> str:
    kept = []
    for char in unicodedata.normalize("NFC", filename):
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI_CONTROLS:
            continue
        kept.append("_" if char in "/\\" else char)
    name = "".join(kept).strip().strip(".").strip()
    if len(name.encode("utf-8")) > MAX_FILENAME_BYTES:
        # Shorten the stem, keep a short extension, never cut a character in half.
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem or len(ext.encode("utf-8")) > 16:
            stem, dot, ext = name, "", ""
        budget = MAX_FILENAME_BYTES - len((dot + ext).encode("utf-8"))
        name = stem.encode("utf-8")[:budget].decode("utf-8", "ignore") + dot + ext
    return name


def _ascii_fallback(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_only = " ".join("".join(c for c in decomposed if " " <= c <= "~").split())
    stem, dot, ext = ascii_only.rpartition(".")
    if not dot or not _EXTENSION.fullmatch(ext):
        stem, dot, ext = ascii_only, "", ""
    stem = stem.strip(" .")
    if stem.strip("_-") == "":
        stem = "download"
    return (stem + dot + ext).replace("\\", "\\\\").replace('"', '\\"')


def content_disposition(filename: str | None, *, disposition: str = "attachment") -> str:
    """Build a ``Content-Disposition`` header value that is safe for any file name.

    Control characters, CR/LF, bidi overrides and path separators are removed (separators become ``_``),
    quotes and backslashes are escaped in the ASCII ``filename="..."`` fallback, and when the name is not
    plain ASCII an RFC 5987/6266 ``filename*=UTF-8''...`` carries the exact name. The result is pure
    printable ASCII. ``disposition`` is ``"attachment"`` (default) or ``"inline"``; with no usable file
    name the value is just the disposition.
    """
    if disposition not in ("attachment", "inline"):
        raise ValueError("disposition must be 'attachment' or 'inline'")
    if filename is None:
        return disposition
    name = _sanitise_filename(filename)
    if name == "":
        return disposition
    fallback = _ascii_fallback(name)
    value = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name.encode('utf-8'), safe=_ATTR_CHAR_SAFE)}"
    return value
