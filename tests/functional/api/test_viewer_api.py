"""The data viewer in the API: rows, search and statistics of samples (``catalog:read``) and of licensed full
files (``downloads``, through the download gate), recorded as views, with the viewer's error codes."""

from __future__ import annotations

from sqlmodel import select

import licensing
from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.delivery.models import DownloadEvent, ViewEvent
from marketplace.licenses import services as licenses
from tests.factories import MembershipFactory
from tests.functional.api.conftest import bearer, stored_file, work

TABLE = b"id,word\n" + b"".join(f"{i},w{i}\n".encode() for i in range(1, 251))


def _file_path(world, file, what: str = "rows") -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/datasets/speech/versions/1.0.0/files/{file.id}/{what}"


def _big_file(world):  # type: ignore[no-untyped-def]
    return stored_file(world.app, world.objects["version"], "data/words.csv", TABLE)


def test_rows_of_a_licensed_file_in_pages_like_the_hub(world, client) -> None:
    file = _big_file(world)
    key = bearer(world.key("purchaser", ["downloads"]))
    body = client.get(_file_path(world, file) + "?offset=100&length=100", headers=key).get_json()
    assert body["num_rows_total"] == 250
    assert [f["name"] for f in body["features"]] == ["id", "word"]
    assert body["features"][0]["kind"] == "integer"
    assert body["rows"][0] == {"row_idx": 100, "row": {"id": 101, "word": "w101"}}
    assert len(body["rows"]) == 100
    found = client.get(_file_path(world, file, "search") + "?q=W24", headers=key).get_json()
    assert found["num_rows_total"] == 11 and found["query"] == "W24"
    assert found["rows"][0] == {"row_idx": 23, "row": {"id": 24, "word": "w24"}}
    views = world.session.exec(select(ViewEvent)).all()
    assert [(v.what, v.api_key_id is not None, v.user_id) for v in views] == [
        ("rows", True, None),
        ("search", True, None),
    ]
    assert world.session.exec(select(DownloadEvent)).all() == []


def test_statistics_of_a_licensed_file(world, client) -> None:
    file = _big_file(world)
    key = bearer(world.key("purchaser", ["downloads"]))
    first = client.get(_file_path(world, file, "statistics"), headers=key).get_json()
    # Asked for on demand; the in-process queue computed them right after that request committed.
    assert first["state"] in ("pending", "ready")
    body = client.get(_file_path(world, file, "statistics"), headers=key).get_json()
    assert body["state"] == "ready", body
    columns = {c["name"]: c for c in body["statistics"]["columns"]}
    assert body["statistics"]["rows"] == 250
    assert (columns["id"]["min"], columns["id"]["max"], columns["id"]["distinct"]) == (1, 250, 250)
    assert columns["word"]["histogram_of"] == "lengths"


def test_a_credential_of_an_organisation_without_a_license_is_refused(world, client) -> None:
    file = _big_file(world)
    # The provider's own key: the licensor holds no license for its own files.
    seller = bearer(world.key("seller", ["downloads"]))
    for what in ("rows", "search?q=w", "statistics"):
        response = client.get(_file_path(world, file, what), headers=seller)
        assert response.status_code == 403, what
        assert response.get_json()["error"]["code"] == "not_licensee"
    # An organisation key is held to its organisation even when its person also belongs to a licensee.
    MembershipFactory(organisation=world.orgs["prov"], user=world.people["purchaser"], role=Role.ADMIN)
    world.session.flush()
    org_key = bearer(world.key("purchaser", ["downloads"], org="prov"))
    assert client.get(_file_path(world, file), headers=org_key).get_json()["error"]["code"] == "not_licensee"
    assert world.session.exec(select(ViewEvent)).all() == []


def test_a_revoked_license_is_refused(world, client) -> None:
    file = _big_file(world)
    grant = world.objects["grants"]["buy"]
    licenses.transition_grant(
        work(world.app, world.session), grant, licensing.GrantAction.REVOKE, reason="t", actor="t"
    )
    world.session.flush()
    response = client.get(_file_path(world, file), headers=bearer(world.key("purchaser", ["downloads"])))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "grant_revoked"


def test_limits_and_malformed_files_have_their_codes(world, client) -> None:
    file = _big_file(world)
    key = bearer(world.key("purchaser", ["downloads"]))
    assert client.get(_file_path(world, file) + "?length=101", headers=key).status_code == 422
    assert client.get(_file_path(world, file) + "?offset=-1", headers=key).status_code == 422
    settings = world.app.extensions["marketplace.context"].settings
    settings["VIEWER_MAX_OFFSET"] = 10
    far = client.get(_file_path(world, file) + "?offset=11", headers=key)
    assert far.status_code == 422 and far.get_json()["error"]["details"][0]["field"] == "offset"
    settings["VIEWER_MAX_BYTES"] = 100
    big = client.get(_file_path(world, file), headers=key)
    assert big.status_code == 409 and big.get_json()["error"]["code"] == "viewer_file_too_large"
    broken = stored_file(world.app, world.objects["version"], "data/broken.parquet", b"PAR1 not parquet",
                         "application/vnd.apache.parquet")  # fmt: skip
    settings["VIEWER_MAX_BYTES"] = 1000
    response = client.get(_file_path(world, broken), headers=key)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "viewer_malformed_file"


def test_samples_for_a_catalog_key_and_not_for_another_listing(world, client) -> None:
    uow = work(world.app, world.session)
    sample = catalog.add_sample(uow, world.people["seller"], world.objects["dataset"], filename="s.csv",
                                content=TABLE, media_type="text/csv")  # fmt: skip
    world.session.flush()
    key = bearer(world.key("outsider", ["catalog:read"]))
    body = client.get(f"/api/v1/datasets/speech/samples/{sample.id}/rows?length=5", headers=key).get_json()
    assert body["num_rows_total"] == 250 and len(body["rows"]) == 5 and body["file"]["sample_id"] == sample.id
    assert client.get(f"/api/v1/datasets/other/samples/{sample.id}/rows", headers=key).status_code == 404
    assert client.get(f"/api/v1/datasets/speech/samples/{sample.id}/search", headers=key).status_code == 422


def test_statistics_of_a_malformed_sample_fail_once_with_the_reason(world, client) -> None:
    uow = work(world.app, world.session)
    sample = catalog.add_sample(uow, world.people["seller"], world.objects["dataset"], filename="bad.jsonl",
                                content=b'{"a": 1}\n{"a": \n', media_type="application/jsonl")  # fmt: skip
    world.session.flush()
    from marketplace.viewer.statistics import compute_job

    compute_job(uow, {"sample_id": sample.id})
    key = bearer(world.key("outsider", ["catalog:read"]))
    body = client.get(f"/api/v1/datasets/speech/samples/{sample.id}/statistics", headers=key).get_json()
    assert body["state"] == "failed" and "could not be read as JSON Lines" in body["error"]
    rows = client.get(f"/api/v1/datasets/speech/samples/{sample.id}/rows", headers=key)
    assert rows.status_code == 409 and rows.get_json()["error"]["code"] == "viewer_malformed_file"
