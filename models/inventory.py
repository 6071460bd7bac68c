"""What is in the warehouse: serials (one item each), lots, and on-hand quantities."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, enum_column, utc_now, where_not_null
from models.enums import SerialStatus

NUMBER_MAX_LENGTH = 64
# Casefolding can lengthen a string ("ß" -> "ss"), hence room for three times the number.
SEARCH_KEY = String(NUMBER_MAX_LENGTH * 3).with_variant(
    String(NUMBER_MAX_LENGTH * 3, collation="C"), "postgresql"
)


class Serial(Base):
    """One physical item. The number is exact-match and never reused for its product.

    The only writer of `status` is services.lifecycle.apply_event.
    """

    __tablename__ = "serial"
    __table_args__ = (
        # Unique per product for ever, except numbers of items that never arrived.
        Index(
            "uq_serial_product_id_serial_number",
            "product_id",
            "serial_number",
            unique=True,
            sqlite_where=text("status <> 'RELEASED'"),
            postgresql_where=text("status <> 'RELEASED'"),
        ),
        # Serial look-up by prefix: a range on `serial_key` read from this index.
        Index("ix_serial_serial_key", "serial_key"),
        # A product's serials in id order (keyset pages, one per product in a batch) read
        # only the page from here, however many serials the product has.
        Index("ix_serial_product_id_id", "product_id", "id"),
        # Serials of a receiving line or putaway task. Only rows that name one are indexed:
        # opening stock names neither, and indexing its nulls was an eighth of the time
        # PostgreSQL took to write 100,000 of them (migration 0005).
        *(
            Index(f"ix_serial_{column}", column, **where_not_null(column))
            for column in ("receiving_line_id", "putaway_task_id")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    serial_number: Mapped[str] = mapped_column(String(NUMBER_MAX_LENGTH))
    # The number casefolded, for case-insensitive look-up. Compared in code-point order on
    # both engines (PostgreSQL's "C" collation, SQLite's BINARY), so a prefix is one
    # contiguous index range whatever the database's locale.
    serial_key: Mapped[str] = mapped_column(SEARCH_KEY)
    status: Mapped[SerialStatus] = enum_column(SerialStatus, "status", index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    receiving_line_id: Mapped[int | None] = mapped_column(ForeignKey("receiving_line.id"))
    putaway_task_id: Mapped[int | None] = mapped_column(ForeignKey("putaway_task.id"))
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Lot(Base):
    """A batch of one product. Matched case-insensitively through `lot_key`; `lot_number`
    keeps the case first entered, for display."""

    __tablename__ = "lot"
    __table_args__ = (UniqueConstraint("product_id", "lot_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    lot_number: Mapped[str] = mapped_column(String(NUMBER_MAX_LENGTH))
    lot_key: Mapped[str] = mapped_column(String(NUMBER_MAX_LENGTH * 3))
    expiry_date: Mapped[date | None] = mapped_column(Date)
    # First receipt of this lot. (Allocation breaks expiry ties by each stock balance's own
    # receipt time, which differs when one lot arrives in several receipts.)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # A recall hold blocks allocation until released (both are movements).
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class StockBalance(Base):
    """On-hand quantity of a lot-tracked or untracked product at one location, for one
    receipt time (so FIFO can take the oldest first). Serials are counted, not stored here."""

    __tablename__ = "stock_balance"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint(
            "allocated_quantity >= 0 AND allocated_quantity <= quantity",
            name="allocated_within_quantity",
        ),
        Index("ix_stock_balance_product_location", "product_id", "location_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    allocated_quantity: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
