"""Referral: a case exported for another authority as one archive encrypted to their public key.

Layout (documented with an opening snippet in docs/workspace.md)::

    magic      8 bytes   "PRBREF" 0x00 0x01
    sealed    80 bytes   SealedBox(recipient public key).encrypt(file key)
    stream     ...       the file key's encrypted stream (crypto/filestream.py format) of a ZIP

The ZIP is built, compressed and encrypted as it is sent: every piece goes straight from the
decrypted case into the stream encryptor, so no plaintext is ever written to disk.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import audit
from cases.access import OpenCase
from cases.casefile import read_content, read_explanation, read_timeline
from crypto.envelope import SEALED_KEY_SIZE
from crypto.filestream import StreamEncryptor, decrypt_bytes
from crypto.keys import key_id
from intake.files import BlobStore
from store.models import Attachment, Direction, StaffMember

MAGIC = b"PRBREF\x00\x01"
FORMAT_VERSION = 1
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ReferralError(ValueError):
    """The recipient key is unusable; the message says why."""


def parse_recipient_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ReferralError("The recipient key is not base64.") from None
    if len(key) != 32:
        raise ReferralError("The recipient key must be a 32-byte X25519 public key (44 base64 characters).")
    return key


def seal_file_key(recipient_key: bytes, file_key: bytes) -> bytes:
    try:
        return bytes(SealedBox(PublicKey(recipient_key)).encrypt(file_key))
    except nacl.exceptions.CryptoError:
        raise ReferralError("The recipient key is not a usable X25519 public key.") from None


class _Pipe(io.RawIOBase):
    """Collects what is written so the response generator can hand it on."""

    def __init__(self) -> None:
        self.pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.pending += data
        return len(data)

    def drain(self) -> bytes:
        data = bytes(self.pending)
        self.pending.clear()
        return data


class _Encrypting(io.RawIOBase):
    """The ZIP writer's output: every byte goes straight into the stream encryptor."""

    def __init__(self, encryptor: StreamEncryptor) -> None:
        self.encryptor = encryptor

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self.encryptor.write(bytes(data))


@dataclass(frozen=True)
class Member:
    name: str
    chunks: Callable[[], Iterator[bytes]]


def _json(document: Any) -> Callable[[], Iterator[bytes]]:
    encoded = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    return lambda: iter((encoded,))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def archive_members(session: Session, case: OpenCase, store: BlobStore, include_notes: bool,
                    exported_by: StaffMember) -> list[Member]:
    """Everything the archive holds, decrypted in memory now (files are decrypted as they are sent)."""
    report = case.report
    content, error = read_content(case)
    timeline, _files = read_timeline(session, case)
    explanation = read_explanation(case)
    shown = {Direction.TO_REPORTER.value, Direction.FROM_REPORTER.value} | ({Direction.NOTE.value} if include_notes else set())
    dialogue = [{"at": _iso(e.at), "direction": e.kind, "author": e.author, "text": e.text}
                for e in timeline if e.kind in shown and e.file is None]
    decisions = [{"at": _iso(e.at), "by": e.author, "from": e.change.from_status, "to": e.change.to_status,
                  "outcome": e.change.outcome, "reason": e.text} for e in timeline if e.change is not None]
    corrected_by = session.get(StaffMember, report.corrected_by) if report.corrected_by else None
    attachments = [a for a in session.scalars(select(Attachment).where(Attachment.report_id == report.id)
                                              .order_by(Attachment.id)) if a.direction in shown]
    names = {e.file.public_id: e.file.name for e in timeline if e.file is not None}
    files = [(a, f"files/{a.public_id}-{_SAFE.sub('_', names.get(a.public_id, 'file'))[:120]}") for a in attachments]
    members = [
        Member("manifest.json", _json({
            "format": "probity-referral", "version": FORMAT_VERSION, "report": report.public_id,
            "exported_at": datetime.now(timezone.utc).isoformat(), "exported_by": exported_by.email,
            "includes_internal_notes": include_notes,
            "files": [{"path": path, "direction": a.direction, "added_at": _iso(a.created_at)} for a, path in files]})),
        Member("report.json", _json({
            "report": report.public_id, "received_at": _iso(report.received_at),
            "content": {"lang": content.lang, "fields": content.fields, "category_hint": content.category_hint}
            if content else None, "content_error": error,
            "status": report.status, "outcome": report.outcome, "acknowledged_at": _iso(report.acknowledged_at),
            "feedback_at": _iso(report.feedback_at), "concluded_at": _iso(report.concluded_at),
            "machine": {"category": report.category, "flags": report.flags, "confidence": report.confidence,
                        "language": report.language, "model_version": report.model_version,
                        "explanation": explanation.data if explanation else None},
            "human": {"category": report.human_category, "flags": report.human_flags,
                      "by": corrected_by.email if corrected_by else None, "at": _iso(report.corrected_at)}})),
        Member("dialogue.json", _json(dialogue)),
        Member("decisions.json", _json(decisions)),
    ]
    members += [Member(path, (lambda blob=a.blob_name: store.decrypt(blob, case.data_key))) for a, path in files]
    return members


def referral_stream(recipient_key: bytes, members: list[Member]) -> Iterator[bytes]:
    """Yield the encrypted referral piece by piece; memory stays bounded by one file chunk."""
    file_key = nacl.utils.random(32)
    yield MAGIC + seal_file_key(recipient_key, file_key)
    out = _Pipe()
    encryptor = StreamEncryptor(file_key, out)
    with zipfile.ZipFile(_Encrypting(encryptor), "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            with archive.open(member.name, "w", force_zip64=True) as entry:
                for chunk in member.chunks():
                    entry.write(chunk)
                    if out.pending:
                        yield out.drain()
        # closing the archive writes its central directory into the stream
    encryptor.finish()
    yield out.drain()


def record_export(session: Session, case: OpenCase, actor: StaffMember, recipient_key: bytes,
                  include_notes: bool, members: list[Member]) -> None:
    audit.record(session, "case.exported", actor=actor, report=case.report.public_id,
                 recipient_key=key_id(recipient_key), internal_notes=include_notes,
                 files=sum(1 for m in members if m.name.startswith("files/")))


def open_referral(private_key: bytes, data: bytes) -> zipfile.ZipFile:
    """The receiving side, for tests and tools: check the magic, unseal the key, decrypt, unzip."""
    if data[: len(MAGIC)] != MAGIC:
        raise ReferralError("Not a Probity referral.")
    sealed = data[len(MAGIC): len(MAGIC) + SEALED_KEY_SIZE]
    file_key = SealedBox(PrivateKey(private_key)).decrypt(sealed)
    return zipfile.ZipFile(io.BytesIO(decrypt_bytes(file_key, data[len(MAGIC) + SEALED_KEY_SIZE:])))
