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
    assert "exported 5 entries of buy, head " in result.output
    return out


def _verify(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", "verify", str(path)])
    return result.exit_code, result.output


def test_verify_needs_no_application(exported: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def no_app() -> None:
        raise AssertionError("the application was created")

    monkeypatch.setattr(main, "create_app", no_app)
    code, output = _verify(exported)
    lines = exported.read_text().splitlines()
    assert code == 0 and output.strip() == f"OK: 5 entries, head {json.loads(lines[-1])['hash']}"


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
    assert "buy: OK: 1 entries" in result.output and "prov: OK: 1 entries" in result.output
