"""Warehouses, their locations, and products."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AllocationStrategy,
    Location,
    LocationKind,
    Lot,
    Product,
    ReceivingLine,
    ReceivingLineStatus,
    Serial,
    StockBalance,
    Tracking,
    Warehouse,
)
from services.errors import ErrorCode, Problems, Refused
from services.identifiers import clean_code, normalize_gtin

CODE_MAX = 32
NAME_MAX = 200
SKU_MAX = 64
LOCATION_CODE_MAX = 64


@dataclass(frozen=True)
class LocationSpec:
    code: str
    kind: LocationKind


def tracking_from_flags(serial_tracked: bool, lot_tracked: bool) -> Tracking:
    if serial_tracked and lot_tracked:
        raise Refused.one(
            ErrorCode.TRACKING_CONFLICT,
            "a product is serial-tracked or lot-tracked, not both",
            "lotTracked",
        )
    if serial_tracked:
        return Tracking.SERIAL
    return Tracking.LOT if lot_tracked else Tracking.NONE


def _check_time_zone(name: str, problems: Problems) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(ErrorCode.INVALID_TIME_ZONE, f"{name!r} is not an IANA time zone", "timeZone")


async def create_warehouse(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    time_zone: str,
    allocation_strategy: AllocationStrategy = AllocationStrategy.FEFO,
    locations: list[LocationSpec] | None = None,
) -> Warehouse:
    problems = Problems()
    clean = clean_code(code, problems, "code", what="warehouse code", max_length=CODE_MAX)
    clean_name = clean_code(name, problems, "name", what="name", max_length=NAME_MAX)
    _check_time_zone(time_zone, problems)
    if clean and await session.scalar(select(exists().where(Warehouse.code == clean))):
        problems.add(ErrorCode.DUPLICATE_CODE, f"warehouse {clean} already exists", "code")
    codes = [spec.code.strip() for spec in locations or []]
    for i, spec in enumerate(locations or []):
        clean_code(
            spec.code,
            problems,
            f"locations.{i}.code",
            what="location code",
            max_length=LOCATION_CODE_MAX,
        )
        if codes.count(spec.code.strip()) > 1:
            problems.add(
                ErrorCode.DUPLICATE_CODE,
                f"location {spec.code} is listed twice",
                f"locations.{i}.code",
            )
    problems.raise_if_any()
    assert clean
    assert clean_name
    warehouse = Warehouse(
        code=clean, name=clean_name, time_zone=time_zone, allocation_strategy=allocation_strategy
    )
    session.add(warehouse)
    await session.flush()
    session.add_all(
        Location(warehouse_id=warehouse.id, code=code, kind=spec.kind)
        for code, spec in zip(codes, locations or [], strict=True)
    )
    await session.flush()
    return warehouse


async def create_location(
    session: AsyncSession, *, warehouse_id: int, code: str, kind: LocationKind
) -> Location:
    problems = Problems()
    clean = clean_code(code, problems, "code", what="location code", max_length=LOCATION_CODE_MAX)
    if await session.get(Warehouse, warehouse_id) is None:
        problems.add(ErrorCode.NOT_FOUND, "no such warehouse", "warehouseId")
    elif clean and await session.scalar(
        select(exists().where(Location.warehouse_id == warehouse_id, Location.code == clean))
    ):
        problems.add(ErrorCode.DUPLICATE_CODE, f"location {clean} already exists", "code")
    problems.raise_if_any()
    assert clean
    location = Location(warehouse_id=warehouse_id, code=clean, kind=kind)
    session.add(location)
    await session.flush()
    return location


async def _check_gtin_free(
    session: AsyncSession, gtin: str, problems: Problems, product_id: int | None = None
) -> None:
    query = select(Product.id).where(Product.gtin == gtin)
    if product_id is not None:
        query = query.where(Product.id != product_id)
    if await session.scalar(query) is not None:
        problems.add(ErrorCode.DUPLICATE_GTIN, f"GTIN {gtin} belongs to another product", "gtin")


async def create_product(
    session: AsyncSession, *, sku: str, name: str, tracking: Tracking, gtin: str | None = None
) -> Product:
    problems = Problems()
    clean_sku = clean_code(sku, problems, "sku", what="SKU", max_length=SKU_MAX)
    clean_name = clean_code(name, problems, "name", what="name", max_length=NAME_MAX)
    clean_gtin = normalize_gtin(gtin, problems, "gtin") if gtin else None
    if clean_sku and await session.scalar(select(exists().where(Product.sku == clean_sku))):
        problems.add(ErrorCode.DUPLICATE_SKU, f"SKU {clean_sku} already exists", "sku")
    if clean_gtin:
        await _check_gtin_free(session, clean_gtin, problems)
    problems.raise_if_any()
    assert clean_sku
    assert clean_name
    product = Product(sku=clean_sku, name=clean_name, gtin=clean_gtin, tracking=tracking)
    session.add(product)
    await session.flush()
    return product


async def product_has_history(session: AsyncSession, product_id: int) -> bool:
    """True once anything of the product exists: serials, lots, stock or open ASN lines.
    Its tracking is then fixed, or existing records would stop making sense."""
    open_lines = ReceivingLine.status.in_(
        [ReceivingLineStatus.PLANNED, ReceivingLineStatus.RECEIVING]
    )
    query = select(
        or_(
            exists().where(Serial.product_id == product_id),
            exists().where(Lot.product_id == product_id),
            exists().where(StockBalance.product_id == product_id, StockBalance.quantity > 0),
            exists().where(ReceivingLine.product_id == product_id, open_lines),
        )
    )
    return bool(await session.scalar(query))


async def update_product(
    session: AsyncSession,
    product_id: int,
    *,
    name: str | None = None,
    gtin: str | None = None,
    clear_gtin: bool = False,
    tracking: Tracking | None = None,
) -> Product:
    product = await session.get(Product, product_id, with_for_update={"key_share": True})
    if product is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such product", "id")
    problems = Problems()
    clean_name = (
        clean_code(name, problems, "name", what="name", max_length=NAME_MAX) if name else None
    )
    clean_gtin = normalize_gtin(gtin, problems, "gtin") if gtin else None
    if clean_gtin:
        await _check_gtin_free(session, clean_gtin, problems, product_id)
    if (
        tracking is not None
        and tracking != product.tracking
        and await product_has_history(session, product_id)
    ):
        problems.add(
            ErrorCode.TRACKING_LOCKED,
            f"{product.sku} already has stock, serials, lots or open receipts: "
            "its tracking cannot change",
            "tracking",
        )
    problems.raise_if_any()
    if clean_name:
        product.name = clean_name
    if clean_gtin or clear_gtin:
        product.gtin = clean_gtin
    if tracking is not None:
        product.tracking = tracking
    await session.flush()
    return product
