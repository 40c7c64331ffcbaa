"""Need to know: who may open a case, and the three ways access changes (assign, recuse, grant).

A staff member may open a case only if the case's data key is sealed to their current key and
they have not recused themselves. Anyone else — an investigator never granted the case, a recused
one, an auditor, an admin — gets exactly what a case that does not exist gets: CaseNotFound, which
the web layer turns into 404 for every URL of the case.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from cases import audit
from cases.staffsession import StaffContext
from crypto.envelope import seal_for, unseal
from crypto.errors import CryptoError
from store.models import RecipientKind, Recusal, Report, Role, SealedKey, StaffMember


class CaseNotFound(LookupError):
    """No such case, or not for this staff member: the two are never told apart."""


class AccessRefused(ValueError):
    """An access change that is not allowed; the message says why, in words for the investigator."""


@dataclass(frozen=True)
class OpenCase:
    """A case the signed-in investigator may read, with its data key unsealed for this request."""

    report: Report
    data_key: bytes = field(repr=False)


def holds_key(staff_id: int) -> ColumnElement[bool]:
    """SQL: the report's data key is sealed to this staff member, and they have not recused."""
    sealed = exists().where(SealedKey.report_id == Report.id, SealedKey.staff_id == staff_id)
    recused = exists().where(Recusal.report_id == Report.id, Recusal.staff_id == staff_id)
    return and_(sealed, ~recused)


def _sealed_key_of(session: Session, report: Report, member: StaffMember) -> SealedKey | None:
    return session.scalar(select(SealedKey).where(
        SealedKey.report_id == report.id, SealedKey.staff_id == member.id, SealedKey.key_id == member.key_id))


def is_recused(session: Session, report_id: int, staff_id: int) -> bool:
    return session.scalar(select(Recusal.id).where(Recusal.report_id == report_id,
                                                   Recusal.staff_id == staff_id)) is not None


def open_case(session: Session, viewer: StaffContext, public_id: str) -> OpenCase:
    """The case and its data key, or CaseNotFound. Nothing is decrypted for anyone else."""
    if viewer.role != Role.INVESTIGATOR.value:
        raise CaseNotFound(public_id)
    report = session.scalar(select(Report).where(Report.public_id == public_id))
    if report is None or is_recused(session, report.id, viewer.member.id):
        raise CaseNotFound(public_id)
    sealed = _sealed_key_of(session, report, viewer.member)
    if sealed is None:
        raise CaseNotFound(public_id)
    try:
        data_key = unseal(viewer.private_key, sealed.sealed_key)
    except CryptoError:
        raise CaseNotFound(public_id) from None
    return OpenCase(report, data_key)


def colleagues_with_access(session: Session, report: Report) -> list[StaffMember]:
    return list(session.scalars(
        select(StaffMember).join(SealedKey, SealedKey.staff_id == StaffMember.id)
        .where(SealedKey.report_id == report.id, StaffMember.active).order_by(StaffMember.email)))


def grantable_colleagues(session: Session, report: Report) -> list[StaffMember]:
    """Active investigators who lack the key and have not recused from this case."""
    has_key = exists().where(SealedKey.report_id == report.id, SealedKey.staff_id == StaffMember.id)
    recused = exists().where(Recusal.report_id == report.id, Recusal.staff_id == StaffMember.id)
    return list(session.scalars(
        select(StaffMember).where(StaffMember.active, StaffMember.role == Role.INVESTIGATOR.value,
                                  ~has_key, ~recused).order_by(StaffMember.email)))


def grant(session: Session, case: OpenCase, grantor: StaffMember, colleague_id: int) -> StaffMember:
    """Seal the case's data key to a colleague's public key. Recused colleagues never regain it."""
    colleague = session.get(StaffMember, colleague_id)
    if colleague is None or not colleague.active or colleague.role != Role.INVESTIGATOR.value:
        raise AccessRefused("Access can be granted only to an active investigator.")
    if is_recused(session, case.report.id, colleague.id):
        raise AccessRefused(f"{colleague.email} has recused from this case and cannot be granted it again.")
    if _sealed_key_of(session, case.report, colleague) is not None:
        raise AccessRefused(f"{colleague.email} already has access to this case.")
    # A key sealed to a colleague's earlier key pair is useless to them now; replace it.
    session.execute(delete(SealedKey).where(SealedKey.report_id == case.report.id,
                                            SealedKey.staff_id == colleague.id))
    session.add(SealedKey(report_id=case.report.id, recipient_kind=RecipientKind.STAFF.value,
                          key_id=colleague.key_id, staff_id=colleague.id,
                          sealed_key=seal_for(colleague.public_key, case.data_key)))
    audit.record(session, "case.granted", actor=grantor, report=case.report.public_id,
                 to=colleague.email, to_key=colleague.key_id)
    return colleague


def recuse(session: Session, case: OpenCase, member: StaffMember) -> None:
    """Record the recusal and destroy the member's copy of the data key; unassign them."""
    session.add(Recusal(report_id=case.report.id, staff_id=member.id))
    session.execute(delete(SealedKey).where(SealedKey.report_id == case.report.id,
                                            SealedKey.staff_id == member.id))
    if case.report.assignee_id == member.id:
        case.report.assignee_id = None
    audit.record(session, "case.recused", actor=member, report=case.report.public_id)


def assign(session: Session, case: OpenCase, actor: StaffMember, assignee_id: int | None) -> StaffMember | None:
    """Make a colleague who holds the key (or nobody) responsible for the case."""
    assignee = None
    if assignee_id is not None:
        assignee = session.get(StaffMember, assignee_id)
        if assignee is None or not assignee.active or _sealed_key_of(session, case.report, assignee) is None \
                or is_recused(session, case.report.id, assignee.id):
            raise AccessRefused("A case can be assigned only to an investigator who has access to it.")
    case.report.assignee_id = assignee.id if assignee else None
    audit.record(session, "case.assigned", actor=actor, report=case.report.public_id,
                 to=assignee.email if assignee else "nobody")
    return assignee
