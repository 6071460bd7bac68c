"""Where things are (warehouses, locations) and what they are (products)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, enum_column, utc_now
from models.enums import AllocationStrategy, LocationKind, Tracking


class Warehouse(Base):
    __tablename__ = "warehouse"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    allocation_strategy: Mapped[AllocationStrategy] = enum_column(
        AllocationStrategy, "allocation_strategy", default=AllocationStrategy.FEFO
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Location(Base):
    __tablename__ = "location"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[LocationKind] = enum_column(LocationKind, "kind")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (CheckConstraint("length(sku) > 0", name="sku_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    tracking: Mapped[Tracking] = enum_column(Tracking, "tracking", default=Tracking.NONE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
