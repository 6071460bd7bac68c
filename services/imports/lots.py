"""Importing lot quantities already in stock when tracking began (opening stock).

A row names a product, a lot, its expiry, a quantity and a storage location. Lots are
matched case-insensitively and keep the case first written; one lot must carry one expiry,
in the file and against what is recorded. Expired stock may be imported: it is in the
warehouse, and being tracked is what keeps it from being shipped.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import Lot, MovementKind, StockBalance, Tracking
from models.base import UtcDateTime, utc_now
from models.inventory import NUMBER_MAX_LENGTH
from services.errors import ErrorCode
from services.identifiers import lot_key
from services.imports import checks
from services.imports import rows as cells
from services.imports.chained import insert_movements
from services.imports.checks import GTIN, LOCATION, SKU, WAREHOUSE
from services.imports.labels import read_cell
from services.imports.refs import Catalog
from services.imports.report import ImportReport
from services.imports.rows import Column, Layout, Record
from services.imports.staging import lot_rows
from services.movements import Document

LOT = Column("lot_number", max_length=200, scannable=True)  # room for a scanned GS1 label
NUMBER = Column("lot_number", max_length=NUMBER_MAX_LENGTH)
EXPIRY = Column("expiry_date", max_length=10, required=False)
QUANTITY = Column("quantity", max_length=9)
LAYOUT = Layout((SKU, GTIN, LOT, EXPIRY, QUANTITY, WAREHOUSE, LOCATION), one_of=(("sku", "gtin"),))


@dataclass
class LotImport:
    catalog: Catalog
    layout: Layout = LAYOUT
    table = lot_rows

    async def check_rows(
        self, session: AsyncSession, chunk: Sequence[Record], report: ImportReport
    ) -> list[tuple[Any, ...]]:
        catalog = self.catalog
        await checks.load_products(
            session, catalog, {r[0] for _, r in chunk}, {r[1] for _, r in chunk}
        )
        await catalog.load_locations(session, {(r[5], r[6]) for _, r in chunk})
        staged: list[tuple[Any, ...]] = []
        for row, (sku, gtin, raw_lot, raw_expiry, raw_quantity, warehouse, location) in chunk:
            cell = cells.text(report, row, LOT, raw_lot)
            expiry = cells.iso_date(report, row, EXPIRY, raw_expiry) if raw_expiry else None
            quantity = cells.positive_quantity(report, row, QUANTITY, raw_quantity)
            product = checks.product(report, catalog, row, sku, gtin, Tracking.LOT)
            place = checks.storage(report, catalog, row, warehouse, location)
            if cell is None or product is None:
                continue
            label = read_cell(cell, "lot", sku=product.sku, gtin=product.gtin, expiry_date=expiry)
            if label.problem is not None:
                report.add(row, LOT.name, *label.problem)
                continue
            assert label.number is not None
            number = cells.text(report, row, NUMBER, label.number)
            if number is None or quantity is None or place is None:
                continue
            if raw_expiry and expiry is None:
                continue
            staged.append(
                (
                    row,
                    product.id,
                    number,
                    lot_key(number),
                    expiry or label.expiry_date,
                    quantity,
                    *place,
                )
            )
        return staged

    async def check_set(self, session: AsyncSession, report: ImportReport) -> None:
        """One lot, one expiry: rows that state one must agree with each other and with the
        recorded lot; a row that leaves it empty takes the lot's."""
        s = lot_rows
        earlier = aliased(s)
        # NULL never compares equal or unequal, so only rows that state an expiry meet here.
        disagreeing = select(s.c.row, s.c.lot_number, s.c.expiry_date).where(
            select(earlier.c.row)
            .where(
                earlier.c.product_id == s.c.product_id,
                earlier.c.lot_key == s.c.lot_key,
                earlier.c.row < s.c.row,
                earlier.c.expiry_date != s.c.expiry_date,
            )
            .exists()
        )
        await checks.report_rows(
            session,
            report,
            disagreeing,
            ErrorCode.LOT_EXPIRY_CONFLICT,
            lambda r: (
                f"lot {r.lot_number} is given expiry {r.expiry_date} here and another "
                "on an earlier row"
            ),
            EXPIRY.name,
        )
        recorded = (
            select(s.c.row, Lot.lot_number, Lot.expiry_date)
            .join(Lot, and_(Lot.product_id == s.c.product_id, Lot.lot_key == s.c.lot_key))
            # A row without an expiry takes the lot's recorded one.
            .where(s.c.expiry_date.is_not(None), s.c.expiry_date.is_distinct_from(Lot.expiry_date))
        )
        await checks.report_rows(
            session,
            report,
            recorded,
            ErrorCode.LOT_EXPIRY_CONFLICT,
            lambda r: f"lot {r.lot_number} is recorded with expiry {r.expiry_date or 'none'}",
            EXPIRY.name,
        )

    async def count(self, session: AsyncSession, report: ImportReport) -> None:
        s = lot_rows
        report.quantity = await session.scalar(select(func.sum(s.c.quantity))) or 0
        report.lots_created = (
            await session.scalar(select(func.count()).select_from(_new_lots().subquery())) or 0
        )

    async def write(
        self, session: AsyncSession, report: ImportReport, document: Document, actor: str
    ) -> None:
        s = lot_rows
        now = literal(utc_now(), UtcDateTime)
        new = _new_lots().add_columns(now, now, literal(False))
        await session.execute(
            insert(Lot).from_select(
                [
                    "product_id",
                    "lot_number",
                    "lot_key",
                    "expiry_date",
                    "received_at",
                    "created_at",
                    "on_hold",
                ],
                new,
            )
        )
        lot = and_(Lot.product_id == s.c.product_id, Lot.lot_key == s.c.lot_key)
        await session.execute(
            insert(StockBalance).from_select(
                [
                    "product_id",
                    "warehouse_id",
                    "location_id",
                    "lot_id",
                    "quantity",
                    "allocated_quantity",
                    "received_at",
                ],
                select(
                    s.c.product_id,
                    s.c.warehouse_id,
                    s.c.location_id,
                    Lot.id,
                    func.sum(s.c.quantity),
                    literal(0),
                    now,
                )
                .select_from(s)
                .join(Lot, lot)
                .group_by(s.c.product_id, s.c.warehouse_id, s.c.location_id, Lot.id),
            )
        )
        await insert_movements(
            session,
            select(
                literal(MovementKind.OPENING_STOCK.value).label("kind"),
                s.c.product_id,
                Lot.id.label("lot_id"),
                s.c.quantity,
                s.c.location_id.label("to_location_id"),
                literal(document.type).label("document_type"),
                literal(document.number).label("document_number"),
                literal(actor).label("actor"),
                now.label("occurred_at"),
            )
            .select_from(s)
            .join(Lot, lot),
            s.c.row,
        )


def _new_lots() -> Any:
    """The first row of each lot the database does not know yet: its number as written
    there (lots keep the case first entered), and the expiry its rows state (they agree)."""
    s = lot_rows
    other = aliased(s)
    known = (
        select(Lot.id).where(Lot.product_id == s.c.product_id, Lot.lot_key == s.c.lot_key).exists()
    )
    earlier = (
        select(other.c.row)
        .where(
            other.c.product_id == s.c.product_id,
            other.c.lot_key == s.c.lot_key,
            other.c.row < s.c.row,
        )
        .exists()
    )
    stated = (
        select(func.max(other.c.expiry_date))
        .where(other.c.product_id == s.c.product_id, other.c.lot_key == s.c.lot_key)
        .scalar_subquery()
    )
    return select(s.c.product_id, s.c.lot_number, s.c.lot_key, stated).where(~known, ~earlier)
