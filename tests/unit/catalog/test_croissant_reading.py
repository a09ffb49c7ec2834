"""Reading Croissant values as hosts write them: sizes, ids, language maps, paths, sources in words."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace.catalog.croissant.reading import match_key, read_document
from marketplace.catalog.croissant.store import describe_source, schema_tables
from marketplace.catalog.croissant.structure import size_in_bytes, text


@pytest.mark.parametrize(
    ("written", "size"),
    [
        ("1024", 1024),
        (2048, 2048),
        ("1024 B", 1024),
        ("10 bytes", 10),
        ("14.21 MB", 14_210_000),
        ("3.1 kB", 3100),
        ("1.5 GiB", 1_610_612_736),
        ("lots", None),
        ("", None),
        (-3, None),
        (True, None),
    ],
)
def test_content_sizes(written: Any, size: int | None) -> None:
    assert size_in_bytes(written) == size


def test_text_of_language_maps_values_and_lists() -> None:
    assert text({"fr": "Bonjour", "en": "Hello"}) == "Hello"
    assert text({"de": "Hallo"}) == "Hallo"
    assert text({"@value": "x", "@language": "en"}) == "x"
    assert text(["a", {"name": "b"}, None]) == "a\n\nb"
    assert text({"@id": "only-an-id"}) == ""


def test_match_keys_fit_the_listing_id_or_are_digested() -> None:
    assert match_key({"identifier": "abc-1", "url": "https://x.org/a"}) == "abc-1"
    assert match_key({"@id": "https://x.org/d/1"}) == "https://x.org/d/1"
    digested = match_key({"url": "https://www.openml.org/search?type=data&id=31"})
    assert digested.startswith("croissant-") and len(digested) == 42
    assert match_key({"name": "Only a name"}) == match_key({"name": "Only a name"}) != match_key({"name": "Other"})


def _document(**distribution: Any) -> dict[str, Any]:
    return {"@type": "sc:Dataset", "name": "Paths", "distribution": [{"@type": "cr:FileObject", **distribution}]}


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"@id": "a", "contentUrl": "data/a.csv"}, "data/a.csv"),
        ({"@id": "a", "name": "a.csv", "contentUrl": "https://x.org/dl?id=1"}, "a.csv"),
        ({"@id": "r", "contentUrl": "https://x.org/files/train%20set.csv"}, "train set.csv"),
        ({"@id": "g", "contentUrl": "git+https://x.org/r.git", "name": "../up"}, "r.git"),
        ({"@id": "h", "contentUrl": "/etc/passwd"}, ""),
    ],
)
def test_where_an_upload_fulfils_a_declared_file(entry: dict[str, Any], path: str) -> None:
    parts, problems = read_document(_document(encodingFormat="text/csv", **entry))
    assert problems == [] and parts is not None
    assert parts.distribution[0].path == path


def test_only_complete_relative_file_objects_become_manifest_entries() -> None:
    digest = "a" * 64
    document = {
        "@type": "sc:Dataset",
        "name": "Manifest",
        "version": "2",
        "distribution": [
            {
                "@type": "cr:FileObject",
                "@id": "ok",
                "contentUrl": "ok.csv",
                "encodingFormat": "text/csv",
                "sha256": digest.upper(),
                "contentSize": "10 B",
            },
            {
                "@type": "cr:FileObject",
                "@id": "no-size",
                "contentUrl": "b.csv",
                "encodingFormat": "text/csv",
                "sha256": digest,
            },
            {
                "@type": "cr:FileObject",
                "@id": "inner",
                "contentUrl": "c.csv",
                "encodingFormat": "text/csv",
                "sha256": digest,
                "contentSize": "1",
                "containedIn": {"@id": "ok"},
            },
            {
                "@type": "cr:FileObject",
                "@id": "placeholder",
                "contentUrl": "d.csv",
                "encodingFormat": "text/csv",
                "sha256": "https://github.com/mlcommons/croissant/issues/80",
                "contentSize": "1",
            },
        ],
    }
    parts, problems = read_document(document)
    assert problems == [] and parts is not None
    [version] = parts.record["versions"]
    assert version["version"] == "2.0.0"
    assert version["files"] == [{"path": "ok.csv", "sha256": digest, "media_type": "text/csv", "size_bytes": 10}]
    assert parts.distribution[3].sha256 == "https://github.com/mlcommons/croissant/issues/80"  # kept as written


def test_sources_in_words_and_schema_tables() -> None:
    source = {
        "fileSet": {"@id": "parquet"},
        "extract": {"column": "objects"},
        "transform": [{"jsonPath": "bbox"}, {"regex": "^(.*)$"}],
    }
    assert describe_source(source) == "column 'objects' of files parquet (jsonPath 'bbox'; regex '^(.*)$')"
    assert describe_source({"fileObject": {"@id": "a.csv"}}) == "file a.csv"
    assert describe_source(None) == ""
    [table] = schema_tables(
        [
            {
                "@id": "splits",
                "key": {"@id": "splits/name"},
                "field": [{"@id": "splits/name", "dataType": ["sc:Text", "https://schema.org/Enumeration"]}],
                "data": [{"splits/name": f"part-{n}"} for n in range(25)],
            }
        ]
    )
    assert (table.name, table.key, table.value_count, len(table.values)) == ("splits", "splits/name", 25, 20)
    assert (table.rows[0].name, table.rows[0].data_type) == ("name", "Text, Enumeration")
