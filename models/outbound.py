"""Outbound documents: customer orders, their allocations and pick tasks, shipments."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, enum_column, utc_now
from models.enums import AllocationStatus, OutboundOrderStatus, PickTaskStatus, ShipmentStatus


class OutboundOrder(Base):
    __tablename__ = "outbound_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    customer_reference: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[OutboundOrderStatus] = enum_column(
        OutboundOrderStatus, "status", default=OutboundOrderStatus.OPEN, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class OutboundLine(Base):
    __tablename__ = "outbound_line"
    __table_args__ = (
        UniqueConstraint("order_id", "line_number"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "allocated_quantity >= 0 AND allocated_quantity <= quantity", name="allocated_within"
        ),
        CheckConstraint(
            "picked_quantity >= 0 AND picked_quantity <= allocated_quantity", name="picked_within"
        ),
        CheckConstraint(
            "shipped_quantity >= 0 AND shipped_quantity <= picked_quantity", name="shipped_within"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("outbound_order.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    allocated_quantity: Mapped[int] = mapped_column(Integer, default=0)
    picked_quantity: Mapped[int] = mapped_column(Integer, default=0)
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0)


class Allocation(Base):
    """Stock reserved for one order line at one location: one serial, or a quantity of one
    stock balance (a lot or untracked goods of one receipt)."""

    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "picked_quantity >= 0 AND picked_quantity <= quantity", name="picked_within"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("outbound_order.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("outbound_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    serial_id: Mapped[int | None] = mapped_column(ForeignKey("serial.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    stock_balance_id: Mapped[int | None] = mapped_column(ForeignKey("stock_balance.id"))
    # When the stock reserved was received: FIFO order, and how to find its balance again.
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    quantity: Mapped[int] = mapped_column(Integer)
    picked_quantity: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[AllocationStatus] = enum_column(
        AllocationStatus, "status", default=AllocationStatus.ALLOCATED, index=True
    )
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class PickTask(Base):
    """Go to `location_id` and take what allocation `allocation_id` reserved."""

    __tablename__ = "pick_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocation.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("outbound_order.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[PickTaskStatus] = enum_column(
        PickTaskStatus, "status", default=PickTaskStatus.OPEN, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Shipment(Base):
    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("outbound_order.id"), index=True)
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[ShipmentStatus] = enum_column(
        ShipmentStatus, "status", default=ShipmentStatus.PACKED
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
