"""Admin work on staff accounts and routing, each change audited.

Re-keying replaces a staff member's key pair (for a lost password *and* recovery key, or a
suspected compromise). Data keys sealed to the old public key become useless and are deleted;
colleagues who still hold a case re-grant it (see docs/workspace.md).
"""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases import audit
from cases.accounts import AccountError, NewAccount, NewSecrets, create_staff, rekey
from crypto.wrapping import KdfLimits
from store.models import Role, RoutingRule, SealedKey, StaffMember
from triage.taxonomy import Taxonomy


def all_staff(session: Session) -> list[StaffMember]:
    return list(session.scalars(select(StaffMember).order_by(StaffMember.role, StaffMember.email)))


def add_member(session: Session, actor: StaffMember | None, email: str, role: str, limits: KdfLimits,
               actor_label: str | None = None) -> NewAccount:
    account = create_staff(session, email, role, limits)
    audit.record(session, "staff.added", actor=actor, actor_label=actor_label, email=account.email, role=role)
    return account


def _member(session: Session, member_id: int) -> StaffMember:
    member = session.get(StaffMember, member_id)
    if member is None:
        raise AccountError("No such staff member.")
    return member


def set_active(session: Session, actor: StaffMember, member_id: int, active: bool) -> StaffMember:
    member = _member(session, member_id)
    if member.id == actor.id and not active:
        raise AccountError("You cannot disable your own account.")
    member.active = active
    audit.record(session, "staff.enabled" if active else "staff.disabled", actor=actor, email=member.email)
    return member


def rekey_member(session: Session, actor: StaffMember, member_id: int, limits: KdfLimits) -> tuple[StaffMember, NewSecrets]:
    member = _member(session, member_id)
    old_key = member.key_id
    secrets = rekey(member, limits)
    dropped = session.execute(delete(SealedKey).where(SealedKey.staff_id == member.id))
    audit.record(session, "staff.rekeyed", actor=actor, email=member.email, old_key=old_key, new_key=member.key_id,
                 cases_to_regrant=dropped.rowcount)  # type: ignore[attr-defined]
    return member, secrets


def routing_rules(session: Session) -> list[tuple[RoutingRule, str]]:
    rows = session.execute(select(RoutingRule, StaffMember.email).join(StaffMember, StaffMember.id == RoutingRule.staff_id)
                           .order_by(RoutingRule.category, StaffMember.email))
    return [(rule, email) for rule, email in rows.tuples()]


def add_routing_rule(session: Session, actor: StaffMember, category: str, staff_id: int, taxonomy: Taxonomy) -> RoutingRule:
    if not taxonomy.is_primary(category):
        raise AccountError("Choose one of the categories.")
    member = _member(session, staff_id)
    if member.role != Role.INVESTIGATOR.value or not member.active:
        raise AccountError("Cases are routed to active investigators only.")
    if session.scalar(select(RoutingRule).where(RoutingRule.category == category, RoutingRule.staff_id == staff_id)):
        raise AccountError(f"{member.email} already receives {category}.")
    rule = RoutingRule(category=category, staff_id=staff_id)
    session.add(rule)
    audit.record(session, "routing.added", actor=actor, category=category, to=member.email)
    return rule


def remove_routing_rule(session: Session, actor: StaffMember, rule_id: int) -> None:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise AccountError("No such routing rule.")
    member = session.get(StaffMember, rule.staff_id)
    session.delete(rule)
    audit.record(session, "routing.removed", actor=actor, category=rule.category,
                 to=member.email if member else str(rule.staff_id))
