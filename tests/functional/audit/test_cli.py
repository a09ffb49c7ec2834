"""``marketplace audit export`` / ``verify`` / ``check``: export a chain, verify it offline, fail naming the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from marketplace import audit
from marketplace.cli import main
from tests.functional.audit.conftest import uow_for


@pytest.fixture()
def exported(app, db_session, licensed, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    uow = uow_for(app, db_session)
    for n in range(4):
        audit.append(uow, organisation_ids=[licensed["buyer"].id], kind="test.cli", subject_type="thing",
                     subject_id=n, actor="system", data={"n": n})  # fmt: skip
    db_session.flush()
    out = tmp_path / "buy.jsonl"
    result = app.test_cli_runner().invoke(args=["audit", "export", "--org", "buy", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "exported 5 entries of buy, head " in result.output and result.output.rstrip().endswith(", signed")
    return out


def _verify(path: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", "verify", str(path), *options])
    return result.exit_code, result.output


@pytest.fixture()
def jwks(app, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(app.extensions["marketplace.context"].keyring.public_jwks()))
    return path


def test_verify_needs_no_application(exported: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def no_app() -> None:
        raise AssertionError("the application was created")

    monkeypatch.setattr(main, "create_app", no_app)
    code, output = _verify(exported)
    lines = exported.read_text().splitlines()
    assert code == 0 and output.startswith(f"OK: 5 entries, head {json.loads(lines[-2])['hash']}; head signed by ")
    assert "(signature not checked: no JWKS)" in output


def test_verify_with_the_jwks_checks_the_signed_head(exported: Path, jwks: Path) -> None:
    code, output = _verify(exported, "--jwks", str(jwks))
    assert code == 0 and "signature valid" in output


def test_a_dropped_newest_entry_fails_against_the_signed_head(exported: Path, jwks: Path) -> None:
    lines = exported.read_text().splitlines(keepends=True)
    exported.write_text("".join(lines[:-2] + lines[-1:]))
    code, output = _verify(exported, "--jwks", str(jwks))
    assert code == 1 and output.startswith("FAILED: line 5: signed head does not match the chain")


def test_an_export_without_its_signed_head_fails_when_a_jwks_is_given(exported: Path, jwks: Path) -> None:
    lines = exported.read_text().splitlines(keepends=True)
    exported.write_text("".join(lines[:-1]))
    assert _verify(exported)[0] == 0
    assert _verify(exported, "--jwks", str(jwks)) == (1, "FAILED: line 6: no signed head (the export has none)\n")


def test_an_unreadable_jwks_file_is_refused(exported: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    code, output = _verify(exported, "--jwks", str(bad))
    assert code == 2 and "the JWKS file cannot be read" in output


def test_a_changed_line_fails_naming_it(exported: Path) -> None:
    lines = exported.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"n":1', '"n":7')
    exported.write_text("".join(lines))
    code, output = _verify(exported)
    assert code == 1 and output.startswith("FAILED: line 3: hash mismatch")


def test_a_deleted_line_fails_naming_the_gap(exported: Path) -> None:
    lines = exported.read_text().splitlines(keepends=True)
    exported.write_text("".join(lines[:1] + lines[2:]))
    assert _verify(exported) == (1, "FAILED: line 2: sequence gap (expected seq 2, found 3)\n")


def test_reordered_lines_fail(exported: Path) -> None:
    lines = exported.read_text().splitlines(keepends=True)
    lines[3], lines[4] = lines[4], lines[3]
    exported.write_text("".join(lines))
    assert _verify(exported) == (1, "FAILED: line 4: sequence gap (expected seq 4, found 5)\n")


def test_a_file_that_is_not_json_lines_fails_on_line_one(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("hello\n")
    code, output = _verify(path)
    assert code == 1 and output.startswith("FAILED: line 1: unreadable JSON")


def test_export_of_an_unknown_organisation_is_refused(app, db_session) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["audit", "export", "--org", "nobody"])
    assert result.exit_code == 2 and "no organisation called 'nobody'" in result.output


def test_check_verifies_the_stored_chains(app, db_session, licensed) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["audit", "check"])
    assert result.exit_code == 0, result.output
    assert "buy: OK: 1 entry, head" in result.output and "prov: OK: 1 entry, head" in result.output
