"""Who a new report is sealed to: the intake service key and every active investigator."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import RecipientKind, Role, ServiceKey, StaffMember


@dataclass(frozen=True)
class Recipient:
    key_id: str
    public_key: bytes
    kind: RecipientKind
    staff_id: int | None = None


def current_recipients(session: Session) -> list[Recipient]:
    """The recipients `GET /api/v1/keys` lists, in a stable order (service key first)."""
    recipients = [
        Recipient(key.key_id, key.public_key, RecipientKind.SERVICE)
        for key in session.scalars(select(ServiceKey).where(ServiceKey.active).order_by(ServiceKey.id))
    ]
    investigators = session.scalars(
        select(StaffMember)
        .where(StaffMember.active, StaffMember.role == Role.INVESTIGATOR.value)
        .order_by(StaffMember.id)
    )
    recipients += [Recipient(s.key_id, s.public_key, RecipientKind.STAFF, s.id) for s in investigators]
    return recipients


class NoServiceKey(RuntimeError):
    """The deployment has no intake service key: reports could never be triaged."""
