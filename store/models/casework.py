"""Case handling records: status changes, recusals, routing rules."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base
from store.types import UTCDateTime, utcnow


class StatusChange(Base):
    """Every workflow transition: who, when, from what to what, and why (sealed: it may quote)."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_report", "report_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sealed_reason: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Recusal(Base):
    """An investigator named in or conflicted with a case: they lose its key and may not regain it."""

    __tablename__ = "recusals"
    __table_args__ = (Index("uq_recusals_report_staff", "report_id", "staff_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoutingRule(Base):
    """Who receives which category: an admin's configuration, applied by the triage job."""

    __tablename__ = "routing_rules"
    __table_args__ = (Index("uq_routing_rules_category_staff", "category", "staff_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
