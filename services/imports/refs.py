"""What a file's rows name — products, locations, ASN lines — looked up a chunk at a time.

Each distinct name is fetched once for the whole file with one IN query per chunk, so the
cost follows the number of distinct products and places, not the number of rows.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Location,
    LocationKind,
    Product,
    ReceivingLine,
    ReceivingLineStatus,
    ReceivingOrder,
    ReceivingOrderStatus,
    Tracking,
    Warehouse,
)


@dataclass(frozen=True)
class ProductRef:
    id: int
    sku: str
    gtin: str | None
    tracking: Tracking


@dataclass(frozen=True)
class LocationRef:
    id: int
    warehouse_id: int
    kind: LocationKind


@dataclass(frozen=True)
class LineRef:
    id: int
    order_id: int
    order_status: ReceivingOrderStatus
    status: ReceivingLineStatus
    product_id: int
    warehouse_id: int
    expected_quantity: int


class Catalog:
    """Remembers every name looked up; a name not found maps to None."""

    def __init__(self) -> None:
        self.by_sku: dict[str, ProductRef | None] = {}
        self.by_gtin: dict[str, ProductRef | None] = {}
        self.locations: dict[tuple[str, str], LocationRef | None] = {}
        self.lines: dict[tuple[str, int], LineRef | None] = {}
        self.products_by_id: dict[int, ProductRef] = {}

    async def load_products(
        self, session: AsyncSession, skus: Iterable[str], gtins: Iterable[str]
    ) -> None:
        new_skus = {s for s in skus if s not in self.by_sku}
        new_gtins = {g for g in gtins if g not in self.by_gtin}
        if new_skus or new_gtins:
            columns = (Product.id, Product.sku, Product.gtin, Product.tracking)
            rows = list(await session.execute(select(*columns).where(Product.sku.in_(new_skus))))
            if new_gtins:
                rows += await session.execute(select(*columns).where(Product.gtin.in_(new_gtins)))
            for row in rows:
                ref = ProductRef(*row)
                self.by_sku[ref.sku] = ref
                if ref.gtin:
                    self.by_gtin[ref.gtin] = ref
                self.products_by_id[ref.id] = ref
        self.by_sku.update((s, None) for s in new_skus if s not in self.by_sku)
        self.by_gtin.update((g, None) for g in new_gtins if g not in self.by_gtin)

    async def load_locations(self, session: AsyncSession, names: Iterable[tuple[str, str]]) -> None:
        new = {n for n in names if n not in self.locations}
        if not new:
            return
        rows = await session.execute(
            select(Warehouse.code, Location.code, Location.id, Location.warehouse_id, Location.kind)
            .join(Warehouse, Warehouse.id == Location.warehouse_id)
            .where(tuple_(Warehouse.code, Location.code).in_(new))
        )
        for warehouse, location, location_id, warehouse_id, kind in rows:
            self.locations[(warehouse, location)] = LocationRef(location_id, warehouse_id, kind)
        self.locations.update((n, None) for n in new if n not in self.locations)

    async def load_lines(self, session: AsyncSession, names: Iterable[tuple[str, int]]) -> None:
        new = {n for n in names if n not in self.lines}
        if not new:
            return
        rows = await session.execute(
            select(
                ReceivingOrder.number,
                ReceivingLine.line_number,
                ReceivingLine.id,
                ReceivingOrder.id,
                ReceivingOrder.status,
                ReceivingLine.status,
                ReceivingLine.product_id,
                ReceivingOrder.warehouse_id,
                ReceivingLine.expected_quantity,
            )
            .join(ReceivingOrder, ReceivingOrder.id == ReceivingLine.order_id)
            .where(tuple_(ReceivingOrder.number, ReceivingLine.line_number).in_(new))
        )
        for row in rows:
            self.lines[(row.number, row.line_number)] = LineRef(*row[2:])
        self.lines.update((n, None) for n in new if n not in self.lines)
        await self.load_products_by_id(
            session, {ref.product_id for ref in self.lines.values() if ref is not None}
        )

    async def load_products_by_id(self, session: AsyncSession, ids: set[int]) -> None:
        new = ids - self.products_by_id.keys()
        if new:
            rows = await session.execute(
                select(Product.id, Product.sku, Product.gtin, Product.tracking).where(
                    Product.id.in_(new)
                )
            )
            for row in rows:
                self.products_by_id[row.id] = ProductRef(*row)
