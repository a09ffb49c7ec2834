"""The protocol's responses, one request at a time: listing shapes and paging, NDJSON metadata and query lines with
an audited pre-signed URL to a Parquet file whose SHA-256 is the listed one, the protocol's error JSON with the
right statuses, and a token that never sees another license's share."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlmodel import select

import licensing
from marketplace.db import UnitOfWork
from marketplace.delivery.downloads import Requester
from marketplace.delivery.models import DownloadEvent
from marketplace.licenses import services as licenses
from marketplace.sharing import recipients
from marketplace.sharing.conversion import convert_version
from marketplace.sharing.models import ParquetTable
from marketplace.sharing.tables import share_name
from tests.factories import _HASH
from tests.sharing.world import World, build

BASE = "/delta-sharing"
TABLE = "data_transcripts_v1_0_0"


class Shared:
    def __init__(self, app: Any, db_session: Any) -> None:
        self.uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
        self.world: World = build(self.uow, password_hash=_HASH)
        convert_version(self.uow, self.world.version_id)
        self.tokens = {slug: self.mint(slug) for slug in self.world.grants}
        db_session.flush()

    def mint(self, slug: str) -> str:
        requester = Requester(user=self.world.users[slug])
        minted = recipients.mint_profile(self.uow, requester, self.world.grants[slug], endpoint="http://x")
        return str(minted.document["bearerToken"])

    def share(self, slug: str) -> str:
        return share_name(self.world.grants[slug])

    def headers(self, slug: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[slug]}"}

    def table_path(self, slug: str, table: str = TABLE) -> str:
        return f"{BASE}/shares/{self.share(slug)}/schemas/call-centre/tables/{table}"


@pytest.fixture()
def shared(app, db_session) -> Shared:  # type: ignore[no-untyped-def]
    return Shared(app, db_session)


def _lines(response: Any) -> list[dict[str, Any]]:
    assert response.mimetype == "application/x-ndjson", response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_listings_name_the_one_share_its_schema_and_tables(client, shared: Shared) -> None:
    headers, share = shared.headers("globex"), shared.share("globex")
    assert client.get(f"{BASE}/shares", headers=headers).get_json()["items"] == [
        {"name": share, "id": client.get(f"{BASE}/shares/{share}", headers=headers).get_json()["share"]["id"]}
    ]
    schemas = client.get(f"{BASE}/shares/{share}/schemas", headers=headers).get_json()
    assert schemas == {"items": [{"name": "call-centre", "share": share}]}
    tables = client.get(f"{BASE}/shares/{share}/schemas/call-centre/tables", headers=headers).get_json()["items"]
    assert [t["name"] for t in tables] == ["data_calls_v1_0_0", "data_speakers_v1_0_0", TABLE]
    assert all(t["share"] == share and t["schema"] == "call-centre" and len(t["id"]) == 36 for t in tables)
    every = client.get(f"{BASE}/shares/{share}/all-tables", headers=headers).get_json()
    assert every == {"items": tables}  # the README is no table


def test_paging_with_max_results_and_signed_page_tokens(client, shared: Shared) -> None:
    headers, share = shared.headers("globex"), shared.share("globex")
    first = client.get(f"{BASE}/shares/{share}/all-tables?maxResults=2", headers=headers).get_json()
    assert len(first["items"]) == 2 and first["nextPageToken"]
    second = client.get(
        f"{BASE}/shares/{share}/all-tables?maxResults=2&pageToken={first['nextPageToken']}", headers=headers
    ).get_json()
    assert [t["name"] for t in second["items"]] == [TABLE] and "nextPageToken" not in second
    # A token continues only the listing (and the profile) it was issued for; a forged one is refused.
    other = client.get(
        f"{BASE}/shares/{share}/schemas/call-centre/tables?pageToken={first['nextPageToken']}", headers=headers
    )
    forged = client.get(f"{BASE}/shares/{share}/all-tables?pageToken=eyJvIjoxfQ.forged", headers=headers)
    for refused in (other, forged):
        assert refused.status_code == 400
        assert refused.get_json() == {"errorCode": "INVALID_PARAMETER_VALUE", "message": refused.get_json()["message"]}
    for bad in ("0", "-1", "x", "501"):
        response = client.get(f"{BASE}/shares?maxResults={bad}", headers=headers)
        assert response.status_code == 400 and "maxResults" in response.get_json()["message"]


def test_version_and_metadata(client, shared: Shared) -> None:
    headers = shared.headers("globex")
    for method in ("GET", "HEAD"):
        response = client.open(f"{shared.table_path('globex')}/version", method=method, headers=headers)
        assert response.status_code == 200 and response.headers["delta-table-version"] == "0"
    response = client.get(f"{shared.table_path('globex')}/metadata", headers=headers)
    assert response.headers["delta-table-version"] == "0"
    protocol, metadata = _lines(response)
    assert protocol == {"protocol": {"minReaderVersion": 1}}
    meta = metadata["metaData"]
    assert meta["format"]["provider"] == "parquet" and meta["partitionColumns"] == [] and meta["numFiles"] == 1
    schema = json.loads(meta["schemaString"])
    assert schema["type"] == "struct"
    assert [(f["name"], f["type"]) for f in schema["fields"]] == [
        ("id", "long"),
        ("name", "string"),
        ("score", "double"),
        ("active", "boolean"),
    ]


def test_query_hands_out_one_audited_presigned_parquet_file(client, db_session, shared: Shared) -> None:
    body = {"predicateHints": ["id > 1"], "jsonPredicateHints": '{"op":"equal"}', "limitHint": 1, "version": 0}
    response = client.post(f"{shared.table_path('globex')}/query", json=body, headers=shared.headers("globex"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["delta-table-version"] == "0"
    protocol, metadata, file_line = _lines(response)
    assert "protocol" in protocol and "metaData" in metadata
    action = file_line["file"]
    table = db_session.exec(select(ParquetTable).where(ParquetTable.path == "data/transcripts.parquet")).one()
    assert action["id"] == table.sha256 and action["size"] == table.size_bytes and action["partitionValues"] == {}
    assert json.loads(action["stats"]) == {"numRecords": 3}
    assert action["expirationTimestamp"] > 0
    served = client.get(action["url"].removeprefix("http://localhost"))
    assert served.status_code == 200
    content = served.get_data()
    assert content[:4] == b"PAR1" and hashlib.sha256(content).hexdigest() == table.sha256
    [event] = db_session.exec(select(DownloadEvent)).all()
    assert event.channel == "delta-sharing" and event.grant_id == shared.world.grants["globex"].id
    assert event.file_id == table.source_file_id
    # The query body is checked: what the protocol allows is ignored safely, the rest is refused.
    for bad in ({"limitHint": -1}, {"predicateHints": "id > 1"}, {"version": 3}, {"startingVersion": 0}, [1]):
        refused = client.post(f"{shared.table_path('globex')}/query", json=bad, headers=shared.headers("globex"))
        assert refused.status_code == 400 and refused.get_json()["errorCode"] == "INVALID_PARAMETER_VALUE", bad


def test_a_token_never_sees_another_license_share(client, shared: Shared) -> None:
    headers, theirs = shared.headers("globex"), shared.share("initech")
    assert [s["name"] for s in client.get(f"{BASE}/shares", headers=headers).get_json()["items"]] == [
        shared.share("globex")
    ]
    for path in (
        f"{BASE}/shares/{theirs}",
        f"{BASE}/shares/{theirs}/schemas",
        f"{BASE}/shares/{theirs}/all-tables",
        f"{BASE}/shares/{theirs}/schemas/call-centre/tables",
        f"{shared.table_path('initech')}/metadata",
        f"{shared.table_path('initech')}/version",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.get_json()["errorCode"] == "RESOURCE_DOES_NOT_EXIST"
    query = client.post(f"{shared.table_path('initech')}/query", json={}, headers=headers)
    assert query.status_code == 404
    missing = client.get(f"{shared.table_path('globex', 'no_such_table')}/metadata", headers=headers)
    assert missing.status_code == 404


def test_authentication_errors_are_the_protocol_json(client, shared: Shared) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer mkds_unknown"}):
        response = client.get(f"{BASE}/shares", headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["errorCode"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "change", ["revoke_grant", "suspend_grant", "revoke_profile", "minter_left"], ids=lambda c: c.replace("_", " ")
)
def test_the_token_stops_at_once(client, db_session, shared: Shared, change: str) -> None:
    grant, path = shared.world.grants["globex"], f"{BASE}/shares"
    assert client.get(path, headers=shared.headers("globex")).status_code == 200
    if change in ("revoke_grant", "suspend_grant"):
        action = licensing.GrantAction.REVOKE if change == "revoke_grant" else licensing.GrantAction.SUSPEND
        licenses.transition_grant(shared.uow, grant, action, reason="test", actor="test")
    elif change == "revoke_profile":
        [profile] = recipients.profiles_of(db_session, grant)
        recipients.revoke_profile(shared.uow, shared.world.users["globex"], grant, profile.id)  # type: ignore[arg-type]
    else:
        from marketplace.accounts.models import Membership

        membership = db_session.exec(
            select(Membership).where(Membership.user_id == shared.world.users["globex"].id)
        ).one()
        db_session.delete(membership)
    db_session.flush()
    response = client.get(path, headers=shared.headers("globex"))
    assert response.status_code == 403 and response.get_json()["errorCode"] == "PERMISSION_DENIED"
    assert client.get(path, headers=shared.headers("initech")).status_code == 200
