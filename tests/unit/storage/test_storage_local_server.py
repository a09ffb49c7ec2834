"""The local WSGI server: signature checks, expiry, Range handling, uploads, mounting under a prefix."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client, EnvironBuilder, TestResponse, run_wsgi_app

from storage import MIN_PART_SIZE, LocalStorage, content_disposition, make_wsgi_app
from storage.local_server import RangeNotSatisfiable, parse_range

SECRET = b"server-test-secret-0123456789abcdef"
DATA = b"0123456789abcdefghij"  # 20 bytes


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(tmp_path: Path, clock: Clock) -> LocalStorage:
    storage = LocalStorage(tmp_path, "https://market.test/storage", SECRET, clock=clock, part_size=MIN_PART_SIZE)
    storage.put("data/file.bin", io.BytesIO(DATA), content_type="application/octet-stream")
    return storage


def _not_mounted(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
    return [b"not the storage app"]


@pytest.fixture
def client(storage: LocalStorage) -> Client:
    """The app mounted under /storage, as the Flask app mounts it."""
    return Client(DispatcherMiddleware(_not_mounted, {"/storage": make_wsgi_app(storage)}))


def _path(url: str) -> str:
    """Strip scheme and host: the test client speaks to the app directly."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _with_params(url: str, change: Callable[[list[tuple[str, str]]], list[tuple[str, str]]]) -> str:
    parts = urlsplit(url)
    params = change(parse_qsl(parts.query, keep_blank_values=True))
    return f"{parts.path}?{urlencode(params, quote_via=quote)}"


def _set(name: str, value: str) -> Callable[[list[tuple[str, str]]], list[tuple[str, str]]]:
    def change(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
        found = [(k, value if k == name else v) for k, v in params]
        return found if any(k == name for k, _ in params) else [*found, (name, value)]

    return change


# -- signatures -----------------------------------------------------------------------------------------


def test_valid_link_serves_the_object(client: Client, storage: LocalStorage) -> None:
    response = client.get(_path(storage.presign_download("data/file.bin", filename="f.bin")))
    assert response.status_code == 200
    assert response.data == DATA
    assert response.headers["Content-Disposition"] == 'attachment; filename="f.bin"'
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["ETag"] == f'"{storage.stat("data/file.bin").etag}"'
    assert response.headers["Last-Modified"].endswith("GMT")


TAMPERING: list[tuple[str, Callable[[list[tuple[str, str]]], list[tuple[str, str]]]]] = [
    ("longer expiry", _set("exp", "4102444800")),
    ("other file name", _set("fn", "evil.html")),
    ("added file name", _set("fn", "added.exe")),
    ("other content type", _set("ct", "text/html")),
    ("added content type", _set("ct", "text/html")),
    ("other operation", _set("op", "put")),
    ("flipped signature", lambda p: [(k, (("A" if v[0] != "A" else "B") + v[1:]) if k == "sig" else v) for k, v in p]),
    ("empty signature", _set("sig", "")),
    ("no signature", lambda p: [(k, v) for k, v in p if k != "sig"]),
    ("extra parameter", lambda p: [*p, ("pn", "1")]),
    ("unknown parameter", lambda p: [*p, ("debug", "1")]),
    ("repeated parameter", lambda p: [*p, ("exp", "1")]),
    ("non-ascii signature", _set("sig", "é" * 43)),
]


@pytest.mark.parametrize(("case", "change"), TAMPERING, ids=[case for case, _ in TAMPERING])
def test_tampered_download_links_are_refused(
    client: Client, storage: LocalStorage, case: str, change: Callable[[list[tuple[str, str]]], list[tuple[str, str]]]
) -> None:
    url = storage.presign_download("data/file.bin", filename="f.bin", content_type="application/octet-stream")
    response = client.get(_with_params(url, change))
    assert response.status_code == 403, case
    assert response.data != DATA
    assert b"expired" not in response.data


def test_link_for_one_key_does_not_open_another(client: Client, storage: LocalStorage) -> None:
    storage.put("data/other.bin", io.BytesIO(b"other"))
    url = _path(storage.presign_download("data/file.bin"))
    assert client.get(url.replace("/o/data/file.bin", "/o/data/other.bin")).status_code == 403
    assert client.get(url.replace("/o/data/file.bin", "/o/data/../data/file.bin")).status_code == 400


def test_link_signed_with_another_secret_is_refused(client: Client, storage: LocalStorage, tmp_path: Path) -> None:
    impostor = LocalStorage(tmp_path / "other", storage.base_url, b"another-secret-of-32-bytes-long!")
    assert client.get(_path(impostor.presign_download("data/file.bin"))).status_code == 403


def test_download_link_cannot_be_used_to_upload(client: Client, storage: LocalStorage) -> None:
    response = client.put(_path(storage.presign_download("data/file.bin")), data=b"overwrite")
    assert response.status_code == 403
    assert storage.read_bytes("data/file.bin") == DATA


def test_part_link_cannot_be_replayed_for_another_part_or_upload(client: Client, storage: LocalStorage) -> None:
    session = storage.create_upload("up/x.bin", size=MIN_PART_SIZE + 2)
    other = storage.create_upload("up/y.bin", size=MIN_PART_SIZE + 2)
    url = storage.presign_upload_part(session, 2)
    assert client.put(_with_params(url, _set("pn", "1")), data=b"ab").status_code == 403
    assert client.put(_with_params(url, _set("uid", other.upload_id or "")), data=b"ab").status_code == 403
    assert client.put(_with_params(url, _set("len", "5")), data=b"abcde").status_code == 403
    assert client.put(_path(url), data=b"ab").status_code == 200


def test_expired_link_is_refused_with_request_has_expired(client: Client, storage: LocalStorage, clock: Clock) -> None:
    url = _path(storage.presign_download("data/file.bin", expires_in=timedelta(minutes=5)))
    clock.now += timedelta(minutes=5)
    assert client.get(url).status_code == 200  # valid through its last second
    clock.now += timedelta(seconds=1)
    response = client.get(url)
    assert response.status_code == 403
    assert response.data == b"Request has expired"
    upload = storage.create_upload("up/late.bin", size=3)
    put_url = _path(storage.presign_upload(upload, expires_in=timedelta(seconds=30)))
    clock.now += timedelta(seconds=31)
    assert client.put(put_url, data=b"abc").data == b"Request has expired"
    assert not storage.exists("up/late.bin")


def test_tampered_and_expired_link_reports_the_tampering(client: Client, storage: LocalStorage, clock: Clock) -> None:
    url = storage.presign_download("data/file.bin", expires_in=timedelta(seconds=1))
    clock.now += timedelta(hours=1)
    response = client.get(_with_params(url, _set("fn", "x.exe")))
    assert response.status_code == 403
    assert b"Signature does not match" in response.data


# -- routing and mounting ---------------------------------------------------------------------------------


def test_works_mounted_under_a_prefix_and_at_the_root(storage: LocalStorage) -> None:
    url = _path(storage.presign_download("data/file.bin"))
    mounted = Client(DispatcherMiddleware(_not_mounted, {"/deep/prefix": make_wsgi_app(storage)}))
    assert mounted.get(url.replace("/storage/", "/deep/prefix/", 1)).data == DATA
    bare = Client(make_wsgi_app(storage))
    assert bare.get(url.removeprefix("/storage")).data == DATA
    assert Client(make_wsgi_app(storage)).get(url).status_code == 404  # prefix not stripped: not ours


def test_unusual_but_valid_keys_survive_the_url(client: Client, storage: LocalStorage) -> None:
    for key in ("space name/ü.csv", "q?mark#hash&amp=1.txt", "percent%2Fnot-a-slash.txt", "数据/样本.jsonl"):
        storage.put(key, io.BytesIO(key.encode()))
        response = client.get(_path(storage.presign_download(key)))
        assert response.status_code == 200, key
        assert response.data == key.encode()


def test_other_paths_and_methods(client: Client, storage: LocalStorage) -> None:
    url = _path(storage.presign_download("data/file.bin"))
    assert client.get("/storage/").status_code == 404
    assert client.get("/storage/x/data/file.bin").status_code == 404
    response = client.delete(url)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, PUT"
    assert client.post(url).status_code == 405


def test_non_utf8_path_is_a_bad_request(storage: LocalStorage) -> None:
    environ = EnvironBuilder(path="/o/x", method="GET").get_environ()
    environ["PATH_INFO"] = "/o/\xff\xfe"
    _body, status, _headers = run_wsgi_app(make_wsgi_app(storage), environ)
    assert status.startswith("400")


def test_missing_object_is_404(client: Client, storage: LocalStorage) -> None:
    assert client.get(_path(storage.presign_download("data/nothing.bin"))).status_code == 404


def test_content_type_and_disposition_come_from_the_signed_link(client: Client, storage: LocalStorage) -> None:
    storage.put("page.html", io.BytesIO(b"<script>alert(1)</script>"), content_type="text/html")
    plain = client.get(_path(storage.presign_download("page.html")))
    assert plain.headers["Content-Type"] == "text/html"
    assert plain.headers["Content-Disposition"] == "attachment"  # never rendered inline on our origin
    named = client.get(
        _path(storage.presign_download("page.html", filename='Résumé "v2".html', content_type="text/plain"))
    )
    assert named.headers["Content-Type"] == "text/plain"
    assert named.headers["Content-Disposition"] == content_disposition('Résumé "v2".html')


def test_x_accel_redirect_hands_off_to_nginx(storage: LocalStorage) -> None:
    client = Client(make_wsgi_app(storage, x_accel_redirect_prefix="/_protected/"))
    storage.put("a b/ü.csv", io.BytesIO(b"x"), content_type="text/csv")
    response = client.get(_path(storage.presign_download("a b/ü.csv", filename="ü.csv")).removeprefix("/storage"))
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["X-Accel-Redirect"] == "/_protected/a%20b/%C3%BC.csv"
    assert response.headers["Content-Disposition"] == content_disposition("ü.csv")
    assert response.headers["Content-Type"] == "text/csv"
    assert client.get(_path(storage.presign_download("missing")).removeprefix("/storage")).status_code == 404


# -- ranges ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 20, None),
        ("bytes=0-0", 20, (0, 0)),
        ("bytes=0-19", 20, (0, 19)),
        ("bytes=5-", 20, (5, 19)),
        ("bytes=5-1000", 20, (5, 19)),
        ("bytes=19-19", 20, (19, 19)),
        ("bytes=-1", 20, (19, 19)),
        ("bytes=-20", 20, (0, 19)),
        ("bytes=-500", 20, (0, 19)),
        ("BYTES = 2-3", 20, (2, 3)),
        ("bytes=0-", 0, "416"),
        ("bytes=20-", 20, "416"),
        ("bytes=20-25", 20, "416"),
        ("bytes=-0", 20, "416"),
        ("bytes=-5", 0, "416"),
        ("bytes=5-2", 20, None),
        ("bytes=0-1,4-5", 20, None),
        ("items=0-1", 20, None),
        ("bytes=a-b", 20, None),
        ("bytes=-", 20, None),
        ("bytes=1.5-2", 20, None),
        ("bytes=", 20, None),
        ("garbage", 20, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: object) -> None:
    if expected == "416":
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, size)
    else:
        assert parse_range(header, size) == expected


def _get_range(client: Client, url: str, header: str, **extra: str) -> TestResponse:
    return client.get(url, headers={"Range": header, **extra})


def test_partial_content(client: Client, storage: LocalStorage) -> None:
    url = _path(storage.presign_download("data/file.bin"))
    response = _get_range(client, url, "bytes=2-5")
    assert response.status_code == 206
    assert response.data == DATA[2:6]
    assert response.headers["Content-Range"] == "bytes 2-5/20"
    assert response.headers["Content-Length"] == "4"
    suffix = _get_range(client, url, "bytes=-3")
    assert (suffix.status_code, suffix.data) == (206, DATA[-3:])
    open_ended = _get_range(client, url, "bytes=15-")
    assert (open_ended.data, open_ended.headers["Content-Range"]) == (DATA[15:], "bytes 15-19/20")


def test_unsatisfiable_range_is_416(client: Client, storage: LocalStorage) -> None:
    url = _path(storage.presign_download("data/file.bin"))
    response = _get_range(client, url, "bytes=20-")
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */20"
    storage.put("empty", io.BytesIO(b""))
    empty = _get_range(client, _path(storage.presign_download("empty")), "bytes=0-")
    assert empty.status_code == 416
    assert empty.headers["Content-Range"] == "bytes */0"


def test_ignored_ranges_serve_everything(client: Client, storage: LocalStorage) -> None:
    url = _path(storage.presign_download("data/file.bin"))
    for header in ("bytes=0-1,3-4", "bytes=9-3", "lines=1-2", "bytes=x-"):
        response = _get_range(client, url, header)
        assert (response.status_code, response.data) == (200, DATA), header


def test_if_range(client: Client, storage: LocalStorage) -> None:
    url = _path(storage.presign_download("data/file.bin"))
    etag = client.get(url).headers["ETag"]
    assert _get_range(client, url, "bytes=0-1", **{"If-Range": etag}).status_code == 206
    stale = _get_range(client, url, "bytes=0-1", **{"If-Range": '"stale"'})
    assert (stale.status_code, stale.data) == (200, DATA)


def test_head_sends_headers_only(client: Client, storage: LocalStorage) -> None:
    url = _path(storage.presign_download("data/file.bin"))
    response = client.head(url)
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "20"
    ranged = client.head(url, headers={"Range": "bytes=1-2"})
    assert (ranged.status_code, ranged.headers["Content-Length"]) == (206, "2")


# -- uploads ---------------------------------------------------------------------------------------------------


def test_single_put_upload(client: Client, storage: LocalStorage) -> None:
    session = storage.create_upload("up/one.csv", size=4, content_type="text/csv")
    response = client.put(_path(storage.presign_upload(session)), data=b"a,b\n", headers=dict(session.headers))
    assert response.status_code == 200
    info = storage.complete_upload(session)
    assert response.headers["ETag"] == f'"{info.etag}"'
    assert info.content_type == "text/csv"


def test_upload_body_must_have_the_signed_length(client: Client, storage: LocalStorage) -> None:
    session = storage.create_upload("up/len.bin", size=4)
    url = _path(storage.presign_upload(session))
    assert client.put(url, data=b"12345").status_code == 413
    assert client.put(url, data=b"123").status_code == 400
    assert not storage.exists("up/len.bin")
    environ = EnvironBuilder(
        path=url.removeprefix("/storage").split("?")[0],
        method="PUT",
        query_string=url.split("?")[1],
        input_stream=io.BytesIO(b"1234"),
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    _body, status, _headers = run_wsgi_app(make_wsgi_app(storage), environ)
    assert status.startswith("411")


def test_upload_into_an_existing_prefix_is_a_clear_400(client: Client, storage: LocalStorage) -> None:
    session = storage.create_upload("data", size=1)
    response = client.put(_path(storage.presign_upload(session)), data=b"x")
    assert response.status_code == 400
    assert b"other objects are stored under" in response.data


def test_part_upload_to_a_finished_upload_is_404(client: Client, storage: LocalStorage) -> None:
    session = storage.create_upload("up/gone.bin", size=MIN_PART_SIZE + 1)
    url = _path(storage.presign_upload_part(session, 2))
    storage.abort_upload(session)
    response = client.put(url, data=b"z")
    assert response.status_code == 404
    assert b"does not exist" in response.data


# -- the reference check (links the application has withdrawn) ----------------------------------------------------


def _checked(storage: LocalStorage, check: Callable[[str], str | None]) -> Client:
    return Client(DispatcherMiddleware(_not_mounted, {"/storage": make_wsgi_app(storage, reference_check=check)}))


def test_a_withdrawn_reference_is_refused_at_once_and_a_standing_one_served(storage: LocalStorage) -> None:
    withdrawn: set[str] = set()
    asked: list[str] = []

    def check(reference: str) -> str | None:
        asked.append(reference)
        return "This license has been revoked." if reference in withdrawn else None

    client = _checked(storage, check)
    url = _path(storage.presign_download("data/file.bin", reference="d-17"))
    assert client.get(url).get_data() == DATA
    withdrawn.add("d-17")
    refused = client.get(url)
    assert refused.status_code == 410 and refused.get_data(as_text=True) == "This license has been revoked."
    assert client.head(url).status_code == 410
    assert asked == ["d-17", "d-17", "d-17"]
    other = _path(storage.presign_download("data/file.bin", reference="d-18"))
    assert client.get(other).status_code == 200


def test_the_reference_is_signed_and_required_when_checked(storage: LocalStorage) -> None:
    client = _checked(storage, lambda reference: None if reference == "good" else "withdrawn")
    url = _path(storage.presign_download("data/file.bin", reference="bad"))
    swapped = _with_params(url, lambda pairs: [(k, "good" if k == "ref" else v) for k, v in pairs])
    assert client.get(swapped).status_code == 403  # the signature covers the reference
    unreferenced = client.get(_path(storage.presign_download("data/file.bin")))
    assert unreferenced.status_code == 403 and "names no license" in unreferenced.get_data(as_text=True)
    # Without a check (a plain storage server) a reference changes nothing.
    assert Client(make_wsgi_app(storage)).get(url.removeprefix("/storage")).status_code == 200


def test_a_failing_check_refuses_with_503_never_serves(storage: LocalStorage) -> None:
    def broken(reference: str) -> str | None:
        raise ConnectionError("database is down")

    response = _checked(storage, broken).get(_path(storage.presign_download("data/file.bin", reference="d-1")))
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert DATA not in response.get_data()


@pytest.mark.parametrize("reference", ["", "a b", "x" * 129, "é"])
def test_bad_references_are_refused_when_signing(storage: LocalStorage, reference: str) -> None:
    from storage import InvalidReference

    with pytest.raises(InvalidReference):
        storage.presign_download("data/file.bin", reference=reference)
