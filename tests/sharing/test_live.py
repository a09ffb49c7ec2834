"""The Delta Sharing server against the protocol's own Python connector (``delta-sharing`` from the package index),
on a live server: a profile minted through the API reads every licensed table with ``load_as_pandas``, equal to
the source CSV, JSON Lines and Parquet files; tables are listed and paged; a revoked or expired license's token,
and a revoked profile, get 403."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import delta_sharing
import pandas as pd
import pyarrow.parquet as pq
import pytest
import requests
from delta_sharing.protocol import DeltaSharingProfile, Share
from delta_sharing.rest_client import DataSharingRestClient
from sqlmodel import select

import licensing
from marketplace.db import unit_of_work
from marketplace.delivery.models import DownloadEvent
from marketplace.licenses import services as licenses
from marketplace.licenses.models import Grant
from marketplace.sharing.models import ParquetTable, SharingRecipient
from tests.e2e.conftest import LiveServer
from tests.sharing.world import CSV, JSONL, World, build, parquet_bytes

TABLES = {"data_calls_v1_0_0", "data_speakers_v1_0_0", "data_transcripts_v1_0_0"}


def _work(server: LiveServer) -> Any:
    return unit_of_work(server.app.extensions["marketplace.db"], server.app.extensions["marketplace.context"])


@pytest.fixture()
def world(live_server: LiveServer) -> World:
    with _work(live_server) as uow:
        return build(uow)


def _mint(server: LiveServer, world: World, buyer: str, path: Path) -> dict[str, Any]:
    """A profile of ``buyer``'s license through the API, saved at ``path``, once its tables are converted."""
    grant = world.grants[buyer]
    response = requests.post(
        f"{server.url}/api/v1/licenses/{grant.id}/sharing-profiles",
        headers={"Authorization": f"Bearer {world.keys[buyer]}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    path.write_text(json.dumps(body["profile"]))
    server.wait_for_jobs(timeout=60)
    return dict(body)


def _revoke(server: LiveServer, grant_id: str) -> None:
    with _work(server) as uow:
        grant = uow.session.get(Grant, grant_id)
        licenses.transition_grant(uow, grant, licensing.GrantAction.REVOKE, reason="refund", actor="test")


def test_load_as_pandas_returns_the_licensed_rows(live_server: LiveServer, world: World, tmp_path: Path) -> None:
    minted = _mint(live_server, world, "globex", tmp_path / "globex.share")
    profile = str(tmp_path / "globex.share")
    assert minted["profile"]["shareCredentialsVersion"] == 1
    assert minted["profile"]["endpoint"] == f"{live_server.url}/delta-sharing"
    share, schema = minted["share"], "call-centre"

    client = delta_sharing.SharingClient(profile)
    assert [s.name for s in client.list_shares()] == [share]
    assert {t.name for t in client.list_all_tables()} == TABLES

    transcripts = delta_sharing.load_as_pandas(f"{profile}#{share}.{schema}.data_transcripts_v1_0_0")
    pd.testing.assert_frame_equal(transcripts, pd.read_csv(io.BytesIO(CSV)))
    speakers = delta_sharing.load_as_pandas(f"{profile}#{share}.{schema}.data_speakers_v1_0_0")
    pd.testing.assert_frame_equal(speakers, pd.read_json(io.BytesIO(JSONL), lines=True))
    calls = delta_sharing.load_as_pandas(f"{profile}#{share}.{schema}.data_calls_v1_0_0")
    expected = pq.read_table(io.BytesIO(parquet_bytes())).to_pandas()
    pd.testing.assert_frame_equal(calls, expected, check_dtype=False)
    assert list(calls.dtypes.astype(str))[:3] == ["int32", "object", "float64"]
    assert delta_sharing.load_as_pandas(f"{profile}#{share}.{schema}.data_calls_v1_0_0", limit=2).shape == (2, 4)

    with _work(live_server) as uow:
        # Every file URL handed out is an audited download of the license, on the delta-sharing channel.
        events = uow.session.exec(select(DownloadEvent).where(DownloadEvent.grant_id == world.grants["globex"].id))
        assert {e.channel for e in events.all()} == {"delta-sharing"}
        converted = uow.session.exec(select(ParquetTable).where(ParquetTable.converted)).all()
        assert sorted(t.path for t in converted) == ["data/speakers.parquet", "data/transcripts.parquet"]
        stored = [t.token_hash for t in uow.session.exec(select(SharingRecipient)).all()]
    assert minted["profile"]["bearerToken"] not in stored  # only its hash is kept


def test_max_results_one_walks_every_table(live_server: LiveServer, world: World, tmp_path: Path) -> None:
    minted = _mint(live_server, world, "globex", tmp_path / "p.share")
    rest = DataSharingRestClient(DeltaSharingProfile.read_from_file(str(tmp_path / "p.share")))
    share = Share(name=minted["share"])
    seen, token, pages = [], None, 0
    while True:
        page = rest.list_all_tables(share, max_results=1, page_token=token)
        pages += 1
        seen += [t.name for t in page.tables]
        token = page.next_page_token
        if not token:
            break
    assert pages == 3 and sorted(seen) == sorted(TABLES) and len(seen) == 3


def test_a_revoked_license_token_gets_403_at_once(live_server: LiveServer, world: World, tmp_path: Path) -> None:
    minted = _mint(live_server, world, "globex", tmp_path / "p.share")
    profile = str(tmp_path / "p.share")
    table = f"{profile}#{minted['share']}.call-centre.data_transcripts_v1_0_0"
    assert len(delta_sharing.load_as_pandas(table)) == 3
    _revoke(live_server, world.grants["globex"].id)
    with pytest.raises(requests.HTTPError) as refused:
        delta_sharing.load_as_pandas(table)
    assert refused.value.response.status_code == 403
    body = refused.value.response.json()
    assert body["errorCode"] == "PERMISSION_DENIED" and "revoked" in body["message"]


def test_an_expired_license_token_gets_403(live_server: LiveServer, world: World, tmp_path: Path) -> None:
    minted = _mint(live_server, world, "initech", tmp_path / "p.share")
    with _work(live_server) as uow:
        # The license's term ran from two days ago to a minute ago (its record and its columns alike).
        grant = uow.session.get(Grant, world.grants["initech"].id)
        began, ended = uow.now() - timedelta(days=2), uow.now() - timedelta(minutes=1)
        record = dict(grant.record)
        record["valid_from"] = began.isoformat().replace("+00:00", "Z")
        record["valid_until"] = ended.isoformat().replace("+00:00", "Z")
        grant.record, grant.valid_from, grant.valid_until = record, began, ended
        uow.session.add(grant)
    with _work(live_server) as uow:
        assert licenses.grant_value(uow.session.get(Grant, grant.id)).status_at(uow.now()).value == "expired"
    response = requests.get(
        f"{live_server.url}/delta-sharing/shares",
        headers={"Authorization": f"Bearer {minted['profile']['bearerToken']}"},
        timeout=30,
    )
    assert response.status_code == 403, response.text
    assert response.json()["errorCode"] == "PERMISSION_DENIED" and "expired" in response.json()["message"]
