"""Staff sign-in: Argon2id password, then a TOTP code that can be used once, then the private key.

`authenticate` answers with the unwrapped private key or with a reason for the audit trail. The
person at the keyboard is never told which factor failed.
"""
from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.accounts import (AccountError, NewSecrets, check_new_password, normalise_email, password_hasher,
                            recover_access)
from crypto.errors import CryptoError
from crypto.wrapping import KdfLimits, unwrap_key
from store.models import StaffMember

# A code from the step before or after the current one is accepted: clocks drift, people are slow.
TOTP_WINDOW = 1
# Verified against when the email matches nobody, so that an unknown account costs the same time.
_DUMMY_HASH = password_hasher.hash("probity-no-such-account")


class SignInFailure(str, enum.Enum):
    UNKNOWN_ACCOUNT = "unknown-account"
    DISABLED = "disabled"
    BAD_PASSWORD = "bad-password"
    BAD_CODE = "bad-code"
    REPLAYED_CODE = "replayed-code"
    KEY_UNAVAILABLE = "key-unavailable"
    BAD_RECOVERY_KEY = "bad-recovery-key"


@dataclass(frozen=True)
class SignIn:
    member: StaffMember | None
    private_key: bytes | None = field(default=None, repr=False)
    failure: SignInFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def find_member(session: Session, email: str) -> StaffMember | None:
    try:
        email = normalise_email(email)
    except ValueError:
        return None
    return session.scalar(select(StaffMember).where(StaffMember.email == email))


def check_password(member: StaffMember | None, password: str) -> bool:
    try:
        return password_hasher.verify(member.password_hash if member else _DUMMY_HASH, password) and member is not None
    except (VerificationError, InvalidHashError):
        return False


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The TOTP time step that `code` belongs to, within the accepted window, else None."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def consume_code(session: Session, member: StaffMember, code: str, now: datetime) -> SignInFailure | None:
    """Accept a code once: the step must be later than the last accepted one (a conditional
    UPDATE, so two concurrent sign-ins with the same code cannot both win)."""
    step = matching_step(member.totp_secret, code, now)
    if step is None:
        return SignInFailure.BAD_CODE
    result = session.execute(
        update(StaffMember).where(StaffMember.id == member.id, StaffMember.totp_last_step < step)
        .values(totp_last_step=step).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return SignInFailure.REPLAYED_CODE
    member.totp_last_step = step
    return None


def authenticate(session: Session, email: str, password: str, code: str,
                 now: datetime | None = None) -> SignIn:
    """Check both factors and unwrap the staff member's private key. The caller commits."""
    now = now or datetime.now(timezone.utc)
    member = find_member(session, email)
    if not check_password(member, password):
        return SignIn(member, failure=SignInFailure.UNKNOWN_ACCOUNT if member is None else SignInFailure.BAD_PASSWORD)
    assert member is not None
    if not member.active:
        return SignIn(member, failure=SignInFailure.DISABLED)
    failure = consume_code(session, member, code, now)
    if failure is not None:
        return SignIn(member, failure=failure)
    try:
        private_key = unwrap_key(member.key_wrapped_by_password, password.encode("utf-8"))
    except CryptoError:
        return SignIn(member, failure=SignInFailure.KEY_UNAVAILABLE)
    if password_hasher.check_needs_rehash(member.password_hash):
        member.password_hash = password_hasher.hash(password)
    return SignIn(member, private_key=private_key)


@dataclass(frozen=True)
class Recovery:
    member: StaffMember | None
    secrets: NewSecrets | None = None
    failure: SignInFailure | None = None


def recover_with_key(session: Session, email: str, code: str, recovery_key: str, new_password: str,
                     limits: KdfLimits, now: datetime | None = None) -> Recovery:
    """Lost password: a TOTP code plus the recovery key set a new password and a new recovery key.

    Raises AccountError (before anything is checked or spent) when the new password is too weak.
    The caller commits, whatever the outcome: a TOTP step, once offered, stays spent.
    """
    check_new_password(new_password)
    member = find_member(session, email)
    if member is None:
        return Recovery(None, failure=SignInFailure.UNKNOWN_ACCOUNT)
    if not member.active:
        return Recovery(member, failure=SignInFailure.DISABLED)
    failure = consume_code(session, member, code, now or datetime.now(timezone.utc))
    if failure is not None:
        return Recovery(member, failure=failure)
    try:
        secrets = recover_access(member, recovery_key, new_password, limits)
    except AccountError:
        return Recovery(member, failure=SignInFailure.BAD_RECOVERY_KEY)
    return Recovery(member, secrets)
