"""A human's category and flags, kept beside the machine's guess (never over it)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from cases import audit
from cases.access import OpenCase
from store.models import StaffMember
from triage.taxonomy import Taxonomy


class ClassificationError(ValueError):
    """A category or flag that the taxonomy does not know."""


def correct_category(session: Session, case: OpenCase, actor: StaffMember, category: str,
                     flags: Iterable[str], taxonomy: Taxonomy, now: datetime | None = None) -> bool:
    """Record the investigator's category and flags; True when they confirm the machine's guess."""
    if not taxonomy.is_primary(category):
        raise ClassificationError("Choose one of the categories.")
    chosen = sorted(set(flags))
    unknown = [f for f in chosen if not taxonomy.is_flag(f)]
    if unknown:
        raise ClassificationError(f"Unknown flag: {', '.join(unknown)}.")
    report = case.report
    confirmed = category == report.category and chosen == sorted(report.flags or [])
    report.human_category, report.human_flags = category, chosen
    report.corrected_by, report.corrected_at = actor.id, now or datetime.now(timezone.utc)
    audit.record(session, "case.category-confirmed" if confirmed else "case.category-corrected", actor=actor,
                 report=report.public_id, machine_category=report.category,
                 machine_flags=list(report.flags or []), category=category, flags=chosen)
    return confirmed
