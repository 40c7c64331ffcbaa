"""The case workflow after ISO 37002: received -> acknowledged -> assessing -> investigating ->
concluded (with an outcome), and reopening. Every transition records who, when and why; the why
can quote the report, so it is sealed under the case's data key."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from cases import audit
from cases.access import OpenCase
from crypto.envelope import seal_body
from store.models import Outcome, StaffMember, Status, StatusChange

MAX_REASON_CHARS = 5000

TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.RECEIVED: (Status.ACKNOWLEDGED, Status.CONCLUDED),
    Status.ACKNOWLEDGED: (Status.ASSESSING, Status.CONCLUDED),
    Status.ASSESSING: (Status.INVESTIGATING, Status.CONCLUDED),
    Status.INVESTIGATING: (Status.CONCLUDED,),
    Status.CONCLUDED: (Status.ASSESSING,),  # reopening: the case is assessed afresh
}


class WorkflowError(ValueError):
    """A transition that is not allowed; the message says why."""


def next_steps(status: str, acknowledged: bool = True) -> tuple[Status, ...]:
    """Where a case can go from here. Reopening a case that was never acknowledged puts it back to
    received: it still owes the reporter an acknowledgement."""
    current = Status(status)
    if current is Status.CONCLUDED and not acknowledged:
        return (Status.RECEIVED,)
    return TRANSITIONS.get(current, ())


def _check(current: Status, target: Status, outcome: str | None, reason: str, acknowledged: bool) -> None:
    if target not in next_steps(current.value, acknowledged):
        raise WorkflowError(f"A case that is {current.value} cannot become {target.value}.")
    if target is Status.CONCLUDED:
        if outcome not in {o.value for o in Outcome}:
            raise WorkflowError("Concluding a case needs an outcome.")
        if current is Status.RECEIVED and outcome != Outcome.NOT_ACTIONABLE.value:
            raise WorkflowError("A case that was never acknowledged can only be concluded as not actionable.")
    elif outcome:
        raise WorkflowError("Only concluding a case records an outcome.")
    if (target is Status.CONCLUDED or current is Status.CONCLUDED) and not reason:
        raise WorkflowError("Say why: concluding or reopening a case needs a reason.")
    if len(reason) > MAX_REASON_CHARS:
        raise WorkflowError(f"The reason is too long (at most {MAX_REASON_CHARS} characters).")


def change_status(session: Session, case: OpenCase, actor: StaffMember, target: str, outcome: str | None,
                  reason: str, now: datetime | None = None) -> StatusChange:
    """Move the case on (or reopen it), recording the change and auditing it. The caller commits."""
    now = now or datetime.now(timezone.utc)
    report = case.report
    current = Status(report.status)
    try:
        wanted = Status(target)
    except ValueError:
        raise WorkflowError(f"'{target}' is not a status.") from None
    reason = reason.strip()
    outcome = outcome or None
    _check(current, wanted, outcome, reason, report.acknowledged_at is not None)
    change = StatusChange(report_id=report.id, actor_id=actor.id, at=now, from_status=current.value,
                          to_status=wanted.value, outcome=outcome,
                          sealed_reason=seal_body(case.data_key, reason.encode("utf-8")) if reason else None)
    session.add(change)
    report.status, report.status_changed_at = wanted.value, now
    if wanted is Status.ACKNOWLEDGED and report.acknowledged_at is None:
        report.acknowledged_at = now
    if wanted is Status.CONCLUDED:
        report.outcome, report.concluded_at = outcome, now
    elif current is Status.CONCLUDED:
        report.outcome, report.concluded_at = None, None
    action = "case.reopened" if current is Status.CONCLUDED else "case.status-changed"
    audit.record(session, action, actor=actor, report=report.public_id, from_status=current.value,
                 to_status=wanted.value, outcome=outcome)
    return change
