"""Inbound documents: receiving orders (ASNs), their lines, and putaway tasks."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, enum_column, utc_now
from models.enums import PutawayTaskStatus, ReceivingLineStatus, ReceivingOrderStatus


class ReceivingOrder(Base):
    __tablename__ = "receiving_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    supplier: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ReceivingOrderStatus] = enum_column(
        ReceivingOrderStatus, "status", default=ReceivingOrderStatus.PLANNED
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ReceivingLine(Base):
    __tablename__ = "receiving_line"
    __table_args__ = (
        UniqueConstraint("order_id", "line_number"),
        CheckConstraint("expected_quantity > 0", name="expected_positive"),
        CheckConstraint(
            "received_quantity >= 0 AND received_quantity <= expected_quantity",
            name="received_within_expected",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("receiving_order.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    expected_quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ReceivingLineStatus] = enum_column(
        ReceivingLineStatus, "status", default=ReceivingLineStatus.PLANNED
    )


class PutawayTask(Base):
    """Move what one receipt brought for one line (and one lot) from receiving to storage."""

    __tablename__ = "putaway_task"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    receiving_line_id: Mapped[int] = mapped_column(ForeignKey("receiving_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[PutawayTaskStatus] = enum_column(
        PutawayTaskStatus, "status", default=PutawayTaskStatus.OPEN, index=True
    )
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
