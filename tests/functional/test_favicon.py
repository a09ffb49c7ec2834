"""``/favicon.ico`` is a real icon, served by the site itself."""

from __future__ import annotations

import struct
import zlib


def test_the_favicon_is_a_real_icon(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert "max-age" in response.headers.get("Cache-Control", "")
    data = response.get_data()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, 1)  # an icon file holding one image
    width, height, _colors, _zero, _planes, _bits, size, offset = struct.unpack("<BBBBHHII", data[6:22])
    assert (width, height) == (32, 32)
    png = data[offset : offset + size]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == size
    # Its pixels decompress: a picture, not a placeholder.
    idat = png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8]
    assert len(zlib.decompress(idat)) == 32 * (1 + 32 * 4)
