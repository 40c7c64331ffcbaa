"""Routing: which investigators receive a report of a given category (an admin's RoutingRule rows).

Applied by the triage job once the category is known. A routed investigator who lacks the report's
data key (say, one who joined after it was submitted) gets it sealed to their public key, and an
unassigned case goes to the first of them. Recused investigators are skipped: a recusal is final.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.envelope import seal_for
from store.models import RecipientKind, Recusal, Report, Role, RoutingRule, SealedKey, StaffMember


@dataclass(frozen=True)
class RoutingResult:
    granted: tuple[int, ...] = ()
    assignee_id: int | None = None

    @property
    def assigned(self) -> bool:
        return self.assignee_id is not None


def routed_investigators(session: Session, category: str) -> list[StaffMember]:
    """Active investigators routed this category, in the order the rules were made."""
    return list(session.scalars(
        select(StaffMember)
        .join(RoutingRule, RoutingRule.staff_id == StaffMember.id)
        .where(RoutingRule.category == category, StaffMember.active,
               StaffMember.role == Role.INVESTIGATOR.value)
        .order_by(RoutingRule.id)
    ))


def apply_routing(session: Session, report: Report, data_key: bytes, category: str) -> RoutingResult:
    """Seal the data key to routed investigators who lack it and assign an unassigned case.

    Runs inside the caller's transaction; the caller commits.
    """
    recused = set(session.scalars(select(Recusal.staff_id).where(Recusal.report_id == report.id)))
    routed = [m for m in routed_investigators(session, category) if m.id not in recused]
    held = set(session.scalars(select(SealedKey.key_id).where(SealedKey.report_id == report.id)))
    granted = []
    for member in routed:
        if member.key_id in held:
            continue
        session.add(SealedKey(report_id=report.id, recipient_kind=RecipientKind.STAFF.value,
                              key_id=member.key_id, staff_id=member.id,
                              sealed_key=seal_for(member.public_key, data_key)))
        granted.append(member.id)
    assignee = None
    if report.assignee_id is None and routed:
        assignee = routed[0].id
        report.assignee_id = assignee
    return RoutingResult(granted=tuple(granted), assignee_id=assignee)
