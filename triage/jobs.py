"""The triage job: open one report in memory, classify it, keep what was learnt as metadata.

`triage_report(report_id)` is what RQ runs. It unseals the report's data key with the intake service
key, opens and parses the body in memory, classifies it, and stores category, flags, confidence,
language and model version as metadata. The classifier's evidence quotes the report, so it is
stored only sealed under the data key. The data key is then sealed to the reporter's receipt key
(so the mailbox opens) and to routed investigators who lack it.

Exactly once: a report is claimed with a conditional UPDATE that holds the row's write lock until
the result is committed, so a second run (a duplicate job, a sweeper re-queue, a retry) either
waits and then finds the report no longer `pending`, or finds it so at once; either way it changes
nothing. A run killed midway commits nothing; the sweeper queues the report again.

Nothing here may carry report content out of the process: every exception that leaves this module
is a `TriageError` with a fixed, content-free message raised `from None`, and log lines name ids.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cases import audit
from crypto.envelope import open_body, seal_body, seal_for, unseal
from crypto.errors import CryptoError
from crypto.keys import KeyPair, key_id
from intake.content import ReportContent, decode_content
from intake.errors import InvalidReport
from store.db import Database
from store.models import RecipientKind, Report, SealedKey, ServiceKey, TriageState
from store.types import utcnow
from triage.model import Classifier, Verdict
from triage.routing import RoutingResult, apply_routing
from triage.servicekey import load_service_keypair

log = logging.getLogger("probity.triage")

# A report queued this often (triage_attempts counts queueings: intake, then each sweep) without
# being triaged is marked failed instead of being queued forever, e.g. one that kills its worker.
MAX_ATTEMPTS = 5
AUDIT_ACTOR = "triage"
EXPLANATION_VERSION = 1


class TriageError(Exception):
    """A content-free failure; RQ retries the job. Messages are fixed text plus ids only."""


class ServiceKeyMismatch(TriageError):
    """The report is not sealed to the key this worker holds (a deployment error, not the report's)."""


class UnreadableReport(Exception):
    """The report cannot be opened or parsed: mark it failed, do not retry. `reason` is fixed text."""

    def __init__(self, reason: str, data_key: bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.data_key = data_key


@dataclass(frozen=True)
class Outcome:
    """What one run did: the report's triage state afterwards, or 'skipped' when it did nothing."""

    state: str
    attempt: int = 0
    routing: RoutingResult = RoutingResult()

    @property
    def skipped(self) -> bool:
        return self.state == "skipped"


@dataclass
class TriageContext:
    """What a worker process prepares once: the database, the service key, the loaded classifier."""

    database: Database
    service_key: KeyPair
    classifier: Classifier
    min_confidence: float
    owner_pid: int

    @property
    def service_key_id(self) -> str:
        return key_id(self.service_key.public_key)

    @classmethod
    def from_app(cls, app: Flask, classifier: Classifier | None = None) -> "TriageContext":
        settings = app.config["PROBITY"]
        database: Database = app.extensions["probity.db"]
        keypair = load_service_keypair(settings.service_key_file)
        with database.session_scope() as session:
            known = session.scalar(select(ServiceKey.id).where(ServiceKey.key_id == key_id(keypair.public_key)))
        if known is None:
            raise TriageError("the intake service key file does not match any key in the database; "
                              "run 'flask --app wsgi keys init' against this database")
        return cls(database=database, service_key=keypair, classifier=classifier or Classifier.load(),
                   min_confidence=settings.triage_min_confidence, owner_pid=os.getpid())

    def in_forked_child(self) -> bool:
        return os.getpid() != self.owner_pid

    def before_job(self) -> None:
        # A forked work horse must not use the parent's pooled connections (they share a socket).
        if self.in_forked_child():
            self.database.engine.dispose(close=False)

    def after_job(self) -> None:
        if self.in_forked_child():
            self.database.engine.dispose()


_context: TriageContext | None = None


def install_context(context: TriageContext) -> None:
    """Called by the worker before it starts taking jobs (and before it forks)."""
    global _context
    _context = context


def current_context() -> TriageContext:
    """The worker's context; a plain `rq worker` that never installed one builds it on first use."""
    global _context
    if _context is None:
        from core.app import create_app

        _context = TriageContext.from_app(create_app())
    return _context


def triage_report(report_id: int) -> None:
    """The RQ job. Returns nothing: results are kept in the database, never in Redis."""
    context = current_context()
    context.before_job()
    try:
        run_triage(context, int(report_id))
    finally:
        context.after_job()


def run_triage(context: TriageContext, report_id: int) -> Outcome:
    """Triage one report once. Raises only `TriageError` (retried); content errors mark it failed."""
    with _database_errors_sanitised():
        with context.database.session_scope() as session:
            if not _claim(session, report_id):
                log.info("triage report id=%s skipped: not pending", report_id)
                return Outcome("skipped")
            report = session.get(Report, report_id)
            assert report is not None
            attempt = report.triage_attempts
            if attempt > MAX_ATTEMPTS:
                outcome = _give_up(session, report, attempt)
            else:
                outcome = _triage_claimed(context, session, report, attempt)
    log.info("triage report=%s state=%s attempt=%d", report.public_id, outcome.state, attempt)
    return outcome


@contextmanager
def _database_errors_sanitised() -> Iterator[None]:
    # SQLAlchemy's messages include statement parameters; keep only the error's class name.
    try:
        yield
    except SQLAlchemyError as exc:
        raise TriageError(f"database error during triage ({type(exc).__name__})") from None


def _claim(session: Session, report_id: int) -> bool:
    """Take the report's write lock for this transaction, if it is still pending.

    This must be the transaction's first statement: on SQLite it takes the database's writer lock
    before any read, on PostgreSQL the row lock; a racing run blocks here until this one commits,
    then sees the report no longer pending.
    """
    claimed = session.execute(
        update(Report)
        .where(Report.id == report_id, Report.triage_state == TriageState.PENDING.value)
        .values(triage_state=TriageState.PENDING.value)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def _give_up(session: Session, report: Report, attempt: int) -> Outcome:
    _mark_failed(session, report, f"gave up after {MAX_ATTEMPTS} attempts")
    _audit(session, report, TriageState.FAILED.value, attempt, error="gave-up")
    return Outcome(TriageState.FAILED.value, attempt)


def _triage_claimed(context: TriageContext, session: Session, report: Report, attempt: int) -> Outcome:
    try:
        data_key, content = open_report(context, session, report)
    except UnreadableReport as unreadable:
        if unreadable.data_key is not None:
            # The envelope is genuine; only its content is not what we expect. Let the reporter
            # still reach investigators through the mailbox.
            seal_for_reporter(session, report, unreadable.data_key)
        _mark_failed(session, report, unreadable.reason)
        _audit(session, report, TriageState.FAILED.value, attempt, error=unreadable.reason)
        log.warning("triage report=%s failed: %s", report.public_id, unreadable.reason)
        return Outcome(TriageState.FAILED.value, attempt)
    verdict = classify_report(context.classifier, content)
    confident = verdict.confidence >= context.min_confidence
    state = TriageState.CLASSIFIED if confident else TriageState.NEEDS_HUMAN
    report.category = verdict.category
    report.flags = list(verdict.flags)
    report.confidence = float(verdict.confidence)
    report.language = str(verdict.language)[:35]
    report.model_version = str(verdict.model_version)[:64]
    report.triage_explanation = seal_body(data_key, explanation_document(verdict, content))
    report.triage_error = None
    report.triage_state = state.value
    report.triaged_at = utcnow()
    seal_for_reporter(session, report, data_key)
    # A guess the model itself doubts hands nobody the case: a human confirms the category first.
    routing = apply_routing(session, report, data_key, verdict.category) if confident else RoutingResult()
    _audit(session, report, state.value, attempt, category=verdict.category, flags=list(verdict.flags),
           model_version=report.model_version, granted=list(routing.granted) or None,
           assignee=routing.assignee_id)
    return Outcome(state.value, attempt, routing)


def open_report(context: TriageContext, session: Session, report: Report) -> tuple[bytes, ReportContent]:
    """The data key and parsed content, in memory only. Raises UnreadableReport or ServiceKeyMismatch."""
    sealed = session.scalar(select(SealedKey.sealed_key).where(
        SealedKey.report_id == report.id, SealedKey.recipient_kind == RecipientKind.SERVICE.value,
        SealedKey.key_id == context.service_key_id))
    if sealed is None:
        raise ServiceKeyMismatch(f"report id={report.id} is not sealed to service key {context.service_key_id}")
    try:
        data_key = unseal(context.service_key.private_key, sealed)
    except CryptoError:
        raise UnreadableReport("data key did not open") from None
    try:
        plaintext = open_body(data_key, report.body)
    except CryptoError:
        raise UnreadableReport("report body did not authenticate") from None
    try:
        return data_key, decode_content(plaintext)
    except InvalidReport:
        raise UnreadableReport("report is not the documented JSON", data_key) from None


def classify_report(classifier: Classifier, content: ReportContent) -> Verdict:
    """The classifier's verdict; any failure inside it surfaces without a word of the text."""
    try:
        return classifier.classify(content.text_for_triage(), content.category_hint)
    except Exception as exc:  # the classifier's own errors may quote what it was reading
        raise TriageError(f"classifier failed ({type(exc).__name__})") from None


def explanation_document(verdict: Verdict, content: ReportContent) -> bytes:
    """What the workspace shows beside the machine's category; sealed, because it quotes the report."""
    document: dict[str, Any] = {
        "version": EXPLANATION_VERSION,
        "category": verdict.category,
        "confidence": float(verdict.confidence),
        "flags": list(verdict.flags),
        "flag_scores": {flag: float(score) for flag, score in verdict.flag_scores.items()},
        "language": str(verdict.language),
        "evidence": [str(phrase) for phrase in verdict.evidence],
        "category_hint": content.category_hint,
        "model_version": str(verdict.model_version),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def open_explanation(data_key: bytes, sealed: bytes) -> dict[str, Any]:
    """The explanation document of a triaged report, for a holder of its data key."""
    return json.loads(open_body(data_key, sealed).decode("utf-8"))  # type: ignore[no-any-return]


def seal_for_reporter(session: Session, report: Report, data_key: bytes) -> bool:
    """Seal the data key to the reporter's receipt key unless already done; True when added."""
    reporter_key_id = key_id(report.reporter_public_key)
    existing = session.scalar(select(SealedKey.id).where(SealedKey.report_id == report.id,
                                                         SealedKey.key_id == reporter_key_id))
    if existing is not None:
        return False
    session.add(SealedKey(report_id=report.id, recipient_kind=RecipientKind.REPORTER.value,
                          key_id=reporter_key_id, sealed_key=seal_for(report.reporter_public_key, data_key)))
    return True


def _mark_failed(session: Session, report: Report, reason: str) -> None:
    report.triage_state = TriageState.FAILED.value
    report.triage_error = reason[:200]
    report.triaged_at = utcnow()


def _audit(session: Session, report: Report, state: str, attempt: int, **detail: Any) -> None:
    # The service key opened the report: like every decryption, that is on the audit trail.
    audit.record(session, "triage.run", actor_label=AUDIT_ACTOR, report=report.public_id,
                 state=state, attempt=attempt, **detail)
