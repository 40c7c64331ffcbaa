"""Staff accounts: creation with a key pair wrapped under the password and a recovery key;
password change, recovery with the recovery key, and re-keying."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.keys import generate_keypair, key_id
from crypto.errors import CryptoError
from crypto.wrapping import KdfLimits, new_recovery_key, normalise_recovery_key, unwrap_key, wrap_key
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


@dataclass(frozen=True)
class NewSecrets:
    """Secrets issued by a recovery or a re-key, shown once and never stored in the clear."""

    password: str | None
    recovery_key: str
    totp_secret: str | None = None


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def change_password(member: StaffMember, private_key: bytes, new_password: str, limits: KdfLimits) -> None:
    """Re-wrap the private key under a new password (the caller has verified the old one)."""
    check_new_password(new_password)
    member.password_hash = password_hasher.hash(new_password)
    member.key_wrapped_by_password = wrap_key(private_key, new_password.encode(), limits)


def recover_access(member: StaffMember, recovery_key: str, new_password: str, limits: KdfLimits) -> NewSecrets:
    """Open the key with the one-time recovery key, then wrap it under a new password and a new
    recovery key (the one just used is spent). Raises AccountError when the key does not open."""
    check_new_password(new_password)
    try:
        private_key = unwrap_key(member.key_wrapped_by_recovery, normalise_recovery_key(recovery_key).encode())
    except CryptoError:
        raise AccountError("the recovery key does not open this account's key") from None
    fresh_recovery = new_recovery_key()
    change_password(member, private_key, new_password, limits)
    member.key_wrapped_by_recovery = wrap_key(private_key, normalise_recovery_key(fresh_recovery).encode(), limits)
    return NewSecrets(password=None, recovery_key=fresh_recovery)


def rekey(member: StaffMember, limits: KdfLimits) -> NewSecrets:
    """Re-enrol a staff member with a new key pair, password, recovery key and TOTP secret.

    Data keys sealed to the old public key cannot be opened any more; the caller removes them,
    and colleagues re-grant the cases the person still needs.
    """
    keypair = generate_keypair()
    password, recovery, totp_secret = generate_password(), new_recovery_key(), pyotp.random_base32()
    member.key_id = key_id(keypair.public_key)
    member.public_key = keypair.public_key
    member.password_hash = password_hasher.hash(password)
    member.key_wrapped_by_password = wrap_key(keypair.private_key, password.encode(), limits)
    member.key_wrapped_by_recovery = wrap_key(keypair.private_key, normalise_recovery_key(recovery).encode(), limits)
    member.totp_secret = totp_secret
    member.totp_last_step = 0
    return NewSecrets(password=password, recovery_key=recovery, totp_secret=totp_secret)
