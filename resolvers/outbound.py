"""Outbound use cases as the API offers them: ids or natural keys in, rows out."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from models import (
    Allocation,
    Location,
    OutboundLine,
    OutboundOrder,
    PickTask,
    Shipment,
)
from resolvers.context import Context
from resolvers.ids import decode
from resolvers.keys import product_ids_for, warehouse_id_for
from resolvers.outcome import Refusal, attempt
from services import outbound, picking, shipping
from services.errors import ErrorCode, Problems, Refused
from services.picking import PickConfirmation
from services.queries import key_values


@dataclass(frozen=True)
class OrderLineArgs:
    product_id: relay.GlobalID | None
    product_sku: str | None
    quantity: int


@dataclass(frozen=True)
class SerialChoiceArgs:
    line_number: int
    serial_numbers: list[str]


async def create_order(
    ctx: Context,
    *,
    number: str,
    warehouse_gid: relay.GlobalID | None,
    warehouse_code: str | None,
    customer_reference: str | None,
    lines: list[OrderLineArgs],
) -> OutboundOrder | Refusal:
    async def use_case(session: AsyncSession) -> OutboundOrder:
        ids = await product_ids_for(
            session, [(line.product_id, line.product_sku) for line in lines]
        )
        return await outbound.create_order(
            session,
            number=number,
            warehouse_id=await warehouse_id_for(session, warehouse_gid, warehouse_code),
            customer_reference=customer_reference,
            lines=[
                outbound.OrderLineSpec(pid, line.quantity)
                for pid, line in zip(ids, lines, strict=True)
            ],
        )

    return await attempt(ctx, use_case)


async def order_id(session: AsyncSession, gid: relay.GlobalID | None, number: str | None) -> int:
    if gid is not None:
        return decode(gid, "Order", "orderId")
    found = await session.scalar(
        select(OutboundOrder.id).where(OutboundOrder.number == (number or "").strip())
    )
    if found is None:
        raise Refused.one(ErrorCode.NOT_FOUND, f"no order {number!r}", "orderNumber")
    return found


async def allocate_order(
    ctx: Context,
    *,
    order_gid: relay.GlobalID | None,
    order_number: str | None,
    serials: list[SerialChoiceArgs],
) -> OutboundOrder | Refusal:
    async def use_case(session: AsyncSession) -> OutboundOrder:
        oid = await order_id(session, order_gid, order_number)
        lines = await key_values(
            session,
            select(OutboundLine.line_number, OutboundLine.id).where(OutboundLine.order_id == oid),
        )
        problems = Problems()
        by_line: dict[int, list[str]] = {}
        for i, choice in enumerate(serials):
            if choice.line_number not in lines:
                problems.add(
                    ErrorCode.NOT_FOUND,
                    f"the order has no line {choice.line_number}",
                    f"serials.{i}.lineNumber",
                )
            else:
                by_line[lines[choice.line_number]] = choice.serial_numbers
        problems.raise_if_any()
        await outbound.allocate_order(
            session, order_id=oid, actor=ctx.actor, serials_by_line=by_line
        )
        order = await session.get(OutboundOrder, oid)
        assert order is not None
        return order

    return await attempt(ctx, use_case)


async def cancel_order(
    ctx: Context, *, order_gid: relay.GlobalID | None, order_number: str | None
) -> OutboundOrder | Refusal:
    async def use_case(session: AsyncSession) -> OutboundOrder:
        oid = await order_id(session, order_gid, order_number)
        return await outbound.cancel_order(session, order_id=oid, actor=ctx.actor)

    return await attempt(ctx, use_case)


async def cancel_allocation(ctx: Context, allocation_gid: relay.GlobalID) -> Allocation | Refusal:
    async def use_case(session: AsyncSession) -> Allocation:
        return await outbound.cancel_allocation(
            session,
            allocation_id=decode(allocation_gid, "Allocation", "allocationId"),
            actor=ctx.actor,
        )

    return await attempt(ctx, use_case)


async def confirm_pick(
    ctx: Context, *, task_gid: relay.GlobalID, scan: PickConfirmation
) -> PickTask | Refusal:
    async def use_case(session: AsyncSession) -> PickTask:
        return await picking.confirm_pick(
            session, task_id=decode(task_gid, "PickTask", "taskId"), scan=scan, actor=ctx.actor
        )

    return await attempt(ctx, use_case)


async def return_to_stock(
    ctx: Context,
    *,
    allocation_gid: relay.GlobalID,
    location_gid: relay.GlobalID | None,
    location_code: str | None,
) -> Allocation | Refusal:
    async def use_case(session: AsyncSession) -> Allocation:
        aid = decode(allocation_gid, "Allocation", "allocationId")
        if location_gid is not None:
            lid = decode(location_gid, "Location", "locationId")
        else:
            warehouse = (
                select(OutboundOrder.warehouse_id)
                .join(Allocation, Allocation.order_id == OutboundOrder.id)
                .where(Allocation.id == aid)
                .scalar_subquery()
            )
            found = await session.scalar(
                select(Location.id).where(
                    Location.warehouse_id == warehouse,
                    Location.code == (location_code or "").strip(),
                )
            )
            if found is None:
                raise Refused.one(
                    ErrorCode.NOT_FOUND,
                    f"no location {location_code!r} in this warehouse",
                    "locationCode",
                )
            lid = found
        return await picking.return_to_stock(
            session, allocation_id=aid, location_id=lid, actor=ctx.actor
        )

    return await attempt(ctx, use_case)


async def create_shipment(
    ctx: Context,
    *,
    order_gid: relay.GlobalID | None,
    order_number: str | None,
    carrier: str | None,
    tracking_number: str | None,
) -> Shipment | Refusal:
    async def use_case(session: AsyncSession) -> Shipment:
        oid = await order_id(session, order_gid, order_number)
        return await shipping.create_shipment(
            session, order_id=oid, carrier=carrier, tracking_number=tracking_number
        )

    return await attempt(ctx, use_case)


async def dispatch_shipment(ctx: Context, shipment_gid: relay.GlobalID) -> Shipment | Refusal:
    async def use_case(session: AsyncSession) -> Shipment:
        return await shipping.dispatch_shipment(
            session, shipment_id=decode(shipment_gid, "Shipment", "shipmentId"), actor=ctx.actor
        )

    return await attempt(ctx, use_case)


async def order_by_number(ctx: Context, number: str) -> OutboundOrder | None:
    async with ctx.read() as session:
        return await session.scalar(
            select(OutboundOrder).where(OutboundOrder.number == number.strip())
        )


async def pick_list(ctx: Context, order_gid: relay.GlobalID) -> list[PickTask]:
    async with ctx.read() as session:
        return list(
            await session.scalars(
                select(PickTask)
                .where(PickTask.order_id == decode(order_gid, "Order", "orderId"))
                .order_by(PickTask.id)
            )
        )
