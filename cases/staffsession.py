"""The staff member's split-key session (core/splitkey.py) behind the `probity_staff` cookie.

The cookie carries the session id and the per-session key; Redis holds the private key sealed
under that key, with a sliding idle timeout and an absolute one. Nothing else about the staff
member lives in the cookie: who they are and what they may do is read from the database on every
request, so disabling an account takes effect at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy.orm import Session

from core.config import Settings
from core.redis import redis_connection
from core.splitkey import SplitKeySessions, close_cookie_session, open_in_cookie, unlock_from_cookie
from store.models import StaffMember

NAMESPACE = "staff"


@dataclass(frozen=True)
class StaffContext:
    member: StaffMember
    private_key: bytes = field(repr=False)
    sid: str

    @property
    def role(self) -> str:
        return self.member.role


def staff_sessions() -> SplitKeySessions:
    cfg: Settings = current_app.config["PROBITY"]
    return SplitKeySessions(redis_connection(), NAMESPACE, cfg.staff_idle_minutes * 60,
                            cfg.staff_absolute_hours * 3600)


def subject_of(member: StaffMember) -> str:
    return str(member.id)


def open_staff_session(member: StaffMember, private_key: bytes) -> None:
    """Start a fresh session (a new cookie: nothing from before sign-in carries over)."""
    open_in_cookie(staff_sessions(), subject_of(member), private_key)


def current_staff(db: Session) -> StaffContext | None:
    """The signed-in, still active staff member of this request, or None."""
    unlocked = unlock_from_cookie(staff_sessions())
    if unlocked is None:
        return None
    member = db.get(StaffMember, int(unlocked.subject))
    if member is None or not member.active:
        staff_sessions().destroy(unlocked.sid)
        return None
    return StaffContext(member, unlocked.private_key, unlocked.sid)


def close_staff_session() -> None:
    close_cookie_session(staff_sessions())


def end_all_sessions(member: StaffMember) -> None:
    """Sign a staff member out everywhere (disabled, re-keyed, password changed)."""
    staff_sessions().destroy_all(subject_of(member))
