"""Checks both kinds of import share: the product a row names, where its stock is, and
running one set-based check over the staged rows."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import LocationKind, Tracking
from services.errors import ErrorCode
from services.imports import rows as cells
from services.imports.refs import Catalog, ProductRef
from services.imports.report import ImportReport, RowError
from services.imports.rows import Column

SKU = Column("sku", required=False)
GTIN = Column("gtin", max_length=14, required=False)
WAREHOUSE = Column("warehouse", max_length=32)
LOCATION = Column("location")
# A set-based check lists this many offending rows; its count covers them all.
SHOWN = 1000

_TRACKED = {
    Tracking.SERIAL: ErrorCode.SERIALS_NOT_ALLOWED,
    Tracking.LOT: ErrorCode.LOTS_NOT_ALLOWED,
}


def product(
    report: ImportReport, catalog: Catalog, row: int, sku: str, gtin: str, tracking: Tracking
) -> ProductRef | None:
    """The product a row names by SKU (or, without one, by GTIN), if it is tracked so."""
    column = "sku" if sku else "gtin"
    found = catalog.by_sku.get(sku) if sku else catalog.by_gtin.get(gtin.zfill(14))
    if not sku and not gtin:
        report.add(row, "sku", ErrorCode.EMPTY_VALUE, "name the product by sku or gtin")
        return None
    if found is None:
        named = f"SKU {sku}" if sku else f"GTIN {gtin}"
        report.add(row, column, ErrorCode.UNKNOWN_PRODUCT, f"no product has {named}")
        return None
    if found.tracking is not tracking:
        report.add(
            row,
            column,
            _TRACKED[tracking],
            f"{found.sku} is not {tracking.value.lower()}-tracked",
        )
        return None
    return found


async def load_products(
    session: AsyncSession, catalog: Catalog, skus: set[str], gtins: set[str]
) -> None:
    await catalog.load_products(session, skus - {""}, {g.zfill(14) for g in gtins if g})


def storage(
    report: ImportReport, catalog: Catalog, row: int, warehouse: str, location: str
) -> tuple[int, int] | None:
    """(warehouse id, location id) of a storage location, where opening stock is counted."""
    if cells.text(report, row, WAREHOUSE, warehouse) is None:
        return None
    if cells.text(report, row, LOCATION, location) is None:
        return None
    ref = catalog.locations.get((warehouse, location))
    if ref is None:
        report.add(
            row,
            LOCATION.name,
            ErrorCode.UNKNOWN_LOCATION,
            f"warehouse {warehouse} has no location {location}",
        )
        return None
    if ref.kind is not LocationKind.STORAGE:
        report.add(
            row,
            LOCATION.name,
            ErrorCode.LOCATION_NOT_STORAGE,
            f"{location} is a {ref.kind} location; opening stock is counted in storage",
        )
        return None
    return ref.warehouse_id, ref.id


async def report_rows(
    session: AsyncSession,
    report: ImportReport,
    query: Select[*tuple[Any, ...]],
    code: ErrorCode,
    message: Callable[[Row[Any]], str],
    column: str,
) -> None:
    """Run one set-based check over the staged rows (`query` selects a `row` column): the
    first offending rows are listed, all of them are counted."""
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if not total:
        return
    first = await session.execute(query.order_by(query.selected_columns["row"]).limit(SHOWN))
    report.add_counted([RowError(r.row, column, code, message(r)) for r in first], total)
