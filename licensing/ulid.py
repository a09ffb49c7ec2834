"""Sortable unique ids in the ULID format: 48-bit millisecond time + 80 random bits, Crockford base32.

Ids generated later sort after ids generated earlier (lexicographically, as strings). Within one
millisecond the random part is incremented, so ids from one process stay strictly increasing.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from .duration import require_utc
from .errors import LicensingError

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PATTERN = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
_RANDOM_BITS = 80
_lock = threading.Lock()
#: The last random part used per recent millisecond, so ids made for the same millisecond keep increasing even
#: when ids for other (later or earlier) milliseconds were made in between. Bounded: oldest entries go first.
_recent: OrderedDict[int, int] = OrderedDict()
_RECENT_MAX = 4096


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(CROCKFORD[digit])
    return "".join(reversed(chars))


def new_ulid(at: datetime | None = None) -> str:
    """Return a new 26-character ULID whose time part is ``at`` (default: now, UTC) in milliseconds.

    Ids are unique; ids made with a later ``at`` sort after those made earlier, and ids made within
    the same millisecond by this process are strictly increasing.
    """
    when = datetime.now(UTC) if at is None else require_utc(at, "at")
    millis = int(when.timestamp() * 1000)
    if not 0 <= millis < 2**48:
        raise LicensingError("time out of the ULID range", "at")
    with _lock:
        previous = _recent.get(millis)
        if previous is not None and previous + 1 < 2**_RANDOM_BITS:
            random = previous + 1
        else:
            # A fresh random part, in the lower half so that many ids can follow it in the same millisecond.
            random = secrets.randbits(_RANDOM_BITS - 1)
        _recent[millis] = random
        _recent.move_to_end(millis)
        while len(_recent) > _RECENT_MAX:
            _recent.popitem(last=False)
    return _encode((millis << _RANDOM_BITS) | random)


def is_ulid(value: object) -> bool:
    """Return True when ``value`` is a 26-character canonical (upper-case) ULID string."""
    return isinstance(value, str) and bool(_PATTERN.match(value))


def ulid_time(value: str) -> datetime:
    """Return the UTC time (millisecond precision) encoded in a ULID; raise for a malformed id."""
    if not is_ulid(value):
        raise LicensingError(f"{value!r} is not a ULID", "id")
    number = 0
    for char in value:
        number = number * 32 + CROCKFORD.index(char)
    seconds, millis = divmod(number >> _RANDOM_BITS, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(milliseconds=millis)
