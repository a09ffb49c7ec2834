"""Appending to audit chains on PostgreSQL in one statement: lock the heads, hash, move them and insert the entries.

:func:`marketplace.audit.service.append` on SQLite reads the locked heads, hashes the entries in Python and writes
them back: three round trips with the heads locked from the first to the commit. On PostgreSQL one statement does
it all, so a chain's head is locked for that statement and the commit only, and appends to a busy chain (every
download of one provider's datasets) queue for less time:

* ``locked``: ``SELECT … ORDER BY organisation_id FOR UPDATE`` locks the heads in ascending order, as before (under
  READ COMMITTED a head another transaction moved meanwhile is read again once it commits, so this is its newest
  seq and hash);
* ``moved``: each head moves to ``seq + 1`` and to the new entry's hash, computed by ``sha256`` in the database over
  the same canonical JSON :func:`~marketplace.audit.chain.entry_hash` hashes: the entry's fields sort as ``actor, at,
  data, kind, organisation, prev, seq, subject``, so the canonical bytes are a prefix and a suffix computed here
  with :func:`~licensing.canonical.canonical_json` around the organisation, prev and seq the database fills in;
* the main ``INSERT`` writes the entries from the moved heads and returns them.

Every returned entry's hash is checked against :func:`~marketplace.audit.chain.entry_hash` before it is accepted (a
mismatch raises and the unit of work rolls back), so the chain stays exactly what :mod:`marketplace.audit.chain`
verifies. A chain's first entry needs its head created first (``INSERT … ON CONFLICT DO NOTHING``) and the
statement run again for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from licensing.canonical import canonical_json
from marketplace.audit.chain import GENESIS, entry_hash
from marketplace.audit.models import AuditChainHead, AuditEntry

_APPEND = sa.text(
    """
WITH locked AS (
    SELECT organisation_id, seq, hash FROM audit_chain_head
    WHERE organisation_id = ANY(:organisations) ORDER BY organisation_id FOR UPDATE
), moved AS (
    UPDATE audit_chain_head AS head
    SET seq = locked.seq + 1,
        hash = encode(sha256(:before || convert_to(locked.organisation_id::text || ',"prev":"' || locked.hash
                                                   || '","seq":' || (locked.seq + 1)::text, 'UTF8') || :after), 'hex')
    FROM locked WHERE head.organisation_id = locked.organisation_id
    RETURNING head.organisation_id, head.seq, head.hash, locked.hash AS prev_hash
)
INSERT INTO audit_entry (organisation_id, seq, at, kind, subject_type, subject_id, actor, data, prev_hash, hash)
SELECT organisation_id, seq, :at, :kind, :subject_type, :subject_id, :actor, :data, prev_hash, hash FROM moved
RETURNING id, organisation_id, seq, prev_hash, hash
"""
).bindparams(
    sa.bindparam("organisations", type_=sa.ARRAY(sa.Integer)),
    sa.bindparam("before", type_=sa.LargeBinary),
    sa.bindparam("after", type_=sa.LargeBinary),
    sa.bindparam("at", type_=AuditEntry.__table__.c.at.type),  # type: ignore[attr-defined]
    sa.bindparam("data", type_=AuditEntry.__table__.c.data.type),  # type: ignore[attr-defined]
)


def _hash_parts(entry: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical JSON of ``entry`` (its ``at``, ``kind``, ``subject``, ``actor`` and ``data``) around the
    organisation, prev and seq: ``before`` ends with ``"organisation":``, ``after`` starts with ``,"subject":``."""
    head = canonical_json({name: entry[name] for name in ("actor", "at", "data", "kind")})
    subject = canonical_json(entry["subject"])
    return head[:-1] + b',"organisation":', b',"subject":' + subject + b"}"


def postgres_append(session: Session, chains: list[int], entry: dict[str, Any], at: datetime) -> list[AuditEntry]:
    """Append ``entry`` (``at``, ``kind``, ``subject``, ``actor``, ``data``; ``at`` formatted, with the datetime
    ``at`` beside it) to each chain of ``chains`` (ascending, at least one) in one statement; returns the new rows,
    in the session, in organisation order."""
    before, after = _hash_parts(entry)
    subject = entry["subject"]
    parameters = {"before": before, "after": after, "at": at, "kind": entry["kind"], "subject_type": subject["type"],
                  "subject_id": subject["id"], "actor": entry["actor"], "data": entry["data"]}  # fmt: skip
    found = list(session.execute(_APPEND, {**parameters, "organisations": chains}).all())
    missing = sorted(set(chains) - {row.organisation_id for row in found})
    if missing:  # the chains' first entries: create their heads, then append to them alike
        session.execute(
            pg_insert(AuditChainHead)
            .values([{"organisation_id": o, "seq": 0, "hash": GENESIS} for o in missing])
            .on_conflict_do_nothing(index_elements=["organisation_id"])
        )
        found += session.execute(_APPEND, {**parameters, "organisations": missing}).all()
    rows = []
    for found_row in sorted(found, key=lambda r: r.organisation_id):
        chained = {
            **entry,
            "organisation": found_row.organisation_id,
            "seq": found_row.seq,
            "prev": found_row.prev_hash,
        }
        if entry_hash(chained) != found_row.hash:
            raise RuntimeError(f"audit chain {found_row.organisation_id}: the database hashed an entry differently")
        row = AuditEntry(
            id=found_row.id, organisation_id=found_row.organisation_id, seq=found_row.seq, at=at, kind=entry["kind"],
            subject_type=subject["type"], subject_id=subject["id"], actor=entry["actor"], data=entry["data"],
            prev_hash=found_row.prev_hash, hash=found_row.hash,
        )  # fmt: skip
        make_transient_to_detached(row)
        session.add(row)
        rows.append(row)
        head = session.identity_map.get(session.identity_key(AuditChainHead, found_row.organisation_id))
        if head is not None:
            session.expire(head)  # moved by the statement: read again when next used
    return rows
