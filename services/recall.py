"""Recall: hold lots so that nothing more of them is allocated, release them again, and
trace a lot — where what is left of it is, and which orders and shipments took it.

A hold blocks allocation only (`free_stock_query` skips held lots). What orders had already
reserved or picked stays theirs: the recall report lists those orders, so that they can be
cancelled or returned to stock one by one. Holding and releasing each write one movement
per lot (HOLD, RELEASE_HOLD), with the recall's document and the actor.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Allocation,
    AllocationStatus,
    Location,
    LocationKind,
    Lot,
    MovementKind,
    OutboundOrder,
    OutboundOrderStatus,
    Product,
    Shipment,
    ShipmentStatus,
    StockBalance,
    Warehouse,
)
from services.errors import ErrorCode, Problems
from services.identifiers import clean_code
from services.movements import Document, MovementRecord, record_movements
from services.stock import lock_products

RECALL_DOCUMENT = "RECALL"
REASON_MAX = 500
# The recall reference becomes the movements' document number.
REFERENCE_MAX = 64  # movement.document_number
# Allocations by which an order took the lot (cancelled and returned ones gave it back).
TAKEN = (AllocationStatus.ALLOCATED, AllocationStatus.PICKED, AllocationStatus.SHIPPED)


def hold_document(lot: Lot, reference: str | None) -> Document:
    """The recall reference the caller gave, or `HOLD-<lot number>`."""
    number = reference if reference is not None else f"HOLD-{lot.lot_number}"
    return Document(RECALL_DOCUMENT, number[:REFERENCE_MAX])


async def hold_lots(
    session: AsyncSession,
    lot_ids: Sequence[int],
    reason: str,
    actor: str,
    *,
    reference: str | None = None,
    fields: Sequence[str] | None = None,
) -> list[Lot]:
    """Put lots on hold, all or none: allocation skips them until they are released.

    `reason` (1 to 500 characters) stays on the lot while it is held. `reference`, e.g. the
    supplier's recall number, is the movements' document number. `fields` names the input
    path of each lot id in refusals (default `lotIds.<i>`).
    """
    problems = Problems()
    clean_reason = reason.strip()
    if not 1 <= len(clean_reason) <= REASON_MAX:
        problems.add(
            ErrorCode.INVALID_VALUE, f"the reason must be 1 to {REASON_MAX} characters", "reason"
        )
    lots = await _lock_lots(session, lot_ids, reference, problems, fields)
    for lot, path in lots:
        if lot.on_hold:
            problems.add(
                ErrorCode.LOT_ALREADY_ON_HOLD,
                f"lot {lot.lot_number} is already on hold ({lot.hold_reason})",
                path,
            )
    problems.raise_if_any()
    return await _change_holds(
        session, [lot for lot, _ in lots], clean_reason, MovementKind.HOLD, reference, actor
    )


async def release_lots(
    session: AsyncSession,
    lot_ids: Sequence[int],
    actor: str,
    *,
    reference: str | None = None,
    fields: Sequence[str] | None = None,
) -> list[Lot]:
    """Lift the hold of lots, all or none: they can be allocated again."""
    problems = Problems()
    lots = await _lock_lots(session, lot_ids, reference, problems, fields)
    for lot, path in lots:
        if not lot.on_hold:
            problems.add(ErrorCode.LOT_NOT_ON_HOLD, f"lot {lot.lot_number} is not on hold", path)
    problems.raise_if_any()
    return await _change_holds(
        session, [lot for lot, _ in lots], None, MovementKind.RELEASE_HOLD, reference, actor
    )


async def _lock_lots(
    session: AsyncSession,
    lot_ids: Sequence[int],
    reference: str | None,
    problems: Problems,
    fields: Sequence[str] | None,
) -> list[tuple[Lot, str]]:
    """The named lots (each once, in the order first named) with the input path of each,
    locked; problems added for a bad reference, no lots and unknown lots."""
    if reference is not None:
        clean_code(
            reference, problems, "reference", what="recall reference", max_length=REFERENCE_MAX
        )
    paths = list(fields) if fields is not None else [f"lotIds.{i}" for i in range(len(lot_ids))]
    assert len(paths) == len(lot_ids)
    if not lot_ids:
        problems.add(ErrorCode.INVALID_VALUE, "name at least one lot", "lotIds")
        return []
    first_named: dict[int, str] = {}
    for lot_id, path in zip(lot_ids, paths, strict=True):
        first_named.setdefault(lot_id, path)
    # The products first, in id order, as allocation locks them: a hold and an allocation
    # of one product never interleave, so no allocation takes a lot after its hold.
    products = await session.scalars(
        select(Lot.product_id).where(Lot.id.in_(first_named)).distinct()
    )
    await lock_products(session, products)
    found = {
        lot.id: lot
        for lot in await session.scalars(
            # NO KEY UPDATE: movements naming these lots still pass their key checks
            select(Lot)
            .where(Lot.id.in_(first_named))
            .order_by(Lot.id)
            .with_for_update(key_share=True)
        )
    }
    lots = []
    for lot_id, path in first_named.items():
        if lot_id in found:
            lots.append((found[lot_id], path))
        else:
            problems.add(ErrorCode.NOT_FOUND, "no such lot", path)
    return lots


async def _change_holds(
    session: AsyncSession,
    lots: list[Lot],
    reason: str | None,
    kind: MovementKind,
    reference: str | None,
    actor: str,
) -> list[Lot]:
    on_hand = dict(
        (
            await session.execute(
                select(StockBalance.lot_id, func.sum(StockBalance.quantity))
                .where(StockBalance.lot_id.in_([lot.id for lot in lots]))
                .group_by(StockBalance.lot_id)
            )
        ).all()
    )
    clean_reference = reference.strip() if reference is not None else None
    documents = [hold_document(lot, clean_reference) for lot in lots]
    records = []
    for lot, document in zip(lots, documents, strict=True):
        lot.on_hold = kind is MovementKind.HOLD
        lot.hold_reason = reason
        records.append(
            MovementRecord(
                kind,
                lot.product_id,
                # What was on hand when held or released; the movement table needs a
                # positive quantity, so a lot with nothing left is recorded as 1.
                int(on_hand.get(lot.id) or 0) or 1,
                lot_id=lot.id,
                document=document,
            )
        )
    # Each row names its own document (all the same one when a reference was given).
    await record_movements(session, records, documents[0], actor)
    await session.flush()
    return lots


# ---------------------------------------------------------------- the recall report


@dataclass(frozen=True)
class RecallStock:
    """What is left of a lot at one location."""

    warehouse_id: int
    warehouse_code: str
    location_id: int
    location_code: str
    location_kind: LocationKind
    quantity: int
    allocated_quantity: int  # reserved by orders, still here (in storage or packed)


@dataclass(frozen=True)
class RecallShipment:
    shipment_id: int
    carrier: str | None
    tracking_number: str | None
    status: ShipmentStatus
    dispatched_at: datetime | None
    quantity: int  # of the lot in this shipment


@dataclass(frozen=True)
class RecallOrder:
    """One order that took (some of) the lot: reserved it, picked it, or shipped it."""

    order_id: int
    order_number: str
    customer_reference: str | None
    status: OutboundOrderStatus
    warehouse_id: int
    warehouse_code: str
    ordered_at: datetime
    allocated_at: datetime  # the first allocation of the lot to the order
    allocated_quantity: int  # reserved, including what was since picked and shipped
    picked_quantity: int  # including what was since shipped
    shipped_quantity: int
    shipments: tuple[RecallShipment, ...]


@dataclass(frozen=True)
class LotRecall:
    lot_id: int
    lot_number: str
    product_id: int
    sku: str
    product_name: str
    expiry_date: date | None
    received_at: datetime
    on_hold: bool
    hold_reason: str | None
    stock: tuple[RecallStock, ...]
    orders: tuple[RecallOrder, ...]

    @property
    def on_hand(self) -> int:
        return sum(s.quantity for s in self.stock)

    @property
    def allocated_quantity(self) -> int:
        return sum(s.allocated_quantity for s in self.stock)

    @property
    def shipped_quantity(self) -> int:
        return sum(o.shipped_quantity for o in self.orders)


async def recall_report(session: AsyncSession, lot_ids: Sequence[int]) -> list[LotRecall]:
    """For each lot (in the order given, unknown ids left out): the lot, where what is left
    of it is, and the orders that took it with their shipments. Three statements, however
    many lots."""
    ids = list(dict.fromkeys(lot_ids))
    if not ids:
        return []
    lots = {
        lot.id: (lot, product)
        for lot, product in await session.execute(
            select(Lot, Product).join(Product, Product.id == Lot.product_id).where(Lot.id.in_(ids))
        )
    }
    stock = await _stock_by_lot(session, ids)
    orders = await _orders_by_lot(session, ids)
    return [
        LotRecall(
            lot.id,
            lot.lot_number,
            product.id,
            product.sku,
            product.name,
            lot.expiry_date,
            lot.received_at,
            lot.on_hold,
            lot.hold_reason,
            tuple(stock.get(lot.id, ())),
            tuple(orders.get(lot.id, ())),
        )
        for lot, product in (lots[i] for i in ids if i in lots)
    ]


async def _stock_by_lot(session: AsyncSession, ids: list[int]) -> dict[int, list[RecallStock]]:
    keys = (
        StockBalance.lot_id,
        Warehouse.id,
        Warehouse.code,
        Location.id,
        Location.code,
        Location.kind,
    )
    query = (
        select(*keys, func.sum(StockBalance.quantity), func.sum(StockBalance.allocated_quantity))
        .join(Location, Location.id == StockBalance.location_id)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        # Emptied balances stay behind as rows: not on hand.
        .where(StockBalance.lot_id.in_(ids), StockBalance.quantity > 0)
        .group_by(*keys)
        .order_by(StockBalance.lot_id, Warehouse.code, Location.code)
    )
    found: dict[int, list[RecallStock]] = {}
    for lot_id, wid, wcode, lid, lcode, kind, quantity, allocated in await session.execute(query):
        assert lot_id is not None  # by the query
        found.setdefault(lot_id, []).append(
            RecallStock(wid, wcode, lid, lcode, kind, int(quantity), int(allocated))
        )
    return found


@dataclass
class _Taking:
    """One order's allocations of one lot, summed while they are read."""

    order_id: int
    order_number: str
    customer_reference: str | None
    status: OutboundOrderStatus
    warehouse_id: int
    warehouse_code: str
    ordered_at: datetime
    allocated_at: datetime
    allocated: int = 0
    picked: int = 0
    shipped: int = 0
    shipments: dict[int, RecallShipment] = field(default_factory=dict)

    def add(self, status: AllocationStatus, quantity: int, picked: int) -> None:
        # A picked allocation keeps the quantity it first reserved, but a short pick
        # released the rest: what the order holds of it is what was picked.
        self.allocated += quantity if status is AllocationStatus.ALLOCATED else picked
        if status is not AllocationStatus.ALLOCATED:
            self.picked += picked
        if status is AllocationStatus.SHIPPED:
            self.shipped += picked

    def result(self) -> RecallOrder:
        return RecallOrder(
            self.order_id,
            self.order_number,
            self.customer_reference,
            self.status,
            self.warehouse_id,
            self.warehouse_code,
            self.ordered_at,
            self.allocated_at,
            self.allocated,
            self.picked,
            self.shipped,
            tuple(self.shipments.values()),
        )


async def _orders_by_lot(session: AsyncSession, ids: list[int]) -> dict[int, list[RecallOrder]]:
    query = (
        select(
            Allocation.lot_id,
            Allocation.status,
            Allocation.quantity,
            Allocation.picked_quantity,
            Allocation.created_at,
            OutboundOrder.id,
            OutboundOrder.number,
            OutboundOrder.customer_reference,
            OutboundOrder.status,
            Warehouse.id,
            Warehouse.code,
            OutboundOrder.created_at,
            Shipment.id,
            Shipment.carrier,
            Shipment.tracking_number,
            Shipment.status,
            Shipment.dispatched_at,
        )
        .join(OutboundOrder, OutboundOrder.id == Allocation.order_id)
        .join(Warehouse, Warehouse.id == OutboundOrder.warehouse_id)
        .outerjoin(Shipment, Shipment.id == Allocation.shipment_id)
        .where(Allocation.lot_id.in_(ids), Allocation.status.in_(TAKEN))
        .order_by(Allocation.lot_id, OutboundOrder.created_at, OutboundOrder.id, Allocation.id)
    )
    takings: dict[int, dict[int, _Taking]] = {}
    for (
        lot_id,
        status,
        quantity,
        picked,
        allocated_at,
        order_id,
        number,
        customer_reference,
        order_status,
        warehouse_id,
        warehouse_code,
        ordered_at,
        shipment_id,
        carrier,
        tracking,
        shipment_status,
        dispatched_at,
    ) in await session.execute(query):
        assert lot_id is not None  # by the query
        by_order = takings.setdefault(lot_id, {})
        taking = by_order.get(order_id)
        if taking is None:
            taking = by_order[order_id] = _Taking(
                order_id,
                number,
                customer_reference,
                order_status,
                warehouse_id,
                warehouse_code,
                ordered_at,
                allocated_at,
            )
        taking.allocated_at = min(taking.allocated_at, allocated_at)
        taking.add(status, quantity, picked)
        if shipment_id is not None:
            # outer-joined on the shipment's id: its row exists
            assert shipment_status is not None
            before = taking.shipments.get(shipment_id)
            taking.shipments[shipment_id] = RecallShipment(
                shipment_id,
                carrier,
                tracking,
                shipment_status,
                dispatched_at,
                (before.quantity if before else 0) + picked,
            )
    return {
        lot_id: [taking.result() for taking in by_order.values()]
        for lot_id, by_order in takings.items()
    }
