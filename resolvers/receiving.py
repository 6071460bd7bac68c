"""Receiving and putaway as the API offers them: global ids and natural keys in."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from models import Location, PutawayTask, ReceivingLine, ReceivingOrder
from resolvers.context import Context
from resolvers.ids import decode
from resolvers.keys import product_ids_for, warehouse_id_for
from resolvers.outcome import Refusal, attempt
from services import putaway, receiving
from services.errors import ErrorCode, Problems, Refused
from services.queries import key_values
from services.receiving import LotEntry, ReceiptResult


@dataclass(frozen=True)
class PlannedLineArgs:
    product_id: relay.GlobalID | None
    product_sku: str | None
    expected_quantity: int
    expected_serial_numbers: list[str]


@dataclass(frozen=True)
class LineReceiptArgs:
    line_id: relay.GlobalID | None
    line_number: int | None
    quantity: int | None
    serial_numbers: list[str]
    lots: list[LotEntry]


@dataclass(frozen=True)
class PlacementArgs:
    location_id: relay.GlobalID | None
    location_code: str | None
    quantity: int
    serial_numbers: list[str] = field(default_factory=list)


async def plan_receiving_order(
    ctx: Context,
    *,
    number: str,
    warehouse_id: relay.GlobalID | None,
    warehouse_code: str | None,
    supplier: str | None,
    lines: list[PlannedLineArgs],
) -> ReceivingOrder | Refusal:
    async def use_case(session: AsyncSession) -> ReceivingOrder:
        product_ids = await product_ids_for(
            session, [(line.product_id, line.product_sku) for line in lines]
        )
        return await receiving.plan_receiving_order(
            session,
            number=number,
            warehouse_id=await warehouse_id_for(session, warehouse_id, warehouse_code),
            supplier=supplier,
            lines=[
                receiving.PlannedLine(pid, line.expected_quantity, line.expected_serial_numbers)
                for pid, line in zip(product_ids, lines, strict=True)
            ],
            actor=ctx.actor,
        )

    return await attempt(ctx, use_case)


async def _order_id(
    session: AsyncSession, order_id: relay.GlobalID | None, order_number: str | None
) -> int:
    if order_id is not None:
        return decode(order_id, "ReceivingOrder", "orderId")
    found = await session.scalar(
        select(ReceivingOrder.id).where(ReceivingOrder.number == (order_number or "").strip())
    )
    if found is None:
        raise Refused.one(
            ErrorCode.NOT_FOUND, f"no receiving order {order_number!r}", "orderNumber"
        )
    return found


async def _line_ids(
    session: AsyncSession, order_id: int, lines: list[LineReceiptArgs]
) -> list[int]:
    """Each receipt line names its ASN line by id or by line number."""
    by_number = await key_values(
        session,
        select(ReceivingLine.line_number, ReceivingLine.id).where(
            ReceivingLine.order_id == order_id
        ),
    )
    problems = Problems()
    ids = []
    for i, line in enumerate(lines):
        if line.line_id is not None:
            try:
                ids.append(decode(line.line_id, "ReceivingLine", f"lines.{i}.lineId"))
            except Refused as refused:
                problems.items += refused.problems
        elif line.line_number in by_number:
            ids.append(by_number[line.line_number])
        else:
            problems.add(
                ErrorCode.NOT_FOUND,
                f"the order has no line {line.line_number}: give lineId or an existing lineNumber",
                f"lines.{i}.lineNumber",
            )
    problems.raise_if_any()
    return ids


async def receive_items(
    ctx: Context,
    *,
    order_id: relay.GlobalID | None,
    order_number: str | None,
    lines: list[LineReceiptArgs],
) -> ReceiptResult | Refusal:
    async def use_case(session: AsyncSession) -> ReceiptResult:
        oid = await _order_id(session, order_id, order_number)
        line_ids = await _line_ids(session, oid, lines)
        return await receiving.receive(
            session,
            order_id=oid,
            lines=[
                receiving.LineReceipt(
                    line_id=line_id,
                    quantity=line.quantity,
                    serial_numbers=line.serial_numbers,
                    lots=line.lots,
                )
                for line_id, line in zip(line_ids, lines, strict=True)
            ],
            actor=ctx.actor,
        )

    return await attempt(ctx, use_case)


async def cancel_receiving_order(
    ctx: Context, order_id: relay.GlobalID | None, order_number: str | None
) -> ReceivingOrder | Refusal:
    async def use_case(session: AsyncSession) -> ReceivingOrder:
        return await receiving.cancel_receiving_order(
            session, order_id=await _order_id(session, order_id, order_number), actor=ctx.actor
        )

    return await attempt(ctx, use_case)


async def close_receiving_order(
    ctx: Context, order_id: relay.GlobalID | None, order_number: str | None
) -> ReceivingOrder | Refusal:
    async def use_case(session: AsyncSession) -> ReceivingOrder:
        return await receiving.close_receiving_order(
            session, order_id=await _order_id(session, order_id, order_number), actor=ctx.actor
        )

    return await attempt(ctx, use_case)


async def _location_ids(
    session: AsyncSession, task_id: int, placements: list[PlacementArgs]
) -> list[int]:
    """Each placement names its location by id or by code (what a bin label shows)."""
    codes = {p.location_code.strip() for p in placements if p.location_code}
    by_code = await key_values(
        session,
        select(Location.code, Location.id)
        .join(PutawayTask, PutawayTask.warehouse_id == Location.warehouse_id)
        .where(PutawayTask.id == task_id, Location.code.in_(codes)),
    )
    problems = Problems()
    ids = []
    for i, p in enumerate(placements):
        if p.location_id is not None:
            try:
                ids.append(decode(p.location_id, "Location", f"placements.{i}.locationId"))
            except Refused as refused:
                problems.items += refused.problems
        elif p.location_code and p.location_code.strip() in by_code:
            ids.append(by_code[p.location_code.strip()])
        else:
            problems.add(
                ErrorCode.NOT_FOUND,
                f"no location {p.location_code!r} in this warehouse",
                f"placements.{i}.locationCode",
            )
    problems.raise_if_any()
    return ids


async def complete_putaway(
    ctx: Context, *, task_id: relay.GlobalID, placements: list[PlacementArgs]
) -> PutawayTask | Refusal:
    async def use_case(session: AsyncSession) -> PutawayTask:
        tid = decode(task_id, "PutawayTask", "taskId")
        location_ids = await _location_ids(session, tid, placements)
        return await putaway.complete_putaway(
            session,
            task_id=tid,
            placements=[
                putaway.Placement(location_id, p.quantity, p.serial_numbers)
                for location_id, p in zip(location_ids, placements, strict=True)
            ],
            actor=ctx.actor,
        )

    return await attempt(ctx, use_case)


async def receiving_order_by_number(ctx: Context, number: str) -> ReceivingOrder | None:
    async with ctx.read() as session:
        return await session.scalar(
            select(ReceivingOrder).where(ReceivingOrder.number == number.strip())
        )
