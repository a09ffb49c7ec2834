"""How listing facts map onto DCAT-AP and SPDX terms: access rights, license documents and expressions, language
and media-type URIs, SPDX dataset types."""

from __future__ import annotations

import pytest

from marketplace.access.states import AccessMode
from marketplace.catalog import dcat, spdx
from marketplace.catalog.linked_data import OfferedLicense
from marketplace.catalog.models import Dataset
from marketplace.catalog.vocab import Modality

ACCESS = "http://publications.europa.eu/resource/authority/access-right/"


def _offer(license_id: str, *, open_license: bool, free: bool) -> OfferedLicense:
    return OfferedLicense(
        title=license_id,
        license_name=license_id,
        license_url=f"https://example.org/{license_id}",
        policy_url="https://example.org/policy",
        price="free" if free else "€99.00",
        license_id=license_id,
        open_license=open_license,
        free=free,
    )


OPEN = _offer("CC-BY-4.0", open_license=True, free=True)
PAID = _offer("LicenseRef-standard-commercial-1.0", open_license=False, free=False)


@pytest.mark.parametrize(
    ("mode", "offers", "expected"),
    [
        (AccessMode.OPEN, [OPEN], "PUBLIC"),
        (AccessMode.OPEN, [PAID], "RESTRICTED"),
        (AccessMode.OPEN, [PAID, OPEN], "PUBLIC"),
        (AccessMode.OPEN, [], "RESTRICTED"),
        (AccessMode.GATED_MANUAL, [OPEN], "NON_PUBLIC"),
        (AccessMode.CREDENTIALED, [], "NON_PUBLIC"),
    ],
)
def test_access_rights_follow_open_licensed_and_governed_access(
    mode: AccessMode, offers: list[OfferedLicense], expected: str
) -> None:
    assert dcat.dataset_access_right(Dataset(slug="x", organisation_id=1, title="x", access_mode=mode), offers) == (
        expected
    )


def test_license_documents_are_spdx_uris_for_open_licenses_and_our_pages_otherwise() -> None:
    assert dcat.license_document(OPEN)["@id"] == "http://spdx.org/licenses/CC-BY-4.0"
    assert dcat.license_document(PAID)["@id"] == "https://example.org/LicenseRef-standard-commercial-1.0"
    assert dcat.license_document(PAID)["@type"] == "dct:LicenseDocument"


def test_license_expression_joins_each_offered_license_once() -> None:
    assert spdx.license_expression([]) is None
    assert spdx.license_expression([OPEN]) == "CC-BY-4.0"
    assert spdx.license_expression([OPEN, PAID, OPEN]) == "CC-BY-4.0 OR LicenseRef-standard-commercial-1.0"


@pytest.mark.parametrize(
    ("tag", "iri"),
    [("en", "ENG"), ("en-US", "ENG"), ("es", "SPA"), ("de", "DEU"), ("zh-Hans", "ZHO"), ("not a language", None)],
)
def test_languages_are_eu_authority_uris(tag: str, iri: str | None) -> None:
    expected = f"http://publications.europa.eu/resource/authority/language/{iri}" if iri else None
    assert dcat.language_iri(tag) == expected


def test_media_types_are_iana_uris_without_parameters() -> None:
    assert (
        dcat.media_type_iri("Text/CSV; charset=utf-8")["@id"] == "http://www.iana.org/assignments/media-types/text/csv"
    )


@pytest.mark.parametrize(
    ("modality", "details", "expected"),
    [
        (Modality.TABULAR, {}, ["structured"]),
        (Modality.MULTIMODAL, {"text": {}, "image": {}}, ["text", "image"]),
        (Modality.MULTIMODAL, {}, ["other"]),
        (None, {}, ["noAssertion"]),
    ],
)
def test_spdx_dataset_types_come_from_the_modality(
    modality: Modality | None, details: dict[str, dict[str, str]], expected: list[str]
) -> None:
    dataset = Dataset(slug="x", organisation_id=1, title="x", modality=modality, modality_details=details)
    types = [iri.rsplit("/", 1)[1] for iri in spdx.dataset_types(dataset)]
    assert types == expected
