"""The validators of the standard codes a listing uses."""

from __future__ import annotations

import pytest

from marketplace.catalog import vocab


@pytest.mark.parametrize(
    "tag,canonical",
    [
        ("en", "en"),
        ("en-gb", "en-GB"),
        ("sr-latn-rs", "sr-Latn-RS"),
        ("de-CH", "de-CH"),
        ("yue-Hant-HK", "yue-Hant-HK"),
        (" fr ", "fr"),
    ],
)
def test_language_tags_are_canonicalised(tag: str, canonical: str) -> None:
    assert vocab.language_tag(tag) == canonical


@pytest.mark.parametrize("tag", ["", "english", "en_GB", "xx-zz", "en--GB", "e", "en-GB-" + "x" * 40, "12", "en GB"])
def test_bad_language_tags_are_refused(tag: str) -> None:
    with pytest.raises(ValueError, match="BCP 47"):
        vocab.language_tag(tag)


def test_language_names() -> None:
    assert vocab.language_name("de-CH") == "German (Switzerland)"


@pytest.mark.parametrize("code,canonical", [("de", "DE"), (" US ", "US"), ("gb", "GB")])
def test_country_codes(code: str, canonical: str) -> None:
    assert vocab.country_code(code) == canonical


@pytest.mark.parametrize("code", ["UK", "XX", "DEU", "D", "", "1A", "EU"])
def test_bad_country_codes(code: str) -> None:
    with pytest.raises(ValueError, match="ISO 3166-1"):
        vocab.country_code(code)


@pytest.mark.parametrize(
    "expression,normalised",
    [
        ("cc-by-4.0", "CC-BY-4.0"),
        ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
        ("mit  and  (apache-2.0 or bsd-3-clause)", "MIT AND (Apache-2.0 OR BSD-3-Clause)"),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0"),
        ("LicenseRef-acme-commercial-2", "LicenseRef-acme-commercial-2"),
        ("LicenseRef-acme OR CC0-1.0", "LicenseRef-acme OR CC0-1.0"),
        ("noassertion", "NOASSERTION"),
    ],
)
def test_spdx_expressions(expression: str, normalised: str) -> None:
    assert vocab.spdx_expression(expression) == normalised


@pytest.mark.parametrize(
    "expression", ["", "Foo-1.0", "MIT AND", "(MIT", "MIT OR OR BSD", "LicenseRef-", "CC-BY-4.0 WITH"]
)
def test_bad_spdx_expressions(expression: str) -> None:
    with pytest.raises(ValueError):
        vocab.spdx_expression(expression)


@pytest.mark.parametrize(
    "value,canonical",
    [
        ("text/CSV", "text/csv"),
        ("application/vnd.apache.parquet", "application/vnd.apache.parquet"),
        ("audio/x-wav", "audio/x-wav"),
    ],
)
def test_media_types(value: str, canonical: str) -> None:
    assert vocab.media_type(value) == canonical


@pytest.mark.parametrize(
    "value", ["csv", "text/", "/csv", "text/csv; charset=utf-8", "foo/bar", "text/c sv", "text/csv/x"]
)
def test_bad_media_types(value: str) -> None:
    with pytest.raises(ValueError):
        vocab.media_type(value)


def test_semantic_versions_and_their_order() -> None:
    labels = [
        "1.0.0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta",
        "1.0.0-rc.1",
        "0.9.12",
        "1.10.0",
        "1.2.0",
        "1.0.0-alpha.beta",
    ]
    ordered = sorted(labels, key=vocab.semver_key)
    assert ordered == [
        "0.9.12",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-rc.1",
        "1.0.0",
        "1.2.0",
        "1.10.0",
    ]
    for bad in ["1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0+", ""]:
        with pytest.raises(ValueError):
            vocab.semantic_version(bad)


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "a/./b", "", "a\x00b", "x" * 1025])
def test_manifest_paths_must_be_relative_and_clean(path: str) -> None:
    with pytest.raises(ValueError):
        vocab.manifest_path(path)


def test_every_vocabulary_has_labels() -> None:
    assert vocab.Task.ASR.label == "Speech recognition (ASR)"
    assert vocab.Industry.BFSI.label.startswith("Banking")
    assert vocab.Modality.TIME_SERIES.label == "Time series"
    assert vocab.Task.label_of("unknown") == "unknown"
