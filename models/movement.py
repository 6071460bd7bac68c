"""The audit trail: one immutable row per status change or move, chained by hash.

The database refuses UPDATE, DELETE and TRUNCATE on `movement` (triggers in the initial
migration); the hash chain (services/chain.py, docs/audit.md) shows whatever was rewritten
by someone able to get past them."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigIntId, UtcDateTime, enum_column, utc_now, where_not_null
from models.enums import MovementKind, SerialStatus


class Movement(Base):
    __tablename__ = "movement"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_movement_serial_id_id", "serial_id", "id"),
        # A lot's history. Only movements of lots are indexed: a serial's movements name no
        # lot (migration 0005).
        Index("ix_movement_lot_id_id", "lot_id", "id", **where_not_null("lot_id")),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[MovementKind] = enum_column(MovementKind, "kind")
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    serial_id: Mapped[int | None] = mapped_column(ForeignKey("serial.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[SerialStatus | None] = enum_column(SerialStatus, "from_status")
    to_status: Mapped[SerialStatus | None] = enum_column(SerialStatus, "to_status")
    from_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    to_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    # The document that caused it, e.g. ("RECEIVING_ORDER", "ASN-1001"), ("ORDER", "SO-7").
    document_type: Mapped[str] = mapped_column(String(32))
    document_number: Mapped[str] = mapped_column(String(64))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"))
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # SHA-256 (lowercase hex) of the previous movement's chain_hash and this row's content.
    chain_hash: Mapped[str] = mapped_column(String(64))


# The chain_hash the first movement links to.
GENESIS_HASH = "0" * 64
CHAIN_HEAD_ID = 1


class MovementChain(Base):
    """The head of the hash chain: the last movement written and its hash. Its one row is
    locked by every writer of movements, which puts movement ids in chain order."""

    __tablename__ = "movement_chain"
    __table_args__ = (CheckConstraint(f"id = {CHAIN_HEAD_ID}", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigIntId)
    last_hash: Mapped[str] = mapped_column(String(64))
