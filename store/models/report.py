"""A report and what the system knows about it, without a word of its content.

Everything the reporter wrote lives only in `body` (SecretBox under the report's data key); the
other columns are metadata that the queue, deadlines and statistics need.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base
from store.types import UTCDateTime, utcnow


class Status(str, enum.Enum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ASSESSING = "assessing"
    INVESTIGATING = "investigating"
    CONCLUDED = "concluded"


class Outcome(str, enum.Enum):
    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    REFERRED = "referred"
    NOT_ACTIONABLE = "not-actionable"


class TriageState(str, enum.Enum):
    PENDING = "pending"
    CLASSIFIED = "classified"
    NEEDS_HUMAN = "needs-human"
    FAILED = "failed"


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_status_received", "status", "received_at", "id"),
        Index("ix_reports_category_received", "category", "received_at", "id"),
        Index("ix_reports_triage_state_received", "triage_state", "received_at"),
        Index("ix_reports_received", "received_at", "id"),
        # The case queue's "assigned to me" filter, "least confident first" and deadline orders
        # (cases/queue.py, cases/deadline_order.py).
        Index("ix_reports_assignee_received", "assignee_id", "received_at", "id"),
        Index("ix_reports_confidence", "confidence", "id"),
        Index("ix_reports_status_acknowledged", "status", "acknowledged_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Argon2id-derived tag of the receipt: finds the report, reveals nothing about the receipt.
    receipt_lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    reporter_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    body: Mapped[bytes] = mapped_column(LargeBinary)

    status: Mapped[str] = mapped_column(String(20), default=Status.RECEIVED.value)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)

    triage_state: Mapped[str] = mapped_column(String(20), default=TriageState.PENDING.value)
    triage_attempts: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The machine's explanation quotes the report, so it is sealed under the data key.
    triage_explanation: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    triage_error: Mapped[str | None] = mapped_column(String(200), nullable=True)

    # A human's correction is kept beside the machine's guess, never over it.
    human_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    human_flags: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    corrected_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    sealed_keys: Mapped[list["SealedKey"]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )

    @property
    def effective_category(self) -> str | None:
        return self.human_category or self.category

    @property
    def effective_flags(self) -> list[str]:
        return list(self.human_flags if self.human_flags is not None else (self.flags or []))


class RecipientKind(str, enum.Enum):
    SERVICE = "service"
    STAFF = "staff"
    REPORTER = "reporter"


class SealedKey(Base):
    """The report's data key sealed (SealedBox) to one recipient."""

    __tablename__ = "sealed_keys"
    __table_args__ = (
        Index("uq_sealed_keys_report_key", "report_id", "key_id", unique=True),
        Index("ix_sealed_keys_staff", "staff_id", "report_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    recipient_kind: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="sealed_keys")
