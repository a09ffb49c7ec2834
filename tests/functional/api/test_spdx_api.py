"""The SPDX 3.0 export in the API: the same document as the public web route, valid for the SPDX model, 404 for a
draft version, and refused without the ``catalog:read`` scope."""

from __future__ import annotations

from marketplace.catalog.spdx import validate_document
from marketplace.catalog.vocab import VersionStatus
from tests.factories import DatasetVersionFactory
from tests.functional.api.conftest import COMMERCIAL, bearer


def test_the_api_serves_the_published_versions_spdx_document(api, world) -> None:
    secret = world.key("buyer_admin", ["catalog:read"], org="buy")
    response = api.get("/api/v1/datasets/speech/versions/1.0.0/spdx", headers=bearer(secret))
    assert response.status_code == 200 and response.mimetype == "application/spdx+json"
    document = response.get_json(force=True)
    validate_document(document)
    assert document == api.get("/datasets/speech/versions/1.0.0/spdx.json").get_json(force=True)
    expressions = {
        e["simplelicensing_licenseExpression"]
        for e in document["@graph"]
        if e["type"] == "simplelicensing_LicenseExpression"
    }
    assert expressions == {f"CC-BY-4.0 OR {COMMERCIAL}"}
    (file,) = [e for e in document["@graph"] if e["type"] == "software_File"]
    assert file["verifiedUsing"][0]["hashValue"] == world.objects["file"].sha256


def test_a_draft_version_is_404_and_the_scope_is_required(api, world) -> None:
    DatasetVersionFactory(dataset=world.objects["dataset"], version="2.0.0", status=VersionStatus.DRAFT)
    world.session.flush()
    secret = world.key("buyer_admin", ["catalog:read"], org="buy")
    assert api.get("/api/v1/datasets/speech/versions/2.0.0/spdx", headers=bearer(secret)).status_code == 404
    assert api.get("/datasets/speech/versions/2.0.0/spdx.json").status_code == 404
    other = world.key("buyer_admin", ["orders:write"], org="buy")
    assert api.get("/api/v1/datasets/speech/versions/1.0.0/spdx", headers=bearer(other)).status_code == 403
    assert api.get("/api/v1/datasets/speech/versions/1.0.0/spdx").status_code == 401
