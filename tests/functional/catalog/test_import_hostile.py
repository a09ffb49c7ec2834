"""Hostile catalog files: a CSV cell over the parser's limit and a deeply nested JSON Lines row are row problems
with a clear message (nothing imported), never an error on our side."""

from __future__ import annotations

import csv
import json

import pytest
from sqlmodel import Session, func, select

from marketplace.accounts.models import Role
from marketplace.catalog import importer
from marketplace.catalog.models import Dataset
from marketplace.errors import ValidationFailed
from tests.factories import OrganisationFactory, member
from tests.functional.catalog.conftest import BASE_RECORD
from tests.functional.catalog.test_import import to_csv


@pytest.fixture()
def provider(db_session: Session):  # type: ignore[no-untyped-def]
    org = OrganisationFactory(slug="hostile-data", name="Hostile Data")
    return org, member(org, Role.ADMIN, email="hostile@example.org")


def _listings(db_session: Session, org) -> int:  # type: ignore[no-untyped-def]
    return db_session.exec(select(func.count()).select_from(Dataset).where(Dataset.organisation_id == org.id)).one()


def _record(external_id: str) -> dict:  # type: ignore[type-arg]
    return {**json.loads(json.dumps(BASE_RECORD)), "external_id": external_id}


def test_a_csv_cell_over_the_parser_limit_is_a_row_problem(uow, provider, db_session: Session) -> None:
    org, user = provider
    good = to_csv([_record("OK-1"), _record("OK-2")]).decode()
    header, first, second = good.strip().splitlines()
    huge = '"' + "x" * (csv.field_size_limit() + 10) + '"'
    data = "\n".join([header, first, second.replace("OK-2", "OK-3"), huge]).encode()
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=data, filename="c.csv")
    problems = [(p.location, p.field, p.message) for p in caught.value.details]
    assert problems == [
        ("row 4", "row", f"a cell is longer than {csv.field_size_limit():,} characters, the most one cell may hold")
    ]
    assert caught.value.message.startswith("Nothing was imported")
    assert _listings(db_session, org) == 0


def test_a_deeply_nested_json_lines_row_is_a_row_problem(uow, provider, db_session: Session) -> None:
    org, user = provider
    good = json.dumps(_record("OK-1"))
    too_deep_for_the_parser = '{"external_id": "D-1", "title": ' + "[" * 5000 + "]" * 5000 + "}"
    nested: object = "x"
    for _ in range(200):
        nested = {"a": nested}
    parses_but_past_the_bound = json.dumps({**_record("D-2"), "modality_details": nested})
    data = "\n".join([good, too_deep_for_the_parser, parses_but_past_the_bound]).encode()
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=data, filename="c.jsonl")
    assert [(p.location, p.field, p.message) for p in caught.value.details] == [
        ("line 2", "line", "the object is nested more than 64 levels deep"),
        ("line 3", "line", "the object is nested more than 64 levels deep"),
    ]
    assert _listings(db_session, org) == 0


def test_a_deeply_nested_croissant_file_is_refused(uow, provider) -> None:
    org, user = provider
    with pytest.raises(ValidationFailed) as caught:
        importer.import_catalog(uow, user, organisation=org.slug, data=b"[" * 5000 + b"]" * 5000, fmt="croissant")
    assert caught.value.details[0].field == "file" and "nested more than 64 levels" in caught.value.message
