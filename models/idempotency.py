"""Answers kept for retried writes: one row per caller and idempotency key."""

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, utc_now


class IdempotencyKey(Base):
    """Claimed in the transaction of the request's first committed write; the answer is
    filled in once the response is known. A row without an answer is a request in flight,
    or one whose answer was lost when the server stopped after its commit."""

    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_created_at", "created_at"),)

    # Who the key belongs to: `token:<id>` of the API token that sent it.
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of the normalised document, variables and operation name.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
