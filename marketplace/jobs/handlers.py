"""Every job kind and the code that runs it: the one table a worker consults.

A handler receives the job's unit of work and its payload. What it changes in the database is committed together
with the job's success, so it runs again from scratch after a crash; what it does outside the database (mail, an
HTTP call) must be safe to repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketplace.db import UnitOfWork
from marketplace.jobs.models import JobKind

Handler = Callable[[UnitOfWork, dict[str, Any]], None]
GiveUp = Callable[[UnitOfWork, dict[str, Any], str], None]


@dataclass(frozen=True)
class JobSpec:
    """How to run one kind of job, and what to record if every attempt failed."""

    run: Handler
    on_give_up: GiveUp | None = None


def _send_mail(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.mail import Message, resolve_attachments

    attachments = resolve_attachments(work.session, payload.get("attachments", []))
    message = Message(to=payload["to"], subject=payload["subject"], body=payload["body"], attachments=attachments)
    work.context.mailer.send(message)


def _catalog_import(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.api.jobs import run_import

    run_import(work, payload)


def _catalog_import_given_up(work: UnitOfWork, payload: dict[str, Any], reason: str) -> None:
    from marketplace.api.jobs import fail_import

    fail_import(work, payload, reason)


def _webhook_delivery(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.webhooks.dispatcher import deliver_job

    deliver_job(work)


def _grant_expiry(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.licenses.expiry import expire_ended
    from marketplace.notifications.expiring import notify_expiring_licenses

    expire_ended(work)
    notify_expiring_licenses(work)


def _access_sweep(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.access.holders import sweep

    sweep(work)


def _access_digest(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.access.notify import send_digests

    send_digests(work)


def _custom_sweep(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.custom.milestones import sweep as sweep_milestones
    from marketplace.custom.quotes import sweep

    sweep(work)
    sweep_milestones(work)


def _payments_reconcile(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.custom.escrow import reconcile as reconcile_contracts
    from marketplace.orders.services import reconcile

    reconcile(work)
    reconcile_contracts(work)


def _purge_expired(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.api.maintenance import purge_expired

    purge_expired(work)


def _verify_upload(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.delivery.uploads import verify_upload

    verify_upload(work, int(payload["upload_id"]), str(payload["completed_at"]))


def _verify_upload_given_up(work: UnitOfWork, payload: dict[str, Any], reason: str) -> None:
    from marketplace.delivery.uploads import verification_given_up

    verification_given_up(work, int(payload["upload_id"]), str(payload["completed_at"]), reason)


def _withdrawal_sweep(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.withdrawals.notify import sweep

    sweep(work)


def _parquet_conversion(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.sharing.conversion import convert_version

    convert_version(work, int(payload["version_id"]))


def _bucket_export(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.exports.services import run_export

    run_export(work, payload)


def _bucket_export_given_up(work: UnitOfWork, payload: dict[str, Any], reason: str) -> None:
    from marketplace.exports.services import give_up

    give_up(work, payload, reason)


def _viewer_stats(work: UnitOfWork, payload: dict[str, Any]) -> None:
    from marketplace.viewer.statistics import compute_job

    compute_job(work, payload)


HANDLERS: dict[JobKind, JobSpec] = {
    JobKind.SEND_MAIL: JobSpec(_send_mail),
    JobKind.CATALOG_IMPORT: JobSpec(_catalog_import, on_give_up=_catalog_import_given_up),
    JobKind.WEBHOOK_DELIVERY: JobSpec(_webhook_delivery),
    JobKind.GRANT_EXPIRY: JobSpec(_grant_expiry),
    JobKind.ACCESS_SWEEP: JobSpec(_access_sweep),
    JobKind.ACCESS_DIGEST: JobSpec(_access_digest),
    JobKind.CUSTOM_SWEEP: JobSpec(_custom_sweep),
    JobKind.PAYMENTS_RECONCILE: JobSpec(_payments_reconcile),
    JobKind.PURGE_EXPIRED: JobSpec(_purge_expired),
    JobKind.VERIFY_UPLOAD: JobSpec(_verify_upload, on_give_up=_verify_upload_given_up),
    JobKind.WITHDRAWAL_SWEEP: JobSpec(_withdrawal_sweep),
    JobKind.BUCKET_EXPORT: JobSpec(_bucket_export, on_give_up=_bucket_export_given_up),
    JobKind.VIEWER_STATS: JobSpec(_viewer_stats),
    JobKind.PARQUET_CONVERSION: JobSpec(_parquet_conversion),
}
