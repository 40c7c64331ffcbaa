"""The audit trail: append-only, each entry chained to the one before by a SHA-256 hash.

An entry's hash covers the canonical JSON of everything it records plus the hash of the entry
before it, so editing, removing or reordering any entry breaks the chain from there on. Appends
are serialised (an advisory lock on PostgreSQL, the single writer lock on SQLite) so two
concurrent writers can never both chain onto the same predecessor and fork the trail.

Entries hold metadata only: who, when, what action on which case. Never report content, never a
password or TOTP code, never a client address.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from store.models import AuditEntry, StaffMember
from store.types import utcnow

GENESIS = "0" * 64
HASH_VERSION = 1
# Any fixed 64-bit number: the one advisory lock that every audit append takes on PostgreSQL.
_PG_LOCK_KEY = 0x70726F6261756474
SYSTEM_ACTOR = "system"


def canonical_entry(at: datetime, actor_id: int | None, actor: str, action: str,
                    report_public_id: str | None, detail: dict[str, Any], prev_hash: str) -> bytes:
    """The bytes an entry's hash is taken over: sorted keys, no spaces, UTF-8."""
    document = {
        "v": HASH_VERSION,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "report": report_public_id,
        "detail": detail,
        "prev": prev_hash,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash_of(entry: Any) -> str:
    """The hash an entry (a model or a row with the same attributes) must carry."""
    payload = canonical_entry(entry.at, entry.actor_id, entry.actor, entry.action,
                              entry.report_public_id, entry.detail or {}, entry.prev_hash)
    return hashlib.sha256(payload).hexdigest()


def _serialise_appends(session: Session) -> None:
    """Hold the trail's write lock until this transaction ends."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif dialect == "sqlite":
        # pysqlite opens a transaction only at the first write; a write that changes nothing takes
        # SQLite's single writer lock now, so the head we read next cannot move under us.
        session.execute(text("UPDATE audit_entries SET id = id WHERE id < 0"))


def _head_hash(session: Session) -> str:
    head = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    return head or GENESIS


def record(session: Session, action: str, *, actor: StaffMember | None = None,
           actor_label: str | None = None, report: str | None = None,
           **detail: Any) -> AuditEntry:
    """Append one entry in the caller's transaction (the caller commits, with its action)."""
    _serialise_appends(session)
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor=(actor.email if actor is not None else actor_label or SYSTEM_ACTOR)[:320],
        action=action[:64],
        report_public_id=report,
        detail={k: v for k, v in detail.items() if v is not None},
        prev_hash=_head_hash(session),
    )
    entry.entry_hash = entry_hash_of(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found: either intact (broken_at is None) or the first bad entry."""

    entries: int
    head: str
    first_at: datetime | None
    last_at: datetime | None
    broken_at: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def _walk(session: Session, batch: int = 5000) -> Iterator[Any]:
    """Every entry in id order, as plain rows (no ORM identity map growing with the trail)."""
    columns = (AuditEntry.id, AuditEntry.at, AuditEntry.actor_id, AuditEntry.actor, AuditEntry.action,
               AuditEntry.report_public_id, AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.entry_hash)
    last_id = 0
    while True:
        rows = session.execute(select(*columns).where(AuditEntry.id > last_id)
                               .order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in id order; stop at the first entry that does not fit."""
    previous_hash, previous_id = GENESIS, None
    count, first_at, last_at = 0, None, None
    for entry in _walk(session):
        if entry.prev_hash != previous_hash:
            where = f"entry {previous_id}" if previous_id is not None else "the start of the trail"
            return ChainReport(count, previous_hash, first_at, last_at, entry.id,
                               f"prev_hash does not match the hash of {where}: an entry before it was "
                               "altered, removed or inserted")
        recomputed = entry_hash_of(entry)
        if recomputed != entry.entry_hash:
            return ChainReport(count, previous_hash, first_at, last_at, entry.id,
                               "its content does not match its entry_hash: the entry was altered")
        count += 1
        first_at = first_at or entry.at
        last_at = entry.at
        previous_hash, previous_id = entry.entry_hash, entry.id
    return ChainReport(count, previous_hash, first_at, last_at)


def contains_hash(session: Session, entry_hash: str) -> bool:
    """Whether a previously noted head is still in the trail (detects a cut-off tail)."""
    return session.scalar(select(AuditEntry.id).where(AuditEntry.entry_hash == entry_hash)) is not None


def recent_entries(session: Session, limit: int, before: int | None = None,
                   report: str | None = None) -> list[AuditEntry]:
    """The newest entries first, a page at a time (keyset on id)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if report:
        query = query.where(AuditEntry.report_public_id == report)
    return list(session.scalars(query))
