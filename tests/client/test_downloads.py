"""Downloads against a scripted local server: resuming a .part with Range, a transfer broken off mid-file, SHA-256
and size checks against the manifest, parallel files and the progress line."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from marketplace_client import Client, IntegrityError, MarketplaceError
from marketplace_client.download import TextProgress

from tests.client.stub import Reply, Stub, file_server

LICENSE = "01J0000000000000000000000A"
BIG = bytes(range(256)) * 1024  # 256 KiB


def _entry(file_id: int, path: str, content: bytes, sha256: str | None = None) -> dict[str, Any]:
    return {
        "id": file_id,
        "path": path,
        "size_bytes": len(content),
        "sha256": sha256 or hashlib.sha256(content).hexdigest(),
        "media_type": "application/octet-stream",
        "downloadable": True,
    }


def _serve(
    stub: Stub, files: dict[str, bytes], *, manifest_sha: dict[str, str] | None = None, **file_options: Any
) -> None:
    """The manifest and links of a license covering ``files`` (path -> bytes) in version 1.0.0, and the files."""
    entries = [_entry(i, path, data, (manifest_sha or {}).get(path)) for i, (path, data) in enumerate(files.items(), 1)]
    manifest = {
        "license": LICENSE,
        "dataset": "speech",
        "versions": [{"version": "1.0.0", "manifest_digest": "d", "files": entries}],
    }
    links = [
        {
            **{k: e[k] for k in ("path", "size_bytes")},
            "file_id": e["id"],
            "version": "1.0.0",
            "url": f"{stub.url}/files/{e['id']}",
            "sha256": hashlib.sha256(files[e["path"]]).hexdigest(),
            "expires_at": None,
        }
        for e in entries
    ]
    stub.route(f"GET /api/v1/licenses/{LICENSE}/manifest", Reply(200, manifest))
    stub.route(f"POST /api/v1/licenses/{LICENSE}/download-links", Reply(201, {"license_id": LICENSE, "data": links}))
    for entry in entries:
        stub.route(f"GET /files/{entry['id']}", file_server(files[entry["path"]], **file_options))


def _client(stub: Stub) -> Client:
    return Client(stub.url, "mkp_test_key", sleep=lambda _s: None, timeout=5)


def test_an_interrupted_download_resumes_from_its_part_file_with_a_range(stub: Stub, tmp_path: Path) -> None:
    _serve(stub, {"data/big.bin": BIG})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin.part").write_bytes(BIG[:100_000])
    [done] = _client(stub).download_license(LICENSE, tmp_path)
    assert done.resumed_from == 100_000 and done.sha256 == hashlib.sha256(BIG).hexdigest()
    assert (tmp_path / "data" / "big.bin").read_bytes() == BIG
    assert not (tmp_path / "data" / "big.bin.part").exists()
    [fetch] = stub.requests_to("GET /files/1")
    assert fetch.headers["range"] == "bytes=100000-"
    assert "authorization" not in fetch.headers  # the API key is never sent to a storage link
    assert stub.requests_to(f"POST /api/v1/licenses/{LICENSE}/download-links")[0].json() == {"version": "1.0.0"}


def test_a_transfer_broken_off_mid_file_is_resumed_where_it_stopped(stub: Stub, tmp_path: Path) -> None:
    _serve(stub, {"big.bin": BIG})
    stub.route("GET /files/1", Reply(200, BIG, cut_after=70_000), file_server(BIG))
    [done] = _client(stub).download_license(LICENSE, tmp_path)
    assert (tmp_path / "big.bin").read_bytes() == BIG and done.resumed_from == 0
    first, second = stub.requests_to("GET /files/1")
    assert "range" not in first.headers
    resumed_at = int(second.headers["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 70_000


def test_a_server_that_ignores_the_range_makes_the_file_start_over(stub: Stub, tmp_path: Path) -> None:
    _serve(stub, {"big.bin": BIG}, honour_range=False)
    (tmp_path / "big.bin.part").write_bytes(b"stale bytes from elsewhere")
    _client(stub).download_license(LICENSE, tmp_path)
    assert (tmp_path / "big.bin").read_bytes() == BIG


def test_a_sha256_that_does_not_match_the_manifest_raises_and_keeps_nothing(stub: Stub, tmp_path: Path) -> None:
    _serve(stub, {"a.csv": b"id\n1\n"}, manifest_sha={"a.csv": "0" * 64})
    with pytest.raises(IntegrityError) as raised:
        _client(stub).download_license(LICENSE, tmp_path)
    assert raised.value.path == "a.csv" and raised.value.expected == "0" * 64
    assert raised.value.actual == hashlib.sha256(b"id\n1\n").hexdigest()
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_part_file_is_caught_by_the_final_check(stub: Stub, tmp_path: Path) -> None:
    _serve(stub, {"big.bin": BIG})
    (tmp_path / "big.bin.part").write_bytes(b"X" * 1000)  # not the file's first bytes
    with pytest.raises(IntegrityError):
        _client(stub).download_license(LICENSE, tmp_path)
    assert not (tmp_path / "big.bin").exists() and not (tmp_path / "big.bin.part").exists()


def test_files_download_in_parallel_with_a_progress_line(stub: Stub, tmp_path: Path) -> None:
    files = {f"part-{i}.bin": bytes([i]) * (10_000 + i) for i in range(8)}
    _serve(stub, files)
    out = io.StringIO()
    progress = TextProgress(sum(len(b) for b in files.values()), len(files), stream=out)
    done = _client(stub).download_license(LICENSE, tmp_path, parallel=4, progress=progress)
    assert sorted(d.path for d in done) == sorted(files)
    for path, content in files.items():
        assert (tmp_path / path).read_bytes() == content
    assert (
        out.getvalue().strip().splitlines()[-1] == f"8 file(s): {sum(map(len, files.values())) / 1000:.1f} kB of "
        f"{sum(map(len, files.values())) / 1000:.1f} kB (100%)"
    )
    # Run again: every file is already complete and verified, nothing is fetched.
    before = len(stub.seen)
    again = _client(stub).download_license(LICENSE, tmp_path)
    assert all(d.resumed_from == -1 for d in again)
    assert not [s for s in stub.seen[before:] if s.path.startswith("/files/")]


def test_a_path_leaving_the_destination_is_refused(stub: Stub, tmp_path: Path) -> None:
    _serve(stub, {"../escape.txt": b"x"})
    with pytest.raises(MarketplaceError, match="outside the destination"):
        _client(stub).download_license(LICENSE, tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists()
