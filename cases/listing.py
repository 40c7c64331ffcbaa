"""Case metadata for operators (`flask --app wsgi cases list`): never a word of content."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from store.models import Report

BATCH = 2000


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_metadata(report: Report) -> dict[str, Any]:
    return {
        "report": report.public_id,
        "status": report.status,
        "outcome": report.outcome,
        "received_at": _iso(report.received_at),
        "acknowledged_at": _iso(report.acknowledged_at),
        "feedback_at": _iso(report.feedback_at),
        "concluded_at": _iso(report.concluded_at),
        "triage_state": report.triage_state,
        "category": report.effective_category,
        "flags": report.effective_flags,
        "confidence": report.confidence,
        "machine_category": report.category,
        "machine_flags": list(report.flags or []),
        "human_category": report.human_category,
        "human_flags": report.human_flags,
        "language": report.language,
        "model_version": report.model_version,
        "triage_error": report.triage_error,
    }


def case_rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every case in id order, a batch at a time (a million cases never sit in memory)."""
    last_id = 0
    while True:
        batch = list(session.scalars(select(Report).options(defer(Report.body), defer(Report.triage_explanation))
                                      .where(Report.id > last_id).order_by(Report.id).limit(BATCH)))
        if not batch:
            return
        for report in batch:
            yield case_metadata(report)
        last_id = batch[-1].id
        session.expunge_all()
