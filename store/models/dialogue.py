"""Messages between investigators and the reporter, internal notes, and files."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base
from store.types import UTCDateTime, utcnow


class Direction(str, enum.Enum):
    TO_REPORTER = "to-reporter"
    FROM_REPORTER = "from-reporter"
    NOTE = "note"  # internal: the reporter never sees it


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_report_created", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SecretBox under the report's data key.
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Attachment(Base):
    """A file, stored encrypted (chunked SecretBox stream) under the report's data key."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_report", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # File name and media type, sealed under the data key (a name can identify a reporter).
    sealed_meta: Mapped[bytes] = mapped_column(LargeBinary)
    stored_size: Mapped[int] = mapped_column(BigInteger)
    blob_name: Mapped[str] = mapped_column(String(64), unique=True)
