"""Staff accounts: admins, investigators and auditors."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base
from store.types import UTCDateTime, utcnow


class Role(str, enum.Enum):
    ADMIN = "admin"
    INVESTIGATOR = "investigator"
    AUDITOR = "auditor"


class StaffMember(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str] = mapped_column(String(64))
    # Last accepted TOTP time step: a code at or before it is a replay.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The X25519 private key, wrapped under the password and under the one-time recovery key.
    key_wrapped_by_password: Mapped[bytes] = mapped_column(LargeBinary)
    key_wrapped_by_recovery: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_investigator(self) -> bool:
        return self.role == Role.INVESTIGATOR.value
