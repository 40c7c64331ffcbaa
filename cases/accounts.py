"""Staff accounts: creation with a key pair wrapped under the password and a recovery key."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.keys import generate_keypair, key_id
from crypto.wrapping import KdfLimits, new_recovery_key, normalise_recovery_key, wrap_key
from store.models import Role, StaffMember

MIN_PASSWORD_LENGTH = 12

# argon2-cffi's defaults follow RFC 9106's second recommended option (64 MiB, 3 passes).
password_hasher = PasswordHasher()


class AccountError(ValueError):
    """A staff account cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class NewAccount:
    """Shown once to the operator: nothing here except the email is stored in the clear."""

    email: str
    role: str
    password: str
    totp_secret: str
    recovery_key: str


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or email.startswith("@") or email.endswith("@"):
        raise AccountError(f"'{email}' is not an email address")
    return email


def create_staff(session: Session, email: str, role: str, limits: KdfLimits,
                 password: str | None = None) -> NewAccount:
    email = normalise_email(email)
    if role not in {r.value for r in Role}:
        raise AccountError(f"role must be one of {', '.join(r.value for r in Role)}")
    if session.scalar(select(StaffMember).where(StaffMember.email == email)) is not None:
        raise AccountError(f"a staff member with email {email} already exists")
    password = password or generate_password()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    keypair = generate_keypair()
    recovery_key = new_recovery_key()
    totp_secret = pyotp.random_base32()
    member = StaffMember(
        email=email, role=role, password_hash=password_hasher.hash(password), totp_secret=totp_secret,
        key_id=key_id(keypair.public_key), public_key=keypair.public_key,
        key_wrapped_by_password=wrap_key(keypair.private_key, password.encode(), limits),
        key_wrapped_by_recovery=wrap_key(keypair.private_key, normalise_recovery_key(recovery_key).encode(), limits),
    )
    session.add(member)
    session.commit()
    return NewAccount(email, role, password, totp_secret, recovery_key)
