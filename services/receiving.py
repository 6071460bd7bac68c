"""Inbound: plan a receiving order (ASN), receive any of its lines in one all-or-nothing
call, cancel or close it.

Receiving validates the whole request first and writes only when nothing is wrong, inside
the caller's transaction, so a refused receipt leaves no serial, lot, stock or movement.
"""

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Location,
    LocationKind,
    Lot,
    MovementKind,
    Product,
    PutawayTask,
    ReceivingLine,
    ReceivingLineStatus,
    ReceivingOrder,
    ReceivingOrderStatus,
    Serial,
    SerialEvent,
    SerialStatus,
    Tracking,
    Warehouse,
)
from models.base import utc_now
from services.errors import ErrorCode, Problem, Problems, Refused
from services.identifiers import clean_code, clean_number, lot_key
from services.lifecycle import apply_event, create_serials, lock_serials
from services.movements import Document, MovementRecord, record_movements
from services.queries import locked
from services.scanning import Label, gtin_owners, label_problems, read_label, scanned_serials
from services.stock import add_stock

ORDER_NUMBER_MAX = 64
OPEN_ORDER = (ReceivingOrderStatus.PLANNED, ReceivingOrderStatus.RECEIVING)
OPEN_LINE = (ReceivingLineStatus.PLANNED, ReceivingLineStatus.RECEIVING)


def document_for(order: ReceivingOrder) -> Document:
    return Document("RECEIVING_ORDER", order.number)


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class PlannedLine:
    product_id: int
    expected_quantity: int
    expected_serial_numbers: list[str] = field(default_factory=list)


async def plan_receiving_order(
    session: AsyncSession,
    *,
    number: str,
    warehouse_id: int,
    lines: list[PlannedLine],
    actor: str,
    supplier: str | None = None,
) -> ReceivingOrder:
    """Create an ASN. Expected serial numbers become EXPECTED serials at once."""
    problems = Problems()
    clean = clean_code(number, problems, "number", what="order number", max_length=ORDER_NUMBER_MAX)
    if clean and await session.scalar(
        select(ReceivingOrder.id).where(ReceivingOrder.number == clean)
    ):
        problems.add(ErrorCode.DUPLICATE_ORDER_NUMBER, f"receiving order {clean} exists", "number")
    if await session.get(Warehouse, warehouse_id) is None:
        problems.add(ErrorCode.NOT_FOUND, "no such warehouse", "warehouseId")
    if not lines:
        problems.add(ErrorCode.INVALID_VALUE, "a receiving order needs at least one line", "lines")
    products = await _products(session, {line.product_id for line in lines})
    expected: list[tuple[int, list[str]]] = []  # (line index, clean numbers)
    for i, line in enumerate(lines):
        at = f"lines.{i}"
        product = products.get(line.product_id)
        if product is None:
            problems.add(ErrorCode.NOT_FOUND, "no such product", f"{at}.productId")
        if line.expected_quantity <= 0:
            problems.add(
                ErrorCode.QUANTITY_NOT_POSITIVE,
                "the expected quantity must be positive",
                f"{at}.expectedQuantity",
            )
        if not line.expected_serial_numbers or product is None:
            continue
        if product.tracking is not Tracking.SERIAL:
            problems.add(
                ErrorCode.SERIALS_NOT_ALLOWED,
                f"{product.sku} is not serial-tracked",
                f"{at}.expectedSerialNumbers",
            )
            continue
        if len(line.expected_serial_numbers) != line.expected_quantity:
            problems.add(
                ErrorCode.SERIAL_COUNT_MISMATCH,
                f"{len(line.expected_serial_numbers)} serials listed for an expected quantity "
                f"of {line.expected_quantity}",
                f"{at}.expectedSerialNumbers",
            )
        numbers = _clean_serials(
            line.expected_serial_numbers, problems, f"{at}.expectedSerialNumbers"
        )
        expected.append((i, numbers))
    _refuse_duplicates_across_lines(
        [(lines[i].product_id, i, numbers) for i, numbers in expected],
        problems,
        "expectedSerialNumbers",
    )
    for i, numbers in expected:
        existing = await _existing_serials(session, lines[i].product_id, numbers)
        for number in numbers:
            if number in existing:
                problems.add(
                    ErrorCode.SERIAL_ALREADY_EXISTS,
                    f"serial {number} of {products[lines[i].product_id].sku} already exists "
                    f"({existing[number].status}); serial numbers are never reused",
                    f"lines.{i}.expectedSerialNumbers",
                )
    problems.raise_if_any()

    assert clean
    order = ReceivingOrder(number=clean, warehouse_id=warehouse_id, supplier=supplier)
    session.add(order)
    await session.flush()
    created = [
        ReceivingLine(
            order_id=order.id,
            line_number=i + 1,
            product_id=line.product_id,
            expected_quantity=line.expected_quantity,
        )
        for i, line in enumerate(lines)
    ]
    session.add_all(created)
    await session.flush()
    for i, numbers in expected:
        await create_serials(
            session,
            product_id=lines[i].product_id,
            numbers=numbers,
            status=SerialStatus.EXPECTED,
            warehouse_id=warehouse_id,
            location_id=None,
            receiving_line_id=created[i].id,
            document=document_for(order),
            actor=actor,
        )
    return order


# ---------------------------------------------------------------- receiving


@dataclass(frozen=True)
class LotEntry:
    lot_number: str
    quantity: int
    expiry_date: date | None = None


@dataclass(frozen=True)
class LineReceipt:
    line_id: int
    quantity: int | None = None
    serial_numbers: list[str] = field(default_factory=list)
    lots: list[LotEntry] = field(default_factory=list)


@dataclass
class ReceiptResult:
    order: ReceivingOrder
    putaway_tasks: list[PutawayTask]
    serials: list[Serial]
    lots: list[Lot]


@dataclass
class _PlannedLot:
    entry: LotEntry
    number: str
    key: str
    existing: Lot | None


@dataclass(frozen=True)
class _LotInput:
    """One lot entry as read: the number typed or scanned, and the expiry typed or, when
    none was, read off the label."""

    where: str  # lines.0.lots.1
    entry: LotEntry  # with the label's expiry when none was typed
    number: str | None  # None when the entry was refused
    expiry_scanned: bool = False

    @property
    def expiry_field(self) -> str:
        # An expiry read off a label is wrong because of the scan, so the scan is named.
        return f"{self.where}.lotNumber" if self.expiry_scanned else f"{self.where}.expiryDate"


@dataclass
class _PlannedLine:
    """A receipt line that passed validation: everything the write phase needs."""

    line: ReceivingLine
    product: Product
    quantity: int
    new_serials: list[str] = field(default_factory=list)
    expected_serials: list[Serial] = field(default_factory=list)
    lots: list[_PlannedLot] = field(default_factory=list)


async def receive(
    session: AsyncSession,
    *,
    order_id: int,
    lines: list[LineReceipt],
    actor: str,
    now: datetime | None = None,
) -> ReceiptResult:
    now = now or utc_now()
    order = await locked(session, ReceivingOrder, order_id)
    if order is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such receiving order", "orderId")
    if order.status not in OPEN_ORDER:
        raise Refused.one(
            ErrorCode.ORDER_NOT_OPEN, f"receiving order {order.number} is {order.status}", "orderId"
        )
    if not lines:
        raise Refused.one(ErrorCode.NOTHING_TO_RECEIVE, "no lines to receive", "lines")
    warehouse = await session.get(Warehouse, order.warehouse_id)
    assert warehouse is not None
    dock = await session.scalar(
        select(Location)
        .where(Location.warehouse_id == warehouse.id, Location.kind == LocationKind.RECEIVING)
        .order_by(Location.id)
        .limit(1)
    )
    if dock is None:
        raise Refused.one(
            ErrorCode.NO_RECEIVING_LOCATION,
            f"warehouse {warehouse.code} has no receiving location",
            "orderId",
        )

    today = now.astimezone(ZoneInfo(warehouse.time_zone)).date()
    plans = await _validate_receipt(session, order, lines, today)
    return await _write_receipt(session, order, dock, plans, actor, now)


async def _validate_receipt(
    session: AsyncSession, order: ReceivingOrder, lines: list[LineReceipt], today: date
) -> list[_PlannedLine]:
    problems = Problems()
    order_lines = {
        line.id: line
        for line in await session.scalars(
            select(ReceivingLine).where(ReceivingLine.order_id == order.id).with_for_update()
        )
    }
    products = await _products(session, {line.product_id for line in order_lines.values()})
    seen_lines = Counter(receipt.line_id for receipt in lines)
    plans: list[_PlannedLine] = []
    indexes: list[int] = []  # each plan's index in the request, for problem fields
    for i, receipt in enumerate(lines):
        at = f"lines.{i}"
        line = order_lines.get(receipt.line_id)
        if line is None:
            problems.add(
                ErrorCode.NOT_FOUND, f"line is not on order {order.number}", f"{at}.lineId"
            )
            continue
        if seen_lines[receipt.line_id] > 1:
            problems.add(
                ErrorCode.DUPLICATE_LINE,
                f"line {line.line_number} appears more than once",
                f"{at}.lineId",
            )
            continue
        if line.status not in OPEN_LINE:
            problems.add(
                ErrorCode.LINE_NOT_OPEN, f"line {line.line_number} is {line.status}", f"{at}.lineId"
            )
            continue
        product = products[line.product_id]
        plan = await _validate_line(session, receipt, line, product, today, problems, at)
        if plan is not None:
            plans.append(plan)
            indexes.append(i)
    _refuse_duplicates_across_lines(
        [
            (p.product.id, i, p.new_serials + [s.serial_number for s in p.expected_serials])
            for i, p in zip(indexes, plans, strict=True)
        ],
        problems,
        "serialNumbers",
    )
    _refuse_lot_expiry_disagreements(plans, problems)
    problems.raise_if_any()
    return plans


async def _validate_line(
    session: AsyncSession,
    receipt: LineReceipt,
    line: ReceivingLine,
    product: Product,
    today: date,
    problems: Problems,
    at: str,
) -> _PlannedLine | None:
    remaining = line.expected_quantity - line.received_quantity
    before = len(problems.items)
    if receipt.serial_numbers and product.tracking is not Tracking.SERIAL:
        problems.add(
            ErrorCode.SERIALS_NOT_ALLOWED,
            f"{product.sku} is not serial-tracked",
            f"{at}.serialNumbers",
        )
    if receipt.lots and product.tracking is not Tracking.LOT:
        problems.add(ErrorCode.LOTS_NOT_ALLOWED, f"{product.sku} is not lot-tracked", f"{at}.lots")
    if receipt.quantity is not None and receipt.quantity <= 0:
        problems.add(
            ErrorCode.QUANTITY_NOT_POSITIVE, "the quantity must be positive", f"{at}.quantity"
        )
    if len(problems.items) > before:
        return None

    if product.tracking is Tracking.SERIAL:
        return await _validate_serial_line(session, receipt, line, product, remaining, problems, at)
    if product.tracking is Tracking.LOT:
        return await _validate_lot_line(
            session, receipt, line, product, remaining, today, problems, at
        )
    if receipt.quantity is None:
        problems.add(
            ErrorCode.QUANTITY_NOT_POSITIVE, "give the quantity received", f"{at}.quantity"
        )
        return None
    if receipt.quantity > remaining:
        problems.add(
            ErrorCode.OVER_RECEIPT,
            f"{receipt.quantity} received but only {remaining} still expected",
            f"{at}.quantity",
        )
        return None
    return _PlannedLine(line, product, receipt.quantity)


async def _validate_serial_line(
    session: AsyncSession,
    receipt: LineReceipt,
    line: ReceivingLine,
    product: Product,
    remaining: int,
    problems: Problems,
    at: str,
) -> _PlannedLine | None:
    where = f"{at}.serialNumbers"
    if not receipt.serial_numbers:
        problems.add(
            ErrorCode.SERIALS_REQUIRED,
            f"{product.sku} is serial-tracked: scan one serial per unit",
            where,
        )
        return None
    count = len(receipt.serial_numbers)
    if receipt.quantity is not None and receipt.quantity != count:
        problems.add(
            ErrorCode.SERIAL_COUNT_MISMATCH,
            f"quantity {receipt.quantity} but {count} serial numbers",
            where,
        )
    if count > remaining:
        problems.add(
            ErrorCode.OVER_RECEIPT,
            f"{count} serials received but only {remaining} still expected",
            where,
        )
    numbers = _clean_serials(
        await scanned_serials(session, product.id, receipt.serial_numbers, problems, where),
        problems,
        where,
    )
    expected = {
        s.serial_number: s
        for s in await session.scalars(select(Serial).where(Serial.receiving_line_id == line.id))
        if s.status is not SerialStatus.RELEASED
    }
    plan = _PlannedLine(line, product, count)
    if any(s.status is SerialStatus.EXPECTED for s in expected.values()):
        # The ASN named its serials: only those may arrive on this line. (Serials received
        # on a line without a list also carry its id, so their presence proves nothing.)
        for number in numbers:
            serial = expected.get(number)
            if serial is None:
                problems.add(
                    ErrorCode.SERIAL_NOT_EXPECTED,
                    f"serial {number} is not expected on line {line.line_number}",
                    where,
                )
            elif serial.status is not SerialStatus.EXPECTED:
                problems.add(
                    ErrorCode.SERIAL_ALREADY_EXISTS,
                    f"serial {number} was already received ({serial.status})",
                    where,
                )
            else:
                plan.expected_serials.append(serial)
    else:
        existing = await _existing_serials(session, product.id, numbers)
        for number in numbers:
            if number in existing:
                problems.add(
                    ErrorCode.SERIAL_ALREADY_EXISTS,
                    f"serial {number} of {product.sku} already exists ({existing[number].status});"
                    " serial numbers are never reused",
                    where,
                )
            else:
                plan.new_serials.append(number)
    return plan


async def _validate_lot_line(
    session: AsyncSession,
    receipt: LineReceipt,
    line: ReceivingLine,
    product: Product,
    remaining: int,
    today: date,
    problems: Problems,
    at: str,
) -> _PlannedLine | None:
    if not receipt.lots:
        problems.add(
            ErrorCode.LOT_REQUIRED,
            f"{product.sku} is lot-tracked: enter the lot number and quantity",
            f"{at}.lots",
        )
        return None
    labels = [read_label(entry.lot_number) for entry in receipt.lots]
    owners = await gtin_owners(session, product, labels)
    plan = _PlannedLine(line, product, 0)
    keys: Counter[str] = Counter()
    cleaned: list[tuple[_LotInput, str]] = []
    for j, (entry, label) in enumerate(zip(receipt.lots, labels, strict=True)):
        read = _read_lot(entry, label, product, owners, problems, f"{at}.lots.{j}")
        if entry.quantity <= 0:
            problems.add(
                ErrorCode.QUANTITY_NOT_POSITIVE,
                "the lot quantity must be positive",
                f"{read.where}.quantity",
            )
        expiry = read.entry.expiry_date
        if expiry is not None and expiry < today:
            problems.add(
                ErrorCode.LOT_EXPIRED,
                f"lot {read.number or entry.lot_number} expired on {expiry}",
                read.expiry_field,
            )
        if read.number is not None:
            keys[lot_key(read.number)] += 1
            cleaned.append((read, read.number))
    total = sum(entry.quantity for entry in receipt.lots)
    if total != remaining:
        problems.add(
            ErrorCode.LOT_QUANTITY_MISMATCH,
            f"the lots add up to {total} but {remaining} are expected",
            f"{at}.lots",
        )
    if receipt.quantity is not None and receipt.quantity != total:
        problems.add(
            ErrorCode.LOT_QUANTITY_MISMATCH,
            f"quantity {receipt.quantity} but the lots add up to {total}",
            f"{at}.quantity",
        )
    existing = {
        lot.lot_key: lot
        for lot in await session.scalars(
            select(Lot).where(
                Lot.product_id == product.id, Lot.lot_key.in_([lot_key(n) for _, n in cleaned])
            )
        )
    }
    for read, number in cleaned:
        entry, where = read.entry, read.where
        key = lot_key(number)
        if keys[key] > 1:
            problems.add(
                ErrorCode.DUPLICATE_LOT,
                f"lot {number} is entered twice on this line (lot numbers ignore case)",
                f"{where}.lotNumber",
            )
            continue
        lot = existing.get(key)
        if (
            lot is not None
            and entry.expiry_date is not None
            and lot.expiry_date != entry.expiry_date
        ):
            problems.items.append(_expiry_conflict(read, lot))
            continue
        if lot is not None and lot.expiry_date is not None and lot.expiry_date < today:
            problems.add(
                ErrorCode.LOT_EXPIRED,
                f"lot {lot.lot_number} expired on {lot.expiry_date}",
                f"{where}.lotNumber",
            )
            continue
        plan.lots.append(_PlannedLot(entry, number, key, lot))
    plan.quantity = total
    return plan


def _read_lot(
    entry: LotEntry,
    label: Label,
    product: Product,
    owners: dict[str, str],
    problems: Problems,
    where: str,
) -> _LotInput:
    """A lot entry typed or scanned. A scanned expiry must agree with one typed, and fills
    it in when none was."""
    refusals = label_problems(
        label,
        "lot",
        sku=product.sku,
        gtin=product.gtin,
        expiry_date=entry.expiry_date,
        gtin_owners=owners,
        field=f"{where}.lotNumber",
    )
    problems.items += refusals
    text = label.number("lot")
    if refusals or text is None:
        return _LotInput(where, entry, None)
    number = clean_number(text, problems, f"{where}.lotNumber", kind="lot")
    if entry.expiry_date is None and label.expiry_date is not None:
        filled = replace(entry, expiry_date=label.expiry_date)
        return _LotInput(where, filled, number, expiry_scanned=True)
    return _LotInput(where, entry, number)


def _expiry_conflict(read: _LotInput, lot: Lot) -> Problem:
    """An entry's expiry that is not the one an existing lot is recorded with."""
    recorded = lot.expiry_date or "none"
    if read.expiry_scanned:
        return Problem(
            ErrorCode.EXPIRY_MISMATCH,
            f"the label says expiry {read.entry.expiry_date}, but lot {lot.lot_number} is "
            f"recorded with {recorded}",
            read.expiry_field,
        )
    return Problem(
        ErrorCode.LOT_EXPIRY_CONFLICT,
        f"lot {lot.lot_number} already exists with expiry {recorded}",
        read.expiry_field,
    )


def _refuse_lot_expiry_disagreements(plans: list[_PlannedLine], problems: Problems) -> None:
    """The same new lot on two lines of one receipt must carry one expiry."""
    seen: dict[tuple[int, str], date | None] = {}
    for plan in plans:
        for lot in plan.lots:
            if lot.existing is not None:
                continue  # already checked against its stored expiry
            key = (plan.product.id, lot.key)
            if key in seen and seen[key] != lot.entry.expiry_date:
                problems.add(
                    ErrorCode.LOT_EXPIRY_CONFLICT,
                    f"lot {lot.number} is given two different expiry dates",
                    "lines",
                )
            seen.setdefault(key, lot.entry.expiry_date)


async def _write_receipt(
    session: AsyncSession,
    order: ReceivingOrder,
    dock: Location,
    plans: list[_PlannedLine],
    actor: str,
    now: datetime,
) -> ReceiptResult:
    document = document_for(order)
    result = ReceiptResult(order, [], [], [])
    records: list[MovementRecord] = []
    new_lots: dict[tuple[int, str], Lot] = {}  # a new lot may be on several lines
    for plan in plans:
        line, product = plan.line, plan.product
        serials: list[Serial] = []
        if plan.expected_serials:
            serials = await lock_serials(session, [s.id for s in plan.expected_serials])
            for serial in serials:
                serial.received_at = now
            await apply_event(
                session,
                serials,
                SerialEvent.RECEIVE,
                document=document,
                actor=actor,
                to_location_id=dock.id,
            )
        if plan.new_serials:
            created = await create_serials(
                session,
                product_id=product.id,
                numbers=plan.new_serials,
                status=SerialStatus.RECEIVED,
                warehouse_id=order.warehouse_id,
                location_id=dock.id,
                receiving_line_id=line.id,
                document=document,
                actor=actor,
            )
            for serial in created:
                serial.received_at = now
            serials += created
        if serials:
            task = _putaway_task(order, line, dock, None, len(serials), now)
            session.add(task)
            await session.flush()
            for serial in serials:
                serial.putaway_task_id = task.id
            result.putaway_tasks.append(task)
            result.serials += serials
        for planned in plan.lots:
            lot = planned.existing or new_lots.get((product.id, planned.key))
            if lot is None:
                lot = new_lots[(product.id, planned.key)] = await _new_lot(
                    session, product, planned, now
                )
            result.lots.append(lot)
            records.append(
                MovementRecord(
                    MovementKind.RECEIVE,
                    product.id,
                    planned.entry.quantity,
                    lot_id=lot.id,
                    to_location_id=dock.id,
                )
            )
            result.putaway_tasks.append(
                await _stage(session, order, line, dock, lot.id, planned.entry.quantity, now)
            )
        if product.tracking is Tracking.NONE:
            records.append(
                MovementRecord(
                    MovementKind.RECEIVE, product.id, plan.quantity, to_location_id=dock.id
                )
            )
            result.putaway_tasks.append(
                await _stage(session, order, line, dock, None, plan.quantity, now)
            )
        line.received_quantity += plan.quantity
        line.status = (
            ReceivingLineStatus.RECEIVED
            if line.received_quantity == line.expected_quantity
            else ReceivingLineStatus.RECEIVING
        )
    await record_movements(session, records, document, actor)
    statuses = await session.scalars(
        select(ReceivingLine.status).where(ReceivingLine.order_id == order.id)
    )
    everything_in = all(
        s is not ReceivingLineStatus.PLANNED and s is not ReceivingLineStatus.RECEIVING
        for s in statuses
    )
    order.status = (
        ReceivingOrderStatus.RECEIVED if everything_in else ReceivingOrderStatus.RECEIVING
    )
    order.updated_at = now
    await session.flush()
    return result


def _putaway_task(
    order: ReceivingOrder,
    line: ReceivingLine,
    dock: Location,
    lot_id: int | None,
    quantity: int,
    now: datetime,
) -> PutawayTask:
    return PutawayTask(
        warehouse_id=order.warehouse_id,
        receiving_line_id=line.id,
        product_id=line.product_id,
        lot_id=lot_id,
        quantity=quantity,
        from_location_id=dock.id,
        received_at=now,
    )


async def _stage(
    session: AsyncSession,
    order: ReceivingOrder,
    line: ReceivingLine,
    dock: Location,
    lot_id: int | None,
    quantity: int,
    now: datetime,
) -> PutawayTask:
    """Put a quantity on the receiving dock as stock, with the task that will move it."""
    await add_stock(
        session,
        product_id=line.product_id,
        lot_id=lot_id,
        warehouse_id=order.warehouse_id,
        location_id=dock.id,
        received_at=now,
        quantity=quantity,
    )
    task = _putaway_task(order, line, dock, lot_id, quantity, now)
    session.add(task)
    await session.flush()
    return task


async def _new_lot(
    session: AsyncSession, product: Product, planned: _PlannedLot, now: datetime
) -> Lot:
    lot = Lot(
        product_id=product.id,
        lot_number=planned.number,
        lot_key=planned.key,
        expiry_date=planned.entry.expiry_date,
        received_at=now,
        created_at=now,
    )
    session.add(lot)
    await session.flush()
    return lot


# ---------------------------------------------------------------- cancel and close


async def cancel_receiving_order(
    session: AsyncSession, *, order_id: int, actor: str
) -> ReceivingOrder:
    """Cancel an ASN before anything arrived: its EXPECTED serials are released (recorded in
    their history), so their numbers may be expected again on a later ASN."""
    order = await locked(session, ReceivingOrder, order_id)
    if order is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such receiving order", "orderId")
    if order.status is not ReceivingOrderStatus.PLANNED:
        raise Refused.one(
            ErrorCode.ORDER_NOT_CANCELLABLE,
            f"receiving order {order.number} is {order.status}: only a planned "
            "order with nothing received can be cancelled",
            "orderId",
        )
    await _finish(
        session, order, ReceivingOrderStatus.CANCELLED, ReceivingLineStatus.CANCELLED, actor
    )
    return order


async def close_receiving_order(
    session: AsyncSession, *, order_id: int, actor: str
) -> ReceivingOrder:
    """Close an ASN that received something, accepting any short receipt: serials still
    EXPECTED never arrived and are released."""
    order = await locked(session, ReceivingOrder, order_id)
    if order is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such receiving order", "orderId")
    if order.status not in (ReceivingOrderStatus.RECEIVING, ReceivingOrderStatus.RECEIVED):
        raise Refused.one(
            ErrorCode.ORDER_NOT_OPEN,
            f"receiving order {order.number} is {order.status}: only an order that "
            "received goods can be closed (cancel a planned one)",
            "orderId",
        )
    await _finish(session, order, ReceivingOrderStatus.CLOSED, ReceivingLineStatus.CLOSED, actor)
    return order


async def _finish(
    session: AsyncSession,
    order: ReceivingOrder,
    status: ReceivingOrderStatus,
    line_status: ReceivingLineStatus,
    actor: str,
) -> None:
    lines = list(
        await session.scalars(select(ReceivingLine).where(ReceivingLine.order_id == order.id))
    )
    waiting = await session.scalars(
        select(Serial.id).where(
            Serial.receiving_line_id.in_([line.id for line in lines]),
            Serial.status == SerialStatus.EXPECTED,
        )
    )
    serials = await lock_serials(session, list(waiting))
    await apply_event(
        session, serials, SerialEvent.RELEASE, document=document_for(order), actor=actor
    )
    for line in lines:
        line.status = line_status
    order.status = status
    order.updated_at = utc_now()
    await session.flush()


# ---------------------------------------------------------------- helpers


async def _products(session: AsyncSession, ids: set[int]) -> dict[int, Product]:
    if not ids:
        return {}
    return {p.id: p for p in await session.scalars(select(Product).where(Product.id.in_(ids)))}


def _clean_serials(raw: list[str], problems: Problems, where: str) -> list[str]:
    numbers = [n for n in (clean_number(r, problems, where, kind="serial") for r in raw) if n]
    for number, count in Counter(numbers).items():
        if count > 1:
            problems.add(
                ErrorCode.DUPLICATE_SERIAL, f"serial {number} is entered {count} times", where
            )
    return list(dict.fromkeys(numbers))


def _refuse_duplicates_across_lines(
    entries: list[tuple[int, int, list[str]]], problems: Problems, name: str
) -> None:
    """One serial number of a product may appear on only one line of a request."""
    owner: dict[tuple[int, str], int] = {}
    for product_id, index, numbers in entries:
        for number in numbers:
            first = owner.setdefault((product_id, number), index)
            if first != index:
                problems.add(
                    ErrorCode.DUPLICATE_SERIAL,
                    f"serial {number} is on lines {first} and {index}",
                    f"lines.{index}.{name}",
                )


async def _existing_serials(
    session: AsyncSession, product_id: int, numbers: list[str]
) -> dict[str, Serial]:
    if not numbers:
        return {}
    rows = await session.scalars(
        select(Serial).where(
            Serial.product_id == product_id,
            Serial.serial_number.in_(numbers),
            Serial.status != SerialStatus.RELEASED,
        )
    )
    return {s.serial_number: s for s in rows}
