"""Delivery into the licensee's bucket: destinations with sealed credentials, exports run as jobs and verified at
the destination, the download gate's refusals, repeats, and nobody else's destinations or exports."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, func, select

import licensing
from marketplace.audit.models import AuditEntry
from marketplace.db import UnitOfWork
from marketplace.delivery.downloads import Requester
from marketplace.delivery.errors import DownloadRefused
from marketplace.delivery.models import DownloadEvent
from marketplace.errors import NotFound, PermissionDenied, ValidationFailed
from marketplace.exports import destinations, services
from marketplace.exports.errors import ExportErrorCode
from marketplace.exports.models import BucketDestination, BucketExport
from marketplace.exports.states import ExportState, IllegalTransition, check_move
from marketplace.jobs.models import BackgroundJob, JobKind, JobState
from marketplace.webhooks.targets import TargetPolicy
from tests.contract.storage.conftest import S3RVER_BUCKET
from tests.functional.exports.conftest import queue_of
from tests.functional.test_delivery import transition


def _uow(app: Flask, db_session: Session) -> UnitOfWork:
    return UnitOfWork(db_session, app.extensions["marketplace.context"])


def _request(app, db_session, world, user=None, **kw):  # type: ignore[no-untyped-def]
    export = services.request_export(
        _uow(app, db_session),
        Requester(user or world["purchaser"]),
        world["grant"].id,
        destination_id=kw.get("destination_id", world["destination"].id),
        version_label=kw.get("version", "1.0.0"),
    )
    db_session.flush()
    return export


def _run(app: Flask, db_session: Session, export: BucketExport) -> BucketExport:
    job = db_session.exec(
        select(BackgroundJob).where(BackgroundJob.kind == JobKind.BUCKET_EXPORT).order_by(col(BackgroundJob.id).desc())
    ).first()
    assert job is not None and job.payload == {"export_id": export.id}
    assert queue_of(app).run(job.id).state is JobState.SUCCEEDED
    db_session.expire_all()
    stored = db_session.get(BucketExport, export.id)
    assert stored is not None
    return stored


def _objects(s3: Any, prefix: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=S3RVER_BUCKET, Prefix=prefix + "/").get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=S3RVER_BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def test_an_export_copies_every_file_of_the_version_and_verifies_each_at_the_destination(
    app, db_session, world, published, s3
) -> None:
    export = _request(app, db_session, world)
    assert export.state is ExportState.QUEUED and (export.files_total, export.bytes_total) == (2, 21)
    assert _objects(s3, world["prefix"]) == {}  # nothing before the job runs

    done = _run(app, db_session, export)
    assert done.state is ExportState.SUCCEEDED and done.percent == 100, done.error
    assert (done.files_done, done.bytes_done) == (2, 21) and done.started_at and done.finished_at
    stored = _objects(s3, world["prefix"])
    assert stored == {
        f"{world['prefix']}/speech/1.0.0/data/train.csv": b"id,text\n1,hello\n",
        f'{world["prefix"]}/speech/1.0.0/data/na"me; ü.csv': b"id\n2\n",
    }
    by_key = {o["key"]: o["sha256"] for o in done.objects}
    assert by_key == {key: hashlib.sha256(body).hexdigest() for key, body in stored.items()}
    # Audited as downloads (one per file, counted toward the limit) and as an export, in both parties' chains.
    events = db_session.exec(select(DownloadEvent)).all()
    assert len(events) == 2 and {e.channel for e in events} == {"bucket-export"}
    kinds = [e.kind for e in db_session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert kinds.count("delivery.bucket_export_requested") == 2  # licensee's and licensor's chains
    assert kinds.count("delivery.bucket_export_succeeded") == 2


def test_an_export_can_be_repeated_and_runs_again(app, db_session, world, published, s3) -> None:
    first = _run(app, db_session, _request(app, db_session, world))
    again = services.repeat_export(_uow(app, db_session), Requester(world["purchaser"]), first.id)
    db_session.flush()
    assert again.id != first.id and again.version_label == first.version_label
    assert _run(app, db_session, again).state is ExportState.SUCCEEDED
    assert db_session.exec(select(func.count()).select_from(DownloadEvent)).one() == 4


def test_a_file_that_differs_from_the_manifest_fails_the_export(app, db_session, world, published) -> None:
    export = _request(app, db_session, world)
    changed = world["files"][0]
    app.extensions["marketplace.context"].storage.put(changed.storage_key, io.BytesIO(b"id,text\n1,HELLO\n"))
    failed = _run(app, db_session, export)
    assert failed.state is ExportState.FAILED
    assert "the file's SHA-256 at the destination differs from the manifest" in failed.error


def test_a_license_revoked_before_the_job_runs_stops_the_export(app, db_session, world, published, s3) -> None:
    export = _request(app, db_session, world)
    transition(app, db_session, world["grant"], licensing.GrantAction.REVOKE)
    failed = _run(app, db_session, export)
    assert failed.state is ExportState.FAILED and "revoked" in failed.error.lower()
    assert _objects(s3, world["prefix"]) == {}


def test_a_revoked_license_is_refused_at_once_and_nothing_is_written(app, db_session, world, published) -> None:
    transition(app, db_session, world["grant"], licensing.GrantAction.REVOKE)
    with pytest.raises(DownloadRefused):
        _request(app, db_session, world)
    assert db_session.exec(select(func.count()).select_from(BucketExport)).one() == 0
    assert published == []


def test_nobody_else_uses_the_destination_or_sees_the_export(app, db_session, world, published) -> None:
    export = _request(app, db_session, world)
    outsider, seller = world["outsider"], world["seller"]
    for user in (outsider, seller):
        with pytest.raises(NotFound):
            _request(app, db_session, world, user=user)
        with pytest.raises(NotFound):
            services.get_export(_uow(app, db_session), user, export.id)
        with pytest.raises(NotFound):
            destinations.get_destination(db_session, user, world["destination"].id)
    # The buyer's members see it; a member cannot add or remove destinations, an admin can.
    assert services.get_export(_uow(app, db_session), world["purchaser"], export.id).id == export.id
    with pytest.raises(PermissionDenied):
        destinations.delete_destination(_uow(app, db_session), world["purchaser"], world["destination"].id)
    destinations.delete_destination(_uow(app, db_session), world["buyer_admin"], world["destination"].id)
    db_session.flush()
    db_session.expire_all()
    assert db_session.get(BucketExport, export.id).destination_id is None  # type: ignore[union-attr]


def test_a_destination_of_another_organisation_is_not_found(app, db_session, world, published) -> None:
    other = BucketDestination(
        organisation_id=world["rival"].id, name="Rival", bucket="rival-bucket", access_key_id="x", secret_ciphertext="x"
    )
    db_session.add(other)
    db_session.flush()
    with pytest.raises(NotFound):
        _request(app, db_session, world, destination_id=other.id)


def test_the_secret_is_stored_sealed(app, db_session, world) -> None:
    destination = world["destination"]
    assert "S3RVER" not in destination.secret_ciphertext and destination.secret_ciphertext.startswith("v1:")
    assert destinations.secret_box(app.config).decrypt(destination.secret_ciphertext) == "S3RVER"


def test_bad_input_names_each_field(app, db_session, world) -> None:
    bad = destinations.DestinationInput(
        name="",
        bucket="Not_A_Bucket",
        access_key_id="",
        secret_access_key="",
        region="EU West",
        prefix="../up",
        endpoint_url="ftp://example.org",
    )
    with pytest.raises(ValidationFailed) as caught:
        destinations.create_destination(_uow(app, db_session), world["buyer_admin"], world["buyer"], bad)
    assert set(caught.value.field_messages()) == {
        "name",
        "bucket",
        "access_key_id",
        "secret_access_key",
        "region",
        "prefix",
        "endpoint_url",
    }


def test_wrong_credentials_are_reported_when_the_destination_is_saved(app, db_session, world, s3rver_endpoint) -> None:
    data = destinations.DestinationInput(
        name="Typo",
        bucket="no-such-bucket-here",
        access_key_id="S3RVER",
        secret_access_key="S3RVER",
        endpoint_url=s3rver_endpoint,
    )
    with pytest.raises(ValidationFailed) as caught:
        destinations.create_destination(_uow(app, db_session), world["buyer_admin"], world["buyer"], data)
    assert caught.value.code == ExportErrorCode.DESTINATION_UNREACHABLE
    assert "bucket" in caught.value.field_messages()


def test_production_takes_only_public_https_endpoints() -> None:
    policy = TargetPolicy(https_only=True, public_only=True)
    data = destinations.DestinationInput(name="x", bucket="abc", access_key_id="a", secret_access_key="b")
    for endpoint in ("http://s3.example.org", "https://127.0.0.1:9000", "https://169.254.169.254"):
        with pytest.raises(ValidationFailed) as caught:
            destinations._clean(destinations.DestinationInput(**{**data.__dict__, "endpoint_url": endpoint}), policy)
        assert "endpoint_url" in caught.value.field_messages(), endpoint


def test_the_state_machine_refuses_illegal_moves() -> None:
    check_move(ExportState.QUEUED, ExportState.RUNNING)
    for current, target in ((ExportState.SUCCEEDED, ExportState.RUNNING), (ExportState.FAILED, ExportState.QUEUED)):
        with pytest.raises(IllegalTransition):
            check_move(current, target)
