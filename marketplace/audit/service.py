"""Appending to, reading and exporting the per-organisation audit chains.

**Appending.** :func:`append` adds one entry to each named organisation's chain inside the caller's unit of work, so
the entry exists exactly when the change it records is committed. Appends to one chain are serialised by locking
that chain's :class:`~marketplace.audit.models.AuditChainHead` row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
single writer, taken by ``BEGIN IMMEDIATE``, does the same there). We lock the head rather than insert-and-retry on
the ``(organisation_id, seq)`` unique constraint because the entry is written in the middle of a larger unit of
work: a retry would need a savepoint around every append and could still fail the whole request after several
attempts, whereas the lock makes the second writer wait for the first to commit and then read its new head
(PostgreSQL re-reads a locked row once it is released, even under READ COMMITTED). The unique constraint stays as a
safety net. On PostgreSQL the locking read, the hashing, the entries' insert and the heads' update are one statement
(:mod:`marketplace.audit.postgres`), so a head is locked for that statement and the commit only. The chains one call
appends to are locked in ascending organisation order, so two appends that concern the same organisations never wait
for each other in a cycle. Locks are held until the unit of work ends: a unit of work that appends to several
unrelated pairs of chains (one order paying several providers) may still meet another doing the same in the opposite
order; PostgreSQL then detects the deadlock and fails one of them, which is rolled back whole (nothing half-written)
and may be retried.

**Reading.** Organisation admins read and export their own chain (:data:`~marketplace.permissions.Action.AUDIT_READ`);
the export is JSON Lines that :func:`marketplace.audit.chain.verify_lines` verifies offline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from licensing.canonical import canonical_json
from licensing.errors import CanonicalJSONError
from marketplace.accounts.models import Organisation, User
from marketplace.audit.chain import GENESIS, KIND_PATTERN, Verdict, entry_hash, export_line, format_time, verify_entries
from marketplace.audit.models import AuditChainHead, AuditEntry
from marketplace.audit.postgres import postgres_append
from marketplace.audit.signing import head_line, sign_head
from marketplace.db import UnitOfWork
from marketplace.permissions import Action, require

_SUBJECT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: How many entries one read of the chain loads at a time (export and verification stream in batches).
BATCH = 500


def actor_of(user: User | None, *, api_key_id: int | None = None, oauth_client_id: int | None = None) -> str:
    """The ``actor`` of an entry: ``api-key:<id>`` or ``oauth-client:<id>`` for a call through an API credential,
    ``user:<id>`` for a person, ``system`` for the platform itself. Ids, not e-mail addresses: the log is immutable,
    personal data is not."""
    if api_key_id is not None:
        return f"api-key:{api_key_id}"
    if oauth_client_id is not None:
        return f"oauth-client:{oauth_client_id}"
    if user is not None and user.id is not None:
        return f"user:{user.id}"
    return "system"


def _checked(kind: str, subject_type: str, subject_id: str | int, actor: str, data: Mapping[str, Any]) -> None:
    """Refuse an entry that could not be hashed or exported (these are programming errors, not user input)."""
    if not KIND_PATTERN.match(kind) or len(kind) > 64:
        raise ValueError(f"audit kind {kind!r}: dotted lowercase words such as 'license.issued'")
    if not _SUBJECT_TYPE.match(subject_type):
        raise ValueError(f"audit subject_type {subject_type!r}: a lowercase word of at most 40 characters")
    if not str(subject_id) or len(str(subject_id)) > 64:
        raise ValueError("audit subject_id: between 1 and 64 characters")
    if not actor or len(actor) > 200:
        raise ValueError("audit actor: between 1 and 200 characters")
    try:
        canonical_json(dict(data))
    except CanonicalJSONError as error:
        raise ValueError(f"audit data is not canonical JSON: {error}") from error


def _locked_heads(session: Session, organisation_ids: list[int]) -> dict[int, AuditChainHead]:
    """The chains' head rows (``organisation_ids`` ascending), created if missing, locked until the transaction ends.

    One ``SELECT … ORDER BY organisation_id FOR UPDATE`` locks every head in ascending order (PostgreSQL locks the
    rows as the sorted scan returns them); only a chain's first entry needs the ``INSERT … ON CONFLICT DO NOTHING``
    that creates its head, followed by the same locking read.
    """
    statement = (
        select(AuditChainHead)
        .where(col(AuditChainHead.organisation_id).in_(organisation_ids))
        .order_by(col(AuditChainHead.organisation_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    heads = {head.organisation_id: head for head in session.exec(statement).all()}
    missing = [o for o in organisation_ids if o not in heads]
    if missing:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert(AuditChainHead)
            .values([{"organisation_id": o, "seq": 0, "hash": GENESIS} for o in missing])
            .on_conflict_do_nothing(index_elements=["organisation_id"])
        )
        heads = {head.organisation_id: head for head in session.exec(statement).all()}
    return heads


def append(
    uow: UnitOfWork,
    *,
    organisation_ids: Iterable[int | None],
    kind: str,
    subject_type: str,
    subject_id: str | int,
    actor: str,
    data: Mapping[str, Any] | None = None,
) -> list[AuditEntry]:
    """Append one event to the audit chain of each organisation in ``organisation_ids``, in ``uow``.

    - ``organisation_ids``: every organisation the event concerns (e.g. licensor and licensee); ``None`` and
      repeats are skipped. An event concerning two organisations is one entry in each chain.
    - ``kind``: dotted lowercase words, area first (``license.issued``, ``download.link_issued``).
    - ``subject_type`` / ``subject_id``: what the event is about (``license`` and the license id).
    - ``actor``: who caused it, as :func:`actor_of` writes it (``user:12``, ``api-key:3``, ``system``; a ``user:``
      actor becomes the unit of work's API credential when it acts through one) or a
      short label of the process (``order:41``).
    - ``data``: JSON details: strings, integers (no floats), booleans, null, lists and objects.

    The entries carry the unit of work's time and are written only if it commits; ``ValueError`` for an entry that
    breaks these rules. Returns the new entries, in organisation order.
    """
    details = dict(data or {})
    if uow.acting_credential is not None and actor.startswith("user:"):
        # Through the API a person acts by a credential: the entry names the key or client (its user is known
        # from it), as a download link issued through the API does.
        actor = uow.acting_credential
    _checked(kind, subject_type, subject_id, actor, details)
    session = uow.session
    at = uow.now()
    rows: list[AuditEntry] = []
    chains = sorted({o for o in organisation_ids if o is not None})
    if chains and session.get_bind().dialect.name == "postgresql":
        fields = {"at": format_time(at), "kind": kind, "subject": {"type": subject_type, "id": str(subject_id)},
                  "actor": actor, "data": details}  # fmt: skip
        return postgres_append(session, chains, fields, at)
    heads = _locked_heads(session, chains) if chains else {}
    for organisation_id in chains:
        head = heads[organisation_id]
        entry: dict[str, Any] = {
            "organisation": organisation_id,
            "seq": head.seq + 1,
            "at": format_time(at),
            "kind": kind,
            "subject": {"type": subject_type, "id": str(subject_id)},
            "actor": actor,
            "data": details,
            "prev": head.hash,
        }
        digest = entry_hash(entry)
        row = AuditEntry(
            organisation_id=organisation_id, seq=entry["seq"], at=at, kind=kind, subject_type=subject_type,
            subject_id=str(subject_id), actor=actor, data=details, prev_hash=head.hash, hash=digest,
        )  # fmt: skip
        head.seq, head.hash = row.seq, digest
        rows.append(row)
    session.add_all(rows)
    session.flush()  # one round trip for the entries, one for the heads: no flush between the chains
    return rows


def recent_entries(
    session: Session, user: User | None, organisation: Organisation, *, before_seq: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """The organisation's newest entries (older than ``before_seq`` when given), newest first; its admins only."""
    require(session, user, Action.AUDIT_READ, organisation)
    statement = select(AuditEntry).where(AuditEntry.organisation_id == organisation.id)
    if before_seq is not None:
        statement = statement.where(col(AuditEntry.seq) < before_seq)
    limit = max(1, min(limit, 200))
    return list(session.exec(statement.order_by(col(AuditEntry.seq).desc()).limit(limit)).all())


def _chain(session: Session, organisation_id: int, *, upto: int | None = None) -> Iterator[AuditEntry]:
    """Every entry of one chain (up to seq ``upto`` when given), oldest first, read in batches of :data:`BATCH`."""
    after = 0
    while True:
        statement = select(AuditEntry).where(AuditEntry.organisation_id == organisation_id, col(AuditEntry.seq) > after)
        if upto is not None:
            statement = statement.where(col(AuditEntry.seq) <= upto)
        rows = session.exec(statement.order_by(col(AuditEntry.seq)).limit(BATCH)).all()
        yield from rows
        if len(rows) < BATCH:
            return
        after = rows[-1].seq


def export_lines(uow: UnitOfWork, user: User | None, organisation: Organisation) -> Iterator[str]:
    """The organisation's whole chain as JSON Lines (one entry per line, oldest first, each ending in a newline),
    then its signed head (:mod:`marketplace.audit.signing`) when the application has a signing key; its admins
    only. The permission is checked before the first line is produced."""
    require(uow.session, user, Action.AUDIT_READ, organisation)
    return export_chain(uow, organisation)


def export_chain(uow: UnitOfWork, organisation: Organisation) -> Iterator[str]:
    """The chain as :func:`export_lines` writes it, without a permission check: for the operator's CLI only.

    The head is read first and the export stops there, so entries appended meanwhile do not make the signed head
    disagree with the lines above it.
    """
    from marketplace.licenses.services import issuer  # the certificates' issuer; licenses imports this module

    assert organisation.id is not None
    session = uow.session
    head = session.exec(
        select(AuditChainHead)
        .where(AuditChainHead.organisation_id == organisation.id)
        .execution_options(populate_existing=True)
    ).first()
    seq, digest = (head.seq, head.hash) if head is not None else (0, GENESIS)
    keyring = uow.context.keyring
    organisation_id = organisation.id

    def lines() -> Iterator[str]:
        for row in _chain(session, organisation_id, upto=seq):
            yield export_line(row.as_chain_entry()) + "\n"
        if keyring is not None:
            token = sign_head(keyring, issuer=issuer(uow.settings), organisation_id=organisation_id, seq=seq,
                              head=digest, at=uow.now())  # fmt: skip
            yield head_line(token) + "\n"

    return lines()


def check_chain(session: Session, organisation: Organisation) -> Verdict:
    """Verify the organisation's chain as stored (the CLI's ``audit check``): the same rules as an export, and the
    chain's head row must name its last entry (so entries deleted from the end are noticed too)."""
    assert organisation.id is not None
    verdict = verify_entries(row.as_chain_entry() for row in _chain(session, organisation.id))
    head = chain_head(session, organisation)
    expected = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if verdict.ok and (verdict.count, verdict.head) != expected:
        return Verdict(False, verdict.count, verdict.head, verdict.count + 1,
                       f"missing entries (the chain's head is seq {expected[0]}, hash {expected[1]})")  # fmt: skip
    return verdict


def chain_head(session: Session, organisation: Organisation) -> AuditChainHead | None:
    """The organisation's chain head (``None`` before its first entry)."""
    return session.get(AuditChainHead, organisation.id)
