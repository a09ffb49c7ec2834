"""The license page's Delta Sharing block and the API's profile endpoint: only the licensee's members mint and
revoke profiles (forms with CSRF; the minted file is the POST's answer), never another organisation's, and the
profile's token reads the share."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketplace.db import UnitOfWork
from marketplace.sharing.conversion import convert_version
from marketplace.sharing.models import SharingRecipient
from tests.factories import _HASH, PASSWORD, UserFactory
from tests.functional.api.conftest import bearer
from tests.helpers import csrf_token, log_in
from tests.sharing.world import World, build


@pytest.fixture()
def world(app, db_session) -> World:  # type: ignore[no-untyped-def]
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    built = build(uow, password_hash=_HASH)
    convert_version(uow, built.version_id)
    built.extra["admin"] = UserFactory(email="admin@example.org", is_platform_admin=True)
    db_session.flush()
    return built


def _mint(client, grant_id: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/licenses/{grant_id}")
    return client.post(f"/licenses/{grant_id}/delta-sharing/profiles", data={"csrf_token": token})


def test_a_licensee_member_mints_a_profile_and_revokes_it(client, db_session, world: World) -> None:
    grant = world.grants["globex"]
    log_in(client, "owner@globex.example", PASSWORD)
    page = client.get(f"/licenses/{grant.id}").get_data(as_text=True)
    assert 'data-testid="delta-sharing"' in page and "data_transcripts_v1_0_0" in page
    assert client.post(f"/licenses/{grant.id}/delta-sharing/profiles").status_code == 400  # no CSRF token
    minted = _mint(client, grant.id)
    assert minted.status_code == 200
    assert minted.headers["Content-Disposition"] == f'attachment; filename="license-{grant.id}.share"'
    assert minted.headers["Cache-Control"] == "no-store"
    profile = minted.get_json()
    assert profile["shareCredentialsVersion"] == 1 and profile["endpoint"] == "http://localhost/delta-sharing"
    assert profile["bearerToken"].startswith("mkds_")
    shares = client.get("/delta-sharing/shares", headers=bearer(profile["bearerToken"]))
    assert shares.status_code == 200

    row = db_session.exec(select(SharingRecipient)).one()
    token = csrf_token(client, f"/licenses/{grant.id}")
    revoked = client.post(f"/licenses/{grant.id}/delta-sharing/profiles/{row.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    db_session.refresh(row)
    assert row.revoked_at is not None
    assert client.get("/delta-sharing/shares", headers=bearer(profile["bearerToken"])).status_code == 403


@pytest.mark.parametrize("who", ["owner@initech.example", "seller@example.org", "admin@example.org"])
def test_nobody_else_mints_or_revokes_a_license_profile(client, db_session, world: World, who: str) -> None:
    grant = world.grants["globex"]
    log_in(client, "owner@globex.example", PASSWORD)
    assert _mint(client, grant.id).status_code == 200
    row = db_session.exec(select(SharingRecipient)).one()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    log_in(client, who, PASSWORD)
    token = csrf_token(client, "/settings")
    minted = client.post(f"/licenses/{grant.id}/delta-sharing/profiles", data={"csrf_token": token})
    revoked = client.post(f"/licenses/{grant.id}/delta-sharing/profiles/{row.id}/revoke", data={"csrf_token": token})
    assert minted.status_code in (403, 404) and revoked.status_code in (403, 404)
    db_session.refresh(row)
    assert row.revoked_at is None and len(db_session.exec(select(SharingRecipient)).all()) == 1


def test_a_profile_id_of_another_license_is_not_found(client, db_session, world: World) -> None:
    log_in(client, "owner@initech.example", PASSWORD)
    assert _mint(client, world.grants["initech"].id).status_code == 200
    theirs = db_session.exec(select(SharingRecipient)).one()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/settings")})
    log_in(client, "owner@globex.example", PASSWORD)
    token = csrf_token(client, "/settings")
    path = f"/licenses/{world.grants['globex'].id}/delta-sharing/profiles/{theirs.id}/revoke"
    assert client.post(path, data={"csrf_token": token}).status_code == 404


def test_the_api_mints_profiles_for_the_credential_organisation_only(client, world: World) -> None:
    own, theirs = world.grants["globex"], world.grants["initech"]
    response = client.post(f"/api/v1/licenses/{own.id}/sharing-profiles", headers=bearer(world.keys["globex"]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["license_id"] == own.id and body["share"] == f"license_{own.id.lower()}"
    assert body["profile"]["bearerToken"].startswith("mkds_")
    refused = client.post(f"/api/v1/licenses/{theirs.id}/sharing-profiles", headers=bearer(world.keys["globex"]))
    assert refused.status_code in (403, 404)


def test_the_version_page_lists_the_parquet_files_with_their_sha256(client, db_session, world: World) -> None:
    from marketplace.sharing.conversion import tables_of_version

    page = client.get("/datasets/call-centre/versions/1.0.0").get_data(as_text=True)
    assert 'data-testid="parquet-manifest"' in page
    for table in tables_of_version(db_session, world.version_id):
        assert table.path in page and table.sha256 in page


def test_a_license_without_tabular_files_has_nothing_to_share(app, client, db_session) -> None:  # type: ignore[no-untyped-def]
    from marketplace.catalog.models import DatasetFile

    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    built = build(uow, password_hash=_HASH)
    for file in db_session.exec(select(DatasetFile)).all():
        file.path = file.path.rsplit(".", 1)[0] + ".bin"
        db_session.add(file)
    db_session.flush()
    grant = built.grants["globex"]
    response = client.post(f"/api/v1/licenses/{grant.id}/sharing-profiles", headers=bearer(built.keys["globex"]))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_tabular"
    assert db_session.exec(select(SharingRecipient)).all() == []
