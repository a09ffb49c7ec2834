"""Delivering the outbox: claim due deliveries, POST them signed, record the outcome, schedule retries.

Run by the job queue (a ``webhook_delivery`` job after each event, and every minute), and safe with several
workers (and ``marketplace webhooks deliver``) at once: rows are
claimed with one ``UPDATE … WHERE status='pending' AND next_attempt_at <= now`` over a sub-select that takes row
locks with ``SKIP LOCKED`` on PostgreSQL (SQLite serialises writers), committed before any HTTP request is made. A
claim is a lease (``claimed_until``): if the process dies mid-delivery, the row becomes due again when the lease
ends. The outcome is written only while the claim is still ours (same ``attempts`` number), so a slow worker whose
lease ran out cannot overwrite a newer attempt.

The database is only touched from the calling thread; the HTTP requests of one batch run in a small thread pool.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from marketplace import metrics
from marketplace.db import Database, ServiceContext, UnitOfWork
from marketplace.webhooks import sender
from marketplace.webhooks.crypto import SecretUnreadable
from marketplace.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from marketplace.webhooks.services import signing_secrets
from marketplace.webhooks.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature_header
from marketplace.webhooks.targets import TargetPolicy, UnsafeTarget, check_syntax, resolve

log = logging.getLogger(__name__)

JITTER = 0.2  # each retry waits its scheduled delay ±20 %, so endpoints that failed together do not retry together


def parse_schedule(value: str) -> list[int]:
    """``"30,120,600"`` → ``[30, 120, 600]`` (seconds to wait after the 1st, 2nd, 3rd … failed attempt)."""
    delays = [int(part) for part in str(value).replace(" ", "").split(",") if part]
    if not delays or any(d <= 0 for d in delays):
        raise ValueError("WEBHOOK_RETRY_SCHEDULE must be a comma-separated list of positive seconds")
    return delays


def retry_delay(failed_attempts: int, schedule: list[int], rng: Callable[[], float] = random.random) -> timedelta:
    """How long to wait after ``failed_attempts`` failures: the schedule's entry (the last one repeats), jittered."""
    base = schedule[min(failed_attempts, len(schedule)) - 1]
    return timedelta(seconds=base * (1 - JITTER + 2 * JITTER * rng()))


@dataclass
class _Job:
    delivery_id: int
    attempt: int
    url: str
    body: bytes
    headers: dict[str, str]
    connect_to: str | None
    started_at: datetime
    refused: str = ""  # set when the delivery must not be sent at all (endpoint disabled, unsafe target, …)


class WebhookDispatcher:
    """Delivers due webhooks (:meth:`deliver_due`); the job queue calls it (:func:`deliver_job`)."""

    def __init__(self, database: Database, context: ServiceContext) -> None:
        self.database = database
        self.context = context

    # --- settings ---

    @property
    def settings(self) -> dict[str, Any]:
        return self.context.settings

    def _now(self) -> datetime:
        return self.context.clock()

    # --- one round ---

    @property
    def batch_size(self) -> int:
        return max(1, int(self.settings["WEBHOOK_CONCURRENCY"]))

    def deliver_due(self, limit: int | None = None) -> int:
        """Claim up to ``limit`` (default ``WEBHOOK_CONCURRENCY``) due deliveries, send them, record the outcome.

        Returns how many were claimed. Never raises for a failing receiver: that is a failed attempt.
        """
        claimed = self._claim(limit or self.batch_size)
        if not claimed:
            return 0
        jobs = self._prepare(claimed)
        sendable = [job for job in jobs if not job.refused]
        timeout = float(self.settings["WEBHOOK_TIMEOUT_SECONDS"])
        results: dict[int, sender.SendResult] = {}
        if len(sendable) == 1:
            job = sendable[0]
            results[job.delivery_id] = sender.post(
                job.url, job.body, job.headers, timeout=timeout, connect_to=job.connect_to
            )
        elif sendable:
            with ThreadPoolExecutor(max_workers=min(len(sendable), self.batch_size)) as pool:
                futures = {
                    job.delivery_id: pool.submit(
                        sender.post, job.url, job.body, job.headers, timeout=timeout, connect_to=job.connect_to
                    )
                    for job in sendable
                }
                results = {delivery_id: future.result() for delivery_id, future in futures.items()}
        self._record(jobs, results)
        return len(claimed)

    def _claim(self, limit: int) -> list[tuple[int, int]]:
        now = self._now()
        lease = now + timedelta(seconds=2 * float(self.settings["WEBHOOK_TIMEOUT_SECONDS"]) + 60)
        table = WebhookDelivery.__table__  # type: ignore[attr-defined]
        due = (
            sa.select(table.c.id)
            .where(
                sa.or_(
                    sa.and_(table.c.status == DeliveryStatus.PENDING.value, table.c.next_attempt_at <= now),
                    sa.and_(table.c.status == DeliveryStatus.DELIVERING.value, table.c.claimed_until < now),
                )
            )
            .order_by(table.c.next_attempt_at, table.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            sa.update(table)
            .where(table.c.id.in_(due.scalar_subquery()))
            .values(
                status=DeliveryStatus.DELIVERING.value,
                claimed_until=lease,
                attempts=table.c.attempts + 1,
            )
            .returning(table.c.id, table.c.attempts)
        )
        session = self.database.session()
        try:
            rows = [(int(r[0]), int(r[1])) for r in session.execute(claim).all()]
            session.commit()
            return rows
        finally:
            session.close()

    def _prepare(self, claimed: list[tuple[int, int]]) -> list[_Job]:
        now = self._now()
        policy = TargetPolicy.from_settings(self.settings)
        jobs: list[_Job] = []
        session = self.database.session()
        try:
            for delivery_id, attempt in claimed:
                delivery = session.get(WebhookDelivery, delivery_id)
                if delivery is None:
                    continue
                endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
                job = _Job(
                    delivery_id, attempt, endpoint.url if endpoint else "", delivery.payload.encode(), {}, None, now
                )
                jobs.append(job)
                if endpoint is None or not endpoint.active:
                    job.refused = "endpoint is disabled"
                    continue
                try:
                    check_syntax(endpoint.url, policy)
                    addresses = resolve(endpoint.url, policy) if policy.public_only else None
                    secrets = signing_secrets(endpoint, self.settings, now)
                except UnsafeTarget as error:
                    job.refused = f"refused: {error}"
                    continue
                except SecretUnreadable as error:
                    job.refused = f"cannot sign: {error}; rotate the endpoint's secret"
                    continue
                except Exception as error:  # a URL that no longer passes validation
                    job.refused = f"refused: {error}"
                    continue
                job.connect_to = addresses[0] if addresses else None
                timestamp = int(now.timestamp())
                job.headers = {
                    EVENT_HEADER: delivery.event_type,
                    DELIVERY_HEADER: str(delivery.id),
                    SIGNATURE_HEADER: signature_header(secrets, timestamp, job.body),
                }
        finally:
            session.close()
        return jobs

    def _record(self, jobs: list[_Job], results: dict[int, sender.SendResult]) -> None:
        now = self._now()
        schedule = parse_schedule(self.settings["WEBHOOK_RETRY_SCHEDULE"])
        max_attempts = max(1, int(self.settings["WEBHOOK_MAX_ATTEMPTS"]))
        table = WebhookDelivery.__table__  # type: ignore[attr-defined]
        session = self.database.session()
        outcomes: list[str] = []
        try:
            for job in jobs:
                result = results.get(job.delivery_id)
                if result is None:
                    result = sender.SendResult(None, "", job.refused or "not sent", 0)
                values: dict[str, Any] = {
                    "claimed_until": None,
                    "last_status_code": result.status_code,
                    "last_error": result.error[:500],
                }
                if result.ok:
                    values.update(status=DeliveryStatus.DELIVERED.value, delivered_at=now, next_attempt_at=None)
                    outcomes.append("delivered")
                elif job.refused or job.attempt >= max_attempts:
                    values.update(status=DeliveryStatus.FAILED.value, next_attempt_at=None)
                    outcomes.append("failed")
                else:
                    outcomes.append("retrying")
                    values.update(
                        status=DeliveryStatus.PENDING.value,
                        next_attempt_at=now + retry_delay(job.attempt, schedule),
                    )
                updated = session.execute(
                    sa.update(table)
                    .where(
                        table.c.id == job.delivery_id,
                        table.c.status == DeliveryStatus.DELIVERING.value,
                        table.c.attempts == job.attempt,
                    )
                    .values(**values)
                )
                if updated.rowcount == 0:  # type: ignore[attr-defined]
                    log.warning("webhook delivery %s: claim lost before the outcome was recorded", job.delivery_id)
                session.add(
                    WebhookAttempt(
                        delivery_id=job.delivery_id,
                        number=job.attempt,
                        started_at=job.started_at,
                        duration_ms=result.duration_ms,
                        status_code=result.status_code,
                        response_snippet=result.response_snippet[: sender.SNIPPET_BYTES],
                        error=result.error[:500],
                    )
                )
                level = logging.INFO if result.ok else logging.WARNING
                log.log(
                    level,
                    "webhook delivery %s attempt %s: %s",
                    job.delivery_id,
                    job.attempt,
                    result.status_code or result.error,
                )
            session.commit()
        finally:
            session.close()
        for outcome in outcomes:  # counted once the outcomes are committed
            metrics.count_webhook_delivery(outcome)


MAX_ROUNDS = 50  # one job delivers at most this many batches, then hands over to the next job


def deliver_job(work: UnitOfWork) -> int:
    """The webhook-delivery job: deliver what is due, then schedule a job for the earliest retry still waiting.

    Deliveries are claimed with their own leases (see the module's docstring), so jobs running at the same time,
    or a job run again after its worker died, never send one attempt twice. Returns how many were attempted.
    """
    from marketplace.jobs.models import JobKind
    from marketplace.jobs.queue import enqueue

    dispatcher = work.context.webhooks
    if dispatcher is None:
        return 0
    attempted = 0
    for _ in range(MAX_ROUNDS):
        claimed = dispatcher.deliver_due()
        attempted += claimed
        if claimed < dispatcher.batch_size:
            break
    else:  # more is due than one job should take on: the next job goes on at once
        enqueue(work, JobKind.WEBHOOK_DELIVERY, {})
        return attempted
    upcoming = work.session.execute(
        sa.select(sa.func.min(col(WebhookDelivery.next_attempt_at))).where(
            col(WebhookDelivery.status) == DeliveryStatus.PENDING.value
        )
    ).scalar_one_or_none()
    if upcoming is not None:
        wait = max(upcoming - work.now(), timedelta(0))
        # One job per second of retry time, however many deliveries and jobs ask for it.
        enqueue(work, JobKind.WEBHOOK_DELIVERY, {}, delay=wait, dedupe_key=f"webhooks@{upcoming:%Y%m%dT%H%M%S}")
    return attempted


def pending_count(database: Database) -> int:
    """How many deliveries are waiting (for the CLI's summary)."""
    session = database.session()
    try:
        statement = sa.select(sa.func.count()).where(col(WebhookDelivery.status) == DeliveryStatus.PENDING.value)
        return int(session.execute(statement).scalar_one())
    finally:
        session.close()
