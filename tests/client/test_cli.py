"""The command line's exit codes (in process, against the scripted stub): usage, a file that does not match its
manifest, an unreadable certificate file."""

from __future__ import annotations

from pathlib import Path

import pytest
from marketplace_client.cli import EXIT_INTEGRITY, EXIT_OK, EXIT_USAGE, main

from tests.client.stub import Reply, Stub
from tests.client.test_downloads import LICENSE, _serve

HELD = {"id": LICENSE, "status": "active", "dataset": "speech", "versions": ["1.0.0"], "all_versions": False}


def test_no_site_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MARKETPLACE_URL", raising=False)
    with pytest.raises(SystemExit) as raised:
        main(["search", "speech"])
    assert raised.value.code == EXIT_USAGE


def test_download_exits_4_when_a_file_does_not_match(
    stub: Stub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.route("GET /api/v1/licenses", Reply(200, {"data": [HELD], "next_cursor": None}))
    _serve(stub, {"a.csv": b"id\n1\n"}, manifest_sha={"a.csv": "0" * 64})
    code = main(["--base-url", stub.url, "--api-key", "k", "download", "speech", "--dest", str(tmp_path), "--quiet"])
    assert code == EXIT_INTEGRITY
    assert "a.csv: SHA-256 does not match the manifest" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_download_writes_and_lists_each_verified_file(
    stub: Stub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.route("GET /api/v1/licenses", Reply(200, {"data": [HELD], "next_cursor": None}))
    _serve(stub, {"a.csv": b"id\n1\n"})
    code = main(["--base-url", stub.url, "--api-key", "k", "download", "speech", "--dest", str(tmp_path)])
    assert code == EXIT_OK and (tmp_path / "a.csv").read_bytes() == b"id\n1\n"
    out = capsys.readouterr()
    assert out.out.strip().endswith(str(tmp_path / "a.csv")) and "1 file(s) downloaded and verified" in out.err


def test_an_unreadable_certificate_file_is_a_usage_error(stub: Stub, tmp_path: Path) -> None:
    code = main(["--base-url", stub.url, "verify", str(tmp_path / "missing.jwt"), "--jwks", str(tmp_path / "none")])
    assert code == EXIT_USAGE
