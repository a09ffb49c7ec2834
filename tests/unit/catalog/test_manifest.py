"""The canonical manifest and its digest, and reading manifests from text."""

from __future__ import annotations

import hashlib
import json

import pytest

from marketplace.catalog.manifest import canonical_manifest, compute_manifest_digest, parse_manifest_text
from marketplace.errors import ValidationFailed

A = {"path": "b/ü.txt", "size_bytes": 10, "sha256": "a" * 64, "media_type": "text/plain"}
B = {"path": "a.csv", "size_bytes": 2**40, "sha256": "b" * 64, "media_type": "text/csv"}


def test_canonical_form_is_sorted_compact_utf8_json() -> None:
    canonical = canonical_manifest([A, B])
    assert (
        canonical
        == (
            '[{"media_type":"text/csv","path":"a.csv","sha256":"' + "b" * 64 + '","size_bytes":1099511627776},'
            '{"media_type":"text/plain","path":"b/ü.txt","sha256":"' + "a" * 64 + '","size_bytes":10}]'
        ).encode()
    )
    assert compute_manifest_digest([A, B]) == hashlib.sha256(canonical).hexdigest()


def test_digest_ignores_order_but_not_content() -> None:
    assert compute_manifest_digest([A, B]) == compute_manifest_digest([B, A])
    assert compute_manifest_digest([A, B]) != compute_manifest_digest([A, {**B, "size_bytes": 1}])
    assert compute_manifest_digest([A, B]) != compute_manifest_digest([A, {**B, "media_type": "text/plain"}])
    assert compute_manifest_digest([A]) != compute_manifest_digest([A, B])


def test_digest_accepts_objects_with_the_fields() -> None:
    class File:
        def __init__(self, row: dict) -> None:  # type: ignore[type-arg]
            self.__dict__.update(row)

    assert compute_manifest_digest([File(A), File(B)]) == compute_manifest_digest([A, B])


def test_manifest_from_csv_json_and_jsonl() -> None:
    csv_text = f"path,size_bytes,sha256,media_type\na.csv,5,{'C' * 64},TEXT/CSV\n"
    files = parse_manifest_text(csv_text)
    assert files == [{"path": "a.csv", "size_bytes": 5, "sha256": "c" * 64, "media_type": "text/csv"}]
    assert parse_manifest_text(json.dumps([A])) == [A]
    assert parse_manifest_text(json.dumps(A) + "\n" + json.dumps(B)) == [A, B]


def test_every_problem_is_named_with_its_line() -> None:
    text = (
        "path,size_bytes,sha256,media_type\n"
        f"ok.csv,1,{'a' * 64},text/csv\n"
        f"../evil,1,{'a' * 64},text/csv\n"
        "x.csv,-4,nothex,text\n"
        f"ok.csv,1,{'a' * 64},text/csv\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        parse_manifest_text(text)
    problems = [(p.location, p.field) for p in caught.value.details]
    assert problems == [("line 3", "path"), ("line 4", "size_bytes"), ("line 4", "sha256"), ("line 4", "media_type")]
    with pytest.raises(ValidationFailed) as caught:
        parse_manifest_text(
            f"path,size_bytes,sha256,media_type\nok.csv,1,{'a' * 64},text/csv\nok.csv,2,{'b' * 64},text/csv\n"
        )
    assert [(p.location, p.field) for p in caught.value.details] == [("line 3", "path")]


@pytest.mark.parametrize(
    "text,message", [("", "empty"), ("path,size\n", "header"), ("[1", "not valid JSON"), ('{"a": 1}', "path")]
)
def test_unreadable_manifests(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        parse_manifest_text(text)
