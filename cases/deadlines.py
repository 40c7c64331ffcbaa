"""Legal deadlines after the EU Whistleblower Directive, art. 9(1)(b) and (f).

Acknowledge within 7 days of receipt; give feedback within 3 months of the acknowledgement, or of
the end of those 7 days when none was sent. Both periods are settings (core.config.Deadlines).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dateutil.relativedelta import relativedelta

from core.config import Deadlines
from store.models import Report, Status


class DeadlineState(str, enum.Enum):
    MET = "met"
    OPEN = "open"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class CaseDeadlines:
    acknowledge_by: datetime
    feedback_by: datetime
    acknowledge_state: DeadlineState
    feedback_state: DeadlineState

    @property
    def next_due(self) -> datetime | None:
        if self.acknowledge_state is not DeadlineState.MET:
            return self.acknowledge_by
        if self.feedback_state is not DeadlineState.MET:
            return self.feedback_by
        return None

    @property
    def worst(self) -> DeadlineState:
        order = [DeadlineState.OVERDUE, DeadlineState.DUE_SOON, DeadlineState.OPEN, DeadlineState.MET]
        return min((self.acknowledge_state, self.feedback_state), key=order.index)


def acknowledge_by(received_at: datetime, rules: Deadlines) -> datetime:
    return received_at + timedelta(days=rules.acknowledge_days)


def feedback_by(received_at: datetime, acknowledged_at: datetime | None, rules: Deadlines) -> datetime:
    start = acknowledged_at or acknowledge_by(received_at, rules)
    return start + relativedelta(months=rules.feedback_months)


def _state(due: datetime, met: bool, now: datetime, rules: Deadlines) -> DeadlineState:
    if met:
        return DeadlineState.MET
    if now > due:
        return DeadlineState.OVERDUE
    if due - now <= timedelta(hours=rules.due_soon_hours):
        return DeadlineState.DUE_SOON
    return DeadlineState.OPEN


def deadlines_for(report: Report, rules: Deadlines, now: datetime | None = None) -> CaseDeadlines:
    now = now or datetime.now(timezone.utc)
    ack_due = acknowledge_by(report.received_at, rules)
    fb_due = feedback_by(report.received_at, report.acknowledged_at, rules)
    concluded = report.status == Status.CONCLUDED.value
    return CaseDeadlines(
        acknowledge_by=ack_due,
        feedback_by=fb_due,
        acknowledge_state=_state(ack_due, report.acknowledged_at is not None or concluded, now, rules),
        feedback_state=_state(fb_due, report.feedback_at is not None or concluded, now, rules),
    )
