"""API tokens: the secret is shown once and only its hash is kept."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntId, UtcDateTime, enum_column, utc_now
from models.enums import Role


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    # The token's public first part, unique: the row is found by it without a scan.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    # SHA-256 of the whole token. The secret part is 160 random bits, so a fast hash is
    # enough: nothing can be guessed from it, and checking costs microseconds per request.
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = enum_column(Role, "role")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The token that created this one (none from the command line). A token is only good
    # while every token above it is good: revoking one revokes what it created.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
