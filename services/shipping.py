"""Packing and dispatch: picked goods leave the warehouse, never an expired lot."""

from datetime import datetime

from sqlalchemy import Integer, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Allocation,
    AllocationStatus,
    Lot,
    MovementKind,
    OutboundLine,
    OutboundOrder,
    OutboundOrderStatus,
    SerialEvent,
    Shipment,
    ShipmentStatus,
    Warehouse,
)
from models.base import utc_now
from services.errors import ErrorCode, Problems, Refused
from services.events import note_order_status
from services.lifecycle import apply_event, lock_serials
from services.movements import MovementRecord, record_movements
from services.outbound import document_for, lock_order, warehouse_today
from services.queries import loaded
from services.stock import take_from_balance

TEXT_MAX = 100


# Built once (services/queries.py says why).
# An order's picked allocations put into a shipment: one UPDATE, which locks the rows as it
# changes them, where reading them locked and writing them back costs two and objects.
_PACK = (
    update(Allocation)
    .where(
        Allocation.order_id == bindparam("packed_order"),
        Allocation.status == AllocationStatus.PICKED,
        Allocation.shipment_id.is_(None),
    )
    .values(shipment_id=bindparam("packed_into"))
    .returning(Allocation.id)
)
# A picked order marked packed; locks it as it changes it.
_PACKED = (
    update(OutboundOrder)
    .where(
        OutboundOrder.id == bindparam("order_id"),
        OutboundOrder.status == OutboundOrderStatus.PICKED,
    )
    .values(status=OutboundOrderStatus.PACKED, updated_at=bindparam("now"))
    .returning(OutboundOrder.warehouse_id)
)
# A shipment with its order and its allocations locked, its warehouse, and the
# allocations' lots: one row per allocation, one statement where there were five.
_SHIPMENT_AND_ALLOCATIONS = (
    select(Shipment, OutboundOrder, Warehouse, Allocation, Lot)
    .join(OutboundOrder, OutboundOrder.id == Shipment.order_id)
    .join(Warehouse, Warehouse.id == OutboundOrder.warehouse_id)
    .join(Allocation, Allocation.shipment_id == Shipment.id)
    .outerjoin(Lot, Lot.id == Allocation.lot_id)
    .where(Shipment.id == bindparam("shipment_id"))
    .order_by(Allocation.id)
    .with_for_update(of=[Shipment, OutboundOrder, Allocation])
)
# A shipment without allocations (every pick of its order came up empty) is not in the
# rows above: read on its own.
_SHIPMENT = (
    select(Shipment, OutboundOrder, Warehouse)
    .join(OutboundOrder, OutboundOrder.id == Shipment.order_id)
    .join(Warehouse, Warehouse.id == OutboundOrder.warehouse_id)
    .where(Shipment.id == bindparam("shipment_id"))
    .with_for_update(of=[Shipment, OutboundOrder])
)


async def create_shipment(
    session: AsyncSession,
    *,
    order_id: int,
    carrier: str | None = None,
    tracking_number: str | None = None,
) -> Shipment:
    """Pack an order's picked goods into a shipment. Every allocation must be picked (or
    cancelled) first, so a shipment never leaves reserved goods behind on the shelf."""
    for value, name in ((carrier, "carrier"), (tracking_number, "trackingNumber")):
        if value is not None and len(value) > TEXT_MAX:
            raise Refused.one(ErrorCode.INVALID_VALUE, f"at most {TEXT_MAX} characters", name)
    await _mark_packed(session, order_id)
    shipment = Shipment(order_id=order_id, carrier=carrier, tracking_number=tracking_number)
    session.add(shipment)
    await session.flush()
    # After the flush above nothing in the session is left unwritten: the objects it holds
    # of these rows only need the new value.
    connection = await session.connection()
    values = {"packed_order": order_id, "packed_into": shipment.id}
    for allocation_id in (await connection.execute(_PACK, values)).scalars():
        held = loaded(session, Allocation, allocation_id)
        if held is not None:
            set_committed_value(held, "shipment_id", shipment.id)
    return shipment


async def _mark_packed(session: AsyncSession, order_id: int) -> None:
    """Mark a picked order packed, locking it, in one statement; refuse any other order
    (unchanged) with what it is, read only then."""
    await session.flush()  # nothing unwritten is overtaken by the statement
    now = utc_now()
    connection = await session.connection()
    row = (await connection.execute(_PACKED, {"order_id": order_id, "now": now})).first()
    if row is None:
        order = await lock_order(session, order_id)  # refuses an order that is not there
        raise Refused.one(
            ErrorCode.ORDER_NOT_PICKED,
            f"order {order.number} is {order.status}: pick everything first",
            "orderId",
        )
    held = loaded(session, OutboundOrder, order_id)
    if held is not None:
        set_committed_value(held, "status", OutboundOrderStatus.PACKED)
        set_committed_value(held, "updated_at", now)
    picked, packed = OutboundOrderStatus.PICKED, OutboundOrderStatus.PACKED
    note_order_status(session, order_id, row.warehouse_id, picked, packed)


async def dispatch_shipment(
    session: AsyncSession, *, shipment_id: int, actor: str, now: datetime | None = None
) -> Shipment:
    """Hand the shipment to the carrier: serials PICKED → SHIPPED, quantities leave stock.
    Refused whole if any lot in it has expired since it was allocated."""
    now = now or utc_now()
    key = {"shipment_id": shipment_id}
    shipped = (await session.execute(_SHIPMENT_AND_ALLOCATIONS, key)).all()
    found = shipped[0][:3] if shipped else (await session.execute(_SHIPMENT, key)).first()
    if found is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such shipment", "shipmentId")
    shipment, order, warehouse = found
    if shipment.status is not ShipmentStatus.PACKED:
        raise Refused.one(
            ErrorCode.SHIPMENT_NOT_PACKED,
            f"shipment {shipment.id} is already {shipment.status}",
            "shipmentId",
        )
    allocations = [allocation for *_, allocation, _lot in shipped]
    lots = {lot.id: lot for *_, lot in shipped if lot is not None}
    today = warehouse_today(warehouse, now)
    problems = Problems()
    for _id, lot in sorted(lots.items()):
        if lot.expiry_date is not None and lot.expiry_date < today:
            problems.add(
                ErrorCode.LOT_EXPIRED,
                f"lot {lot.lot_number} expired on {lot.expiry_date}: it must not ship",
                "shipmentId",
            )
    problems.raise_if_any()

    document = document_for(order)
    serials = await lock_serials(session, [a.serial_id for a in allocations if a.serial_id])
    records = []
    for allocation in allocations:
        picked = allocation.picked_quantity
        if allocation.stock_balance_id is not None:
            location_id = await take_from_balance(
                session, allocation.stock_balance_id, quantity=picked, reserved=picked
            )
            records.append(
                MovementRecord(
                    MovementKind.SHIP,
                    allocation.product_id,
                    picked,
                    lot_id=allocation.lot_id,
                    from_location_id=location_id,
                    shipment_id=shipment.id,
                )
            )
        await _add_shipped(session, allocation.line_id, picked)
        allocation.status = AllocationStatus.SHIPPED
    await apply_event(
        session,
        serials,
        SerialEvent.SHIP,
        document=document,
        actor=actor,
        to_location_id=None,
        shipment_id=shipment.id,
    )
    await record_movements(session, records, document, actor)
    shipment.status = ShipmentStatus.DISPATCHED
    shipment.dispatched_at = now
    order.status = OutboundOrderStatus.SHIPPED
    order.updated_at = now
    await session.flush()
    return shipment


_SHIPPED_MORE = (
    update(OutboundLine)
    .where(OutboundLine.id == bindparam("line_id"))
    .values(shipped_quantity=OutboundLine.shipped_quantity + bindparam("shipped", type_=Integer))
)


async def _add_shipped(session: AsyncSession, line_id: int, quantity: int) -> None:
    """Count `quantity` more shipped on an order line: one statement (see
    `take_from_balance`), or through the line's object when the session holds it."""
    line = loaded(session, OutboundLine, line_id)
    if line is not None:
        line.shipped_quantity += quantity
        return
    connection = await session.connection()
    await connection.execute(_SHIPPED_MORE, {"line_id": line_id, "shipped": quantity})
