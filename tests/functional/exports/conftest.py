"""A licensee with a grant on a version of two stored files, a bucket on a real S3-compatible server (s3rver, over
HTTP), and jobs run when the test says so."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from flask import Flask
from sqlmodel import Session

from marketplace.accounts.models import Role
from marketplace.db import UnitOfWork
from marketplace.exports import destinations
from marketplace.jobs.queue import JobQueue
from tests.contract.storage.conftest import S3RVER_BUCKET, s3rver_endpoint  # noqa: F401 (a fixture)
from tests.factories import member
from tests.functional.test_delivery import issue, market  # noqa: F401 (a fixture)


@pytest.fixture()
def published(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Job ids handed to the queue's backend after their commit, instead of being run there and then."""
    ids: list[int] = []
    monkeypatch.setattr(queue_of(app).backend, "publish", lambda job_id, delay_ms=0: ids.append(job_id))
    return ids


def queue_of(app: Flask) -> JobQueue:
    queue = app.extensions["marketplace.context"].queue
    assert queue is not None
    return queue


@pytest.fixture()
def s3(s3rver_endpoint: str) -> Any:  # noqa: F811
    return boto3.client(
        "s3",
        endpoint_url=s3rver_endpoint,
        region_name="us-east-1",
        aws_access_key_id="S3RVER",
        aws_secret_access_key="S3RVER",
    )


@pytest.fixture()
def world(app: Flask, db_session: Session, market: dict[str, Any], s3rver_endpoint: str) -> Iterator[dict[str, Any]]:  # noqa: F811
    """The delivery market, a grant to the buyer on version 1.0.0, and a destination of the buyer's."""
    grant = issue(app, db_session, market)
    buyer_admin = member(market["buyer"], Role.ADMIN, email="buyer-admin@example.org")
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    prefix = f"exports/{uuid.uuid4().hex[:12]}"
    destination = destinations.create_destination(
        uow,
        buyer_admin,
        market["buyer"],
        destinations.DestinationInput(
            name="Training lake",
            bucket=S3RVER_BUCKET,
            access_key_id="S3RVER",
            secret_access_key="S3RVER",
            endpoint_url=s3rver_endpoint,
            region="us-east-1",
            prefix=prefix,
        ),
    )
    db_session.flush()
    yield {**market, "grant": grant, "buyer_admin": buyer_admin, "destination": destination, "prefix": prefix}
