"""Talking to the reporter, internal notes, and files both ways — all sealed under the data key.

A message to the reporter appears in their mailbox (intake/mailbox.py); a note never does. The
first message to the reporter after the case was acknowledged is the feedback that the EU
Directive's three-month deadline asks for.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases import audit
from cases.access import CaseNotFound, OpenCase
from crypto.envelope import seal_body
from crypto.filestream import plaintext_size
from intake.files import BlobStore, open_meta
from intake.submission import new_public_id
from store.models import Attachment, Direction, Message, StaffMember

MAX_MESSAGE_CHARS = 20_000
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
STAFF_FILE_DIRECTIONS = (Direction.TO_REPORTER.value, Direction.NOTE.value)


class DialogueError(ValueError):
    """An empty or oversize message, or a file sent the wrong way."""


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise DialogueError("The message is empty.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise DialogueError(f"The message is too long (at most {MAX_MESSAGE_CHARS} characters).")
    return text


def send_to_reporter(session: Session, case: OpenCase, author: StaffMember, text: str,
                     now: datetime | None = None) -> Message:
    now = now or datetime.now(timezone.utc)
    message = Message(report_id=case.report.id, direction=Direction.TO_REPORTER.value, author_id=author.id,
                      created_at=now, body=seal_body(case.data_key, _check_text(text).encode("utf-8")))
    session.add(message)
    report = case.report
    feedback = report.acknowledged_at is not None and report.feedback_at is None
    if feedback:
        report.feedback_at = now
    audit.record(session, "case.message-sent", actor=author, report=report.public_id,
                 feedback=True if feedback else None)
    return message


def add_note(session: Session, case: OpenCase, author: StaffMember, text: str) -> Message:
    note = Message(report_id=case.report.id, direction=Direction.NOTE.value, author_id=author.id,
                   body=seal_body(case.data_key, _check_text(text).encode("utf-8")))
    session.add(note)
    audit.record(session, "case.note-added", actor=author, report=case.report.public_id)
    return note


def stored_bytes(session: Session, report_id: int) -> int:
    """What the case's files already take, counted against the per-report budget."""
    return int(session.scalar(select(func.coalesce(func.sum(Attachment.stored_size), 0))
                              .where(Attachment.report_id == report_id)) or 0)


def add_files(session: Session, case: OpenCase, author: StaffMember, direction: str,
              kept: Sequence[tuple[str, bytes, int]]) -> list[Attachment]:
    """Record files already encrypted to disk by PendingUploads (blob name, sealed meta, size)."""
    if direction not in STAFF_FILE_DIRECTIONS:
        raise DialogueError("Files go to the reporter or stay internal.")
    if not kept:
        raise DialogueError("Choose at least one file.")
    attachments = [Attachment(public_id=new_public_id(), report_id=case.report.id, direction=direction,
                              author_id=author.id, sealed_meta=meta, stored_size=size, blob_name=blob)
                   for blob, meta, size in kept]
    session.add_all(attachments)
    audit.record(session, "case.files-added", actor=author, report=case.report.public_id,
                 direction=direction, files=[a.public_id for a in attachments])
    return attachments


@dataclass(frozen=True)
class Download:
    filename: str
    size: int
    chunks: Iterator[bytes]


def download(session: Session, case: OpenCase, attachment_id: str, store: BlobStore,
             actor: StaffMember) -> Download:
    """A file of this case, decrypted chunk by chunk as it is sent. Audited before the first byte."""
    attachment = session.scalar(select(Attachment).where(Attachment.public_id == attachment_id,
                                                         Attachment.report_id == case.report.id))
    if attachment is None:
        raise CaseNotFound(attachment_id)
    meta = open_meta(case.data_key, attachment.sealed_meta)
    audit.record(session, "case.file-downloaded", actor=actor, report=case.report.public_id,
                 file=attachment.public_id)
    return Download(meta.name, plaintext_size(attachment.stored_size),
                    store.decrypt(attachment.blob_name, case.data_key))


def download_headers(filename: str, size: int) -> dict[str, str]:
    """Always a download, never rendered inline: a file from the other side may be hostile HTML."""
    ascii_name = _UNSAFE_NAME.sub("_", filename).strip() or "file"
    return {"Content-Type": "application/octet-stream", "Content-Length": str(size),
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"}
