"""Natural keys: integrators and scanners name things by code, SKU or number, not by id."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from models import Product, Warehouse
from resolvers.ids import decode
from services.errors import ErrorCode, Problems, Refused
from services.queries import key_values


async def warehouse_id_for(
    session: AsyncSession, warehouse_id: relay.GlobalID | None, warehouse_code: str | None
) -> int:
    if warehouse_id is not None:
        return decode(warehouse_id, "Warehouse", "warehouseId")
    found = await session.scalar(
        select(Warehouse.id).where(Warehouse.code == (warehouse_code or "").strip())
    )
    if found is None:
        raise Refused.one(ErrorCode.NOT_FOUND, f"no warehouse {warehouse_code!r}", "warehouseCode")
    return found


async def product_ids_for(
    session: AsyncSession, refs: list[tuple[relay.GlobalID | None, str | None]]
) -> list[int]:
    """Each line names its product by id or by SKU; every unknown one is reported."""
    problems = Problems()
    skus = {sku.strip() for _, sku in refs if sku}
    by_sku = await key_values(session, select(Product.sku, Product.id).where(Product.sku.in_(skus)))
    ids = []
    for i, (gid, sku) in enumerate(refs):
        if gid is not None:
            try:
                ids.append(decode(gid, "Product", f"lines.{i}.productId"))
            except Refused as refused:
                problems.items += refused.problems
        elif sku and sku.strip() in by_sku:
            ids.append(by_sku[sku.strip()])
        else:
            problems.add(
                ErrorCode.NOT_FOUND,
                f"no product {sku!r}: give productId or an existing productSku",
                f"lines.{i}.productSku",
            )
    problems.raise_if_any()
    return ids
