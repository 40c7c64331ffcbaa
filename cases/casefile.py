"""Reading a case: the report, the machine's explanation and the whole history, decrypted in memory.

Everything here is opened with the case's data key for one response and then dropped; nothing
decrypted is stored, cached or logged.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.access import OpenCase
from cases.deadlines import CaseDeadlines, deadlines_for
from core.config import Deadlines
from crypto.envelope import open_body
from crypto.errors import CryptoError
from crypto.filestream import plaintext_size
from intake.content import ReportContent, decode_content
from intake.errors import InvalidReport
from intake.files import FileMeta, open_meta
from store.models import Attachment, Message, StaffMember, StatusChange

# Keys under which a triage explanation may list the phrases that drove its guess.
_EVIDENCE_KEYS = ("evidence", "phrase", "matched", "terms")


@dataclass(frozen=True)
class Explanation:
    phrases: list[str]
    document: str  # the whole explanation, pretty-printed, for the curious
    data: Any = None


@dataclass(frozen=True)
class FileEntry:
    public_id: str
    name: str
    media_type: str
    size: int


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # to-reporter, from-reporter, note, status
    author: str | None
    text: str | None = None
    file: FileEntry | None = None
    change: StatusChange | None = None


@dataclass(frozen=True)
class CaseFile:
    case: OpenCase
    content: ReportContent | None
    content_error: str | None
    explanation: Explanation | None
    timeline: list[TimelineEntry]
    files: list[FileEntry]
    deadlines: CaseDeadlines


def read_content(case: OpenCase) -> tuple[ReportContent | None, str | None]:
    try:
        return decode_content(open_body(case.data_key, case.report.body)), None
    except CryptoError:
        return None, "The report does not decrypt: it was altered, or sealed with another key."
    except InvalidReport as exc:
        return None, f"The report decrypts but is not readable: {exc.message}"


def _phrases(node: Any, under_evidence: bool = False) -> list[str]:
    if isinstance(node, str):
        return [node] if under_evidence else []
    if isinstance(node, list):
        return [p for item in node for p in _phrases(item, under_evidence)]
    if isinstance(node, dict):
        found: list[str] = []
        for key, value in node.items():
            hit = under_evidence or any(word in str(key).lower() for word in _EVIDENCE_KEYS)
            if under_evidence and isinstance(value, (int, float)):
                continue
            found += _phrases(value, hit)
        return found
    return []


def read_explanation(case: OpenCase) -> Explanation | None:
    """The triage job's explanation: any JSON; the phrases under evidence-like keys are listed."""
    sealed = case.report.triage_explanation
    if not sealed:
        return None
    try:
        document = json.loads(open_body(case.data_key, sealed).decode("utf-8"))
    except (CryptoError, UnicodeDecodeError, json.JSONDecodeError):
        return Explanation([], "(the explanation could not be read)")
    phrases = list(dict.fromkeys(p.strip() for p in _phrases(document) if p.strip()))
    return Explanation(phrases, json.dumps(document, ensure_ascii=False, indent=2), document)


def _file_entry(case: OpenCase, attachment: Attachment) -> FileEntry:
    try:
        meta = open_meta(case.data_key, attachment.sealed_meta)
    except (CryptoError, ValueError, TypeError):
        meta = FileMeta("(unreadable name)", "application/octet-stream", 0)
    try:
        size = plaintext_size(attachment.stored_size)
    except CryptoError:
        size = meta.size
    return FileEntry(attachment.public_id, meta.name, meta.media_type, size)


def _text(case: OpenCase, sealed: bytes) -> str:
    try:
        return open_body(case.data_key, sealed).decode("utf-8")
    except (CryptoError, UnicodeDecodeError):
        return "(this entry does not decrypt)"


def read_timeline(session: Session, case: OpenCase) -> tuple[list[TimelineEntry], list[FileEntry]]:
    report_id = case.report.id
    emails = dict(session.execute(select(StaffMember.id, StaffMember.email)).tuples().all())
    entries = [TimelineEntry(m.created_at, m.direction, emails.get(m.author_id or 0), text=_text(case, m.body))
               for m in session.scalars(select(Message).where(Message.report_id == report_id))]
    files = []
    for attachment in session.scalars(select(Attachment).where(Attachment.report_id == report_id)
                                      .order_by(Attachment.created_at, Attachment.id)):
        entry = _file_entry(case, attachment)
        files.append(entry)
        entries.append(TimelineEntry(attachment.created_at, attachment.direction,
                                     emails.get(attachment.author_id or 0), file=entry))
    for change in session.scalars(select(StatusChange).where(StatusChange.report_id == report_id)):
        reason = _text(case, change.sealed_reason) if change.sealed_reason else None
        entries.append(TimelineEntry(change.at, "status", emails.get(change.actor_id or 0), text=reason,
                                     change=change))
    return sorted(entries, key=lambda e: e.at), files


def read_case(session: Session, case: OpenCase, rules: Deadlines) -> CaseFile:
    content, error = read_content(case)
    timeline, files = read_timeline(session, case)
    return CaseFile(case, content, error, read_explanation(case), timeline, files,
                    deadlines_for(case.report, rules))
