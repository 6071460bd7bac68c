"""A random walk through the warehouse: hypothesis drives the real services (receive, put
away, allocate, pick, pack and dispatch, cancel, return to stock, opening-stock imports,
lot holds and releases, and the passing of days) in any order, on both engines, and after
every step checks what must always hold, by querying the database:

- no serial is in two live allocations (allocated, picked or shipped);
- nothing is reserved beyond what is on hand (per balance and per product);
- no lot is allocated while expired or held, none ships expired, and a held lot ships only
  what was allocated before its hold (docs/reports.md: reservations stay theirs);
- no serial number is taken twice, and a serial once seen is never re-created;
- every serial's status is the `to_status` of its last movement, and its movements follow
  one another (each `from_status` is the previous `to_status`);
- the movement hash chain verifies (services/audit.py).

A refused use case (a `Refused` from the services, or an import report with errors) must
change nothing: the whole of `snapshot_in` is compared before and after.

Hypothesis runs synchronously, so the machine runs in a worker thread with an event loop
and engines of its own; each example builds its own warehouse and products (codes no other
example uses) in the one database of the test.
"""

import asyncio
import io
import itertools
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Allocation,
    AllocationStatus,
    Location,
    LocationKind,
    Lot,
    Movement,
    MovementKind,
    OutboundOrder,
    OutboundOrderStatus,
    PickTask,
    PickTaskStatus,
    PutawayTask,
    PutawayTaskStatus,
    ReceivingLine,
    ReceivingOrder,
    ReceivingOrderStatus,
    Serial,
    SerialStatus,
    Shipment,
    ShipmentStatus,
    StockBalance,
    Tracking,
)
from services import outbound, picking, recall, shipping
from services.audit import verify_chain
from services.catalog import LocationSpec, create_product, create_warehouse
from services.errors import Refused
from services.imports import ImportKind, import_csv
from services.putaway import Placement, complete_putaway
from services.receiving import (
    LineReceipt,
    LotEntry,
    PlannedLine,
    cancel_receiving_order,
    plan_receiving_order,
    receive,
)
from tests.conftest import Database, _truncate_all
from tests.services.builders import snapshot_in
from trackline.db import Engines, create_engine, create_engines

ACTOR = "machine"
START = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
SERIAL_NAMES = [f"N{i}" for i in range(10)]  # few, so numbers collide
EXPECTED_NAMES = [f"E{i}" for i in range(6)]  # a pool of their own: mostly not taken yet
LOT_NAMES = ["L1", "L2", "L3"]
EXAMPLES = 15
STEPS = 40
LIVE = (AllocationStatus.ALLOCATED, AllocationStatus.PICKED, AllocationStatus.SHIPPED)

T = TypeVar("T")
_examples = itertools.count(1)


class Warehouse(RuleBasedStateMachine):
    # Set by the test: an empty, migrated database for each example (a new SQLite file, or
    # the PostgreSQL database emptied), so that every check reads only this example's rows.
    fresh_database: Callable[[], Awaitable[str]]
    # The movement kinds the examples wrote, all together.
    kinds_seen: ClassVar[set[MovementKind]] = set()

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        url = self.loop.run_until_complete(self.fresh_database())
        self.engines: Engines = create_engines(url)
        self.sessions = self.engines.sessions()
        self.read_sessions = self.engines.read_sessions()
        self.tag = f"X{next(_examples)}"
        self.clock = START
        self.numbers = itertools.count(1)
        # what the model remembers of the history
        self.first_ids: dict[tuple[int, str], int] = {}  # (product, serial number) -> id
        self.dates: list[tuple[int, date]] = []  # (last movement id after a step, its day)
        self.last_movement = 0

    def teardown(self) -> None:
        kinds = self.read(select(Movement.kind).distinct())
        Warehouse.kinds_seen |= {kind for (kind,) in kinds}
        self.loop.run_until_complete(self.engines.dispose())
        self.loop.close()

    # ------------------------------------------------------------ plumbing

    def run(self, coroutine: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await coroutine

        return self.loop.run_until_complete(wrapped())

    def attempt(self, use_case: Callable[[AsyncSession], Awaitable[T]]) -> T | None:
        """Run a use case in its own transaction; if refused, prove it changed nothing."""

        async def go() -> T | None:
            try:
                async with self.sessions.begin() as session:
                    before = await snapshot_in(session)
                    try:
                        result = await use_case(session)
                    except Refused:
                        # nothing written, flushed or pending (the check flushes what is)
                        after = await snapshot_in(session)
                        assert after == before, "a refused use case changed something"
                        raise
            except Refused:
                assert await self.snapshot() == before, "a refused use case changed something"
                return None
            await self.note_day()
            return result

        return self.run(go())

    async def snapshot(self) -> Any:
        async with self.read_sessions() as session:
            return await snapshot_in(session)

    def read(self, query: Any) -> list[Any]:
        async def go() -> list[Any]:
            async with self.read_sessions() as session:
                return list((await session.execute(query)).all())

        return self.run(go())

    def name(self, prefix: str) -> str:
        return f"{self.tag}-{prefix}{next(self.numbers)}"

    # ------------------------------------------------------------ the world of one example

    @initialize()
    def build_site(self) -> None:
        async def go() -> None:
            async with self.sessions.begin() as session:
                warehouse = await create_warehouse(
                    session,
                    code=self.tag,
                    name=f"Warehouse {self.tag}",
                    time_zone="UTC",
                    locations=[
                        LocationSpec("DOCK", LocationKind.RECEIVING),
                        LocationSpec("A-01", LocationKind.STORAGE),
                        LocationSpec("A-02", LocationKind.STORAGE),
                        LocationSpec("PACK", LocationKind.PACKING),
                    ],
                )
                self.warehouse_id = warehouse.id
                self.locations = {
                    loc.code: loc.id
                    for loc in await session.scalars(
                        select(Location).where(Location.warehouse_id == warehouse.id)
                    )
                }
                serial = await create_product(
                    session, sku=f"{self.tag}-SER", name="serials", tracking=Tracking.SERIAL
                )
                lot = await create_product(
                    session, sku=f"{self.tag}-LOT", name="lots", tracking=Tracking.LOT
                )
                self.serial_product, self.lot_product = serial.id, lot.id
                self.products = {serial.id: serial.sku, lot.id: lot.sku}
                # earlier examples' movements were written on their own days
                self.last_movement = (
                    await session.scalar(select(func.coalesce(func.max(Movement.id), 0)))
                ) or 0
                self.first_movement = self.last_movement

        self.run(go())
        # Something to work with from the first step: serials and a lot in storage, and
        # orders for them (the rules add more of everything).
        self.receive_serials(SERIAL_NAMES[:3])
        self.receive_lot(LOT_NAMES[0], 4, None)
        for task_id, quantity in self.open_tasks():
            self.store(task_id, quantity, "A-01")
        self.create_order("serial", 1)
        self.create_order("lot", 2)

    def open_tasks(self) -> list[Any]:
        return self.read(
            select(PutawayTask.id, PutawayTask.quantity)
            .join(ReceivingLine, ReceivingLine.id == PutawayTask.receiving_line_id)
            .where(PutawayTask.status == PutawayTaskStatus.OPEN)
            .where(ReceivingLine.product_id.in_(list(self.products)))
            .order_by(PutawayTask.id)
        )

    def ids(self, query: Any) -> list[int]:
        return [row[0] for row in self.read(query)]

    def orders(self, *statuses: OutboundOrderStatus) -> list[int]:
        """The example's orders (in one of `statuses`, if any are; else all of them)."""
        query = (
            select(OutboundOrder.id, OutboundOrder.status)
            .where(OutboundOrder.warehouse_id == self.warehouse_id)
            .order_by(OutboundOrder.id)
        )
        rows = self.read(query)
        chosen = [order for order, status in rows if status in statuses]
        return chosen or [order for order, _ in rows]

    # ------------------------------------------------------------ rules

    @rule(days=st.integers(1, 3))
    def time_passes(self, days: int) -> None:
        self.clock += timedelta(days=days)

    @rule(names=st.lists(st.sampled_from(SERIAL_NAMES), min_size=1, max_size=3))
    def receive_serials(self, names: list[str]) -> None:
        numbers = [f"{self.tag}-{n}" for n in names]  # duplicates in one receipt too

        planned = self.plan(self.serial_product, len(numbers))
        if planned is None:
            return
        order, line = planned
        self.attempt(
            lambda s: receive(
                s,
                order_id=order,
                lines=[LineReceipt(line, serial_numbers=numbers)],
                actor=ACTOR,
                now=self.clock,
            )
        )

    def plan(self, product: int, quantity: int) -> tuple[int, int] | None:
        """Plan an ASN of one line (its own use case); (order id, line id)."""

        async def use_case(session: AsyncSession) -> tuple[int, int]:
            order = await plan_receiving_order(
                session,
                number=self.name("ASN"),
                warehouse_id=self.warehouse_id,
                lines=[PlannedLine(product, quantity, [])],
                actor=ACTOR,
            )
            line = await session.scalar(
                select(ReceivingLine.id).where(ReceivingLine.order_id == order.id)
            )
            assert line is not None
            return order.id, line

        return self.attempt(use_case)

    @rule(names=st.lists(st.sampled_from(EXPECTED_NAMES), min_size=1, max_size=3, unique=True))
    def expect_serials(self, names: list[str]) -> None:
        """An ASN that lists the serials it will bring (EXPECTED until they arrive)."""
        numbers = [f"{self.tag}-{n}" for n in names]
        self.attempt(
            lambda s: plan_receiving_order(
                s,
                number=self.name("ASN"),
                warehouse_id=self.warehouse_id,
                lines=[PlannedLine(self.serial_product, len(numbers), numbers)],
                actor=ACTOR,
            )
        )

    def planned_lines(self) -> list[Any]:
        return self.read(
            select(ReceivingLine.id, ReceivingLine.order_id)
            .join(ReceivingOrder, ReceivingOrder.id == ReceivingLine.order_id)
            .where(
                ReceivingOrder.warehouse_id == self.warehouse_id,
                ReceivingOrder.status == ReceivingOrderStatus.PLANNED,
                ReceivingLine.product_id == self.serial_product,
            )
            .order_by(ReceivingLine.id)
        )

    @rule(data=st.data())
    def receive_expected(self, data: st.DataObject) -> None:
        lines = self.planned_lines()
        if not lines:
            return
        line, order = data.draw(st.sampled_from(lines))
        numbers = [
            n
            for (n,) in self.read(
                select(Serial.serial_number).where(
                    Serial.receiving_line_id == line, Serial.status == SerialStatus.EXPECTED
                )
            )
        ]
        self.attempt(
            lambda s: receive(
                s,
                order_id=order,
                lines=[LineReceipt(line, serial_numbers=numbers)],
                actor=ACTOR,
                now=self.clock,
            )
        )

    @rule(data=st.data())
    def cancel_asn(self, data: st.DataObject) -> None:
        lines = self.planned_lines()
        if lines:
            _, order = data.draw(st.sampled_from(lines))
            self.attempt(lambda s: cancel_receiving_order(s, order_id=order, actor=ACTOR))

    @rule(
        lot=st.sampled_from(LOT_NAMES),
        quantity=st.integers(1, 5),
        expiry=st.one_of(st.none(), st.integers(-1, 6)),
    )
    def receive_lot(self, lot: str, quantity: int, expiry: int | None) -> None:
        expiry_date = None if expiry is None else self.clock.date() + timedelta(days=expiry)

        planned = self.plan(self.lot_product, quantity)
        if planned is None:
            return
        order, line = planned
        self.attempt(
            lambda s: receive(
                s,
                order_id=order,
                lines=[LineReceipt(line, lots=[LotEntry(lot, quantity, expiry_date)])],
                actor=ACTOR,
                now=self.clock,
            )
        )

    @rule(data=st.data(), where=st.sampled_from(["A-01", "A-02", "PACK"]))
    def put_away(self, data: st.DataObject, where: str) -> None:
        tasks = self.open_tasks()
        if not tasks:
            return
        task_id, quantity = data.draw(st.sampled_from(tasks))
        self.store(task_id, quantity, where)

    def store(self, task_id: int, quantity: int, where: str) -> None:
        self.attempt(
            lambda s: complete_putaway(
                s,
                task_id=task_id,
                placements=[Placement(self.locations[where], quantity)],
                actor=ACTOR,
            )
        )

    @rule(
        lot=st.sampled_from(LOT_NAMES),
        quantity=st.integers(0, 4),
        expiry=st.one_of(st.none(), st.integers(-1, 6)),
        names=st.lists(st.sampled_from(SERIAL_NAMES), min_size=1, max_size=2),
        kind=st.sampled_from(["serials", "lots"]),
    )
    def import_opening_stock(
        self, lot: str, quantity: int, expiry: int | None, names: list[str], kind: str
    ) -> None:
        """A quantity of 0 makes a row error: the import must then write nothing."""
        if kind == "serials":
            rows = [
                f"{self.products[self.serial_product]},{self.tag}-{n},{self.tag},A-01"
                for n in names
            ]
            text = "sku,serial_number,warehouse,location\n" + "\n".join(rows) + "\n"
            import_kind = ImportKind.OPENING_SERIALS
        else:
            when = "" if expiry is None else str(self.clock.date() + timedelta(days=expiry))
            text = (
                "sku,lot_number,expiry_date,quantity,warehouse,location\n"
                f"{self.products[self.lot_product]},{lot},{when},{quantity},{self.tag},A-02\n"
            )
            import_kind = ImportKind.OPENING_LOTS

        async def go() -> None:
            before = await self.snapshot()
            report = await import_csv(
                self.sessions,
                import_kind,
                io.StringIO(text),
                actor=ACTOR,
                reference=self.name("IMP"),
            )
            if not report.committed:
                assert await self.snapshot() == before, "a refused import changed something"
            await self.note_day()

        self.run(go())

    @rule(product=st.sampled_from(["serial", "lot"]), quantity=st.integers(1, 3))
    def create_order(self, product: str, quantity: int) -> None:
        product_id = self.serial_product if product == "serial" else self.lot_product
        self.attempt(
            lambda s: outbound.create_order(
                s,
                number=self.name("SO"),
                warehouse_id=self.warehouse_id,
                lines=[outbound.OrderLineSpec(product_id, quantity)],
            )
        )

    @rule(data=st.data())
    def allocate(self, data: st.DataObject) -> None:
        orders = self.orders(OutboundOrderStatus.OPEN)
        if orders:
            order = data.draw(st.sampled_from(orders))
            self.attempt(
                lambda s: outbound.allocate_order(s, order_id=order, actor=ACTOR, now=self.clock)
            )

    @rule(data=st.data(), wrong=st.sampled_from([False, False, True]))
    def pick(self, data: st.DataObject, wrong: bool) -> None:
        """Confirm the open pick tasks of one order with what was allocated (or, now and
        then, first a label of another serial or lot, which must be refused)."""
        tasks = self.read(
            select(PickTask.order_id, PickTask.id)
            .join(Allocation, Allocation.id == PickTask.allocation_id)
            .where(PickTask.status == PickTaskStatus.OPEN)
            .where(Allocation.product_id.in_(list(self.products)))
            .order_by(PickTask.id)
        )
        if tasks:
            order = data.draw(st.sampled_from(sorted({o for o, _ in tasks})))
            self.pick_tasks([t for o, t in tasks if o == order], wrong)

    def pick_tasks(self, task_ids: list[int], wrong: bool) -> None:
        for task_id in task_ids:

            async def use_case(
                session: AsyncSession, task_id: int = task_id, wrong: bool = wrong
            ) -> object:
                task = await session.get(PickTask, task_id)
                assert task is not None
                allocation = await session.get(Allocation, task.allocation_id)
                assert allocation is not None
                if allocation.serial_id is not None:
                    number = await session.scalar(
                        select(Serial.serial_number).where(Serial.id == allocation.serial_id)
                    )
                    scan = picking.PickConfirmation(
                        serial_number=f"{self.tag}-NOPE" if wrong else number
                    )
                else:
                    lot_number = await session.scalar(
                        select(Lot.lot_number).where(Lot.id == allocation.lot_id)
                    )
                    scan = picking.PickConfirmation(
                        lot_number="L-NOPE" if wrong else lot_number,
                        quantity=allocation.quantity,
                    )
                return await picking.confirm_pick(session, task_id=task_id, scan=scan, actor=ACTOR)

            self.attempt(use_case)
            wrong = False

    @rule(data=st.data())
    def pack_and_dispatch(self, data: st.DataObject) -> None:
        orders = self.orders(OutboundOrderStatus.PICKED, OutboundOrderStatus.PACKED)
        if not orders:
            return
        self.pack_and_dispatch_order(data.draw(st.sampled_from(orders)))

    def pack_and_dispatch_order(self, order: int) -> None:
        self.attempt(lambda s: shipping.create_shipment(s, order_id=order))
        shipments = self.ids(
            select(Shipment.id).where(
                Shipment.order_id == order, Shipment.status == ShipmentStatus.PACKED
            )
        )
        for shipment in shipments:
            self.dispatch(shipment)

    def dispatch(self, shipment: int) -> None:
        self.attempt(
            lambda s: shipping.dispatch_shipment(
                s, shipment_id=shipment, actor=ACTOR, now=self.clock
            )
        )

    @rule(data=st.data(), give_back=st.booleans())
    def fulfil_order(self, data: st.DataObject, give_back: bool) -> None:
        """An order's whole way out in one step (each use case its own transaction):
        allocate, pick everything, pack and dispatch; or, instead of packing, put one
        picked allocation back into storage."""
        orders = self.orders(OutboundOrderStatus.OPEN, OutboundOrderStatus.ALLOCATED)
        if not orders:
            return
        order = data.draw(st.sampled_from(orders))
        self.attempt(
            lambda s: outbound.allocate_order(s, order_id=order, actor=ACTOR, now=self.clock)
        )
        tasks = self.ids(
            select(PickTask.id).where(
                PickTask.order_id == order, PickTask.status == PickTaskStatus.OPEN
            )
        )
        if tasks:
            self.pick_tasks(tasks, wrong=False)
        picked = self.ids(
            select(Allocation.id).where(
                Allocation.order_id == order, Allocation.status == AllocationStatus.PICKED
            )
        )
        if give_back and picked:
            self.give_back(picked[0], "A-02")
        else:
            self.pack_and_dispatch_order(order)

    @rule(data=st.data())
    def cancel_order(self, data: st.DataObject) -> None:
        orders = self.orders(OutboundOrderStatus.ALLOCATED, OutboundOrderStatus.PICKING)
        if orders:
            order = data.draw(st.sampled_from(orders))
            self.attempt(lambda s: outbound.cancel_order(s, order_id=order, actor=ACTOR))

    def allocations(self, *statuses: AllocationStatus) -> list[int]:
        """The example's allocations (in one of `statuses`, if any are; else all)."""
        rows = self.read(
            select(Allocation.id, Allocation.status)
            .where(Allocation.product_id.in_(list(self.products)))
            .order_by(Allocation.id)
        )
        chosen = [a for a, status in rows if status in statuses]
        return chosen or [a for a, _ in rows]

    @rule(data=st.data())
    def cancel_allocation(self, data: st.DataObject) -> None:
        allocations = self.allocations(AllocationStatus.ALLOCATED)
        if allocations:
            chosen = data.draw(st.sampled_from(allocations))
            self.attempt(lambda s: outbound.cancel_allocation(s, allocation_id=chosen, actor=ACTOR))

    @rule(data=st.data(), where=st.sampled_from(["A-01", "A-02", "DOCK"]))
    def return_to_stock(self, data: st.DataObject, where: str) -> None:
        allocations = self.allocations(AllocationStatus.PICKED)
        if allocations:
            self.give_back(data.draw(st.sampled_from(allocations)), where)

    def give_back(self, allocation: int, where: str) -> None:
        self.attempt(
            lambda s: picking.return_to_stock(
                s, allocation_id=allocation, location_id=self.locations[where], actor=ACTOR
            )
        )

    @rule(data=st.data(), toggle=st.sampled_from([True, True, False]))
    def hold_or_release(self, data: st.DataObject, toggle: bool) -> None:
        """Hold a lot that is not held or release one that is (or, now and then, the
        other way round, which must be refused)."""
        lots = self.read(
            select(Lot.id, Lot.on_hold).where(Lot.product_id == self.lot_product).order_by(Lot.id)
        )
        if not lots:
            return
        lot, on_hold = data.draw(st.sampled_from(lots))
        if on_hold is not toggle:  # held and not toggled, or free and toggled: hold it
            self.attempt(lambda s: recall.hold_lots(s, [lot], "recall", ACTOR))
        else:
            self.attempt(lambda s: recall.release_lots(s, [lot], ACTOR))

    # ------------------------------------------------------------ invariants

    async def note_day(self) -> None:
        """Which day the movements just written were written on (the services were told
        `self.clock`)."""
        async with self.read_sessions() as session:
            last = await session.scalar(select(func.coalesce(func.max(Movement.id), 0)))
        if last is not None and last > self.last_movement:
            self.dates.append((last, self.clock.date()))
            self.last_movement = last

    def day_of(self, movement_id: int) -> date:
        for last, day in self.dates:
            if movement_id <= last:
                return day
        raise AssertionError(f"movement {movement_id} was not seen being written")

    @invariant()
    def no_serial_in_two_allocations(self) -> None:
        doubled = self.read(
            select(Allocation.serial_id, func.count())
            .where(Allocation.serial_id.is_not(None), Allocation.status.in_(LIVE))
            .group_by(Allocation.serial_id)
            .having(func.count() > 1)
        )
        assert doubled == [], f"serials in several live allocations: {doubled}"
        # a serial's live allocation and its status agree
        wrong = self.read(
            select(Serial.serial_number, Serial.status, Allocation.status)
            .join(Allocation, Allocation.serial_id == Serial.id)
            .where(Allocation.status.in_(LIVE))
            .where(Serial.status.not_in([SerialStatus(s.value) for s in LIVE]))
        )
        assert wrong == [], wrong

    @invariant()
    def nothing_reserved_beyond_what_is_on_hand(self) -> None:
        over = self.read(
            select(StockBalance.id, StockBalance.quantity, StockBalance.allocated_quantity).where(
                (StockBalance.allocated_quantity > StockBalance.quantity)
                | (StockBalance.allocated_quantity < 0)
                | (StockBalance.quantity < 0)
            )
        )
        assert over == [], f"balances reserved beyond what they hold: {over}"
        per_product = self.read(
            select(
                StockBalance.product_id,
                func.sum(StockBalance.quantity),
                func.sum(StockBalance.allocated_quantity),
            ).group_by(StockBalance.product_id)
        )
        for product, on_hand, allocated in per_product:
            assert allocated <= on_hand, (product, on_hand, allocated)
        # what the balances say is reserved is what live allocations hold
        held: dict[int, int] = {}
        for balance, status, quantity, picked in self.read(
            select(
                Allocation.stock_balance_id,
                Allocation.status,
                Allocation.quantity,
                Allocation.picked_quantity,
            ).where(
                Allocation.stock_balance_id.is_not(None),
                Allocation.status.in_([AllocationStatus.ALLOCATED, AllocationStatus.PICKED]),
            )
        ):
            kept = quantity if status is AllocationStatus.ALLOCATED else picked
            held[balance] = held.get(balance, 0) + kept
        for balance, allocated in self.read(
            select(StockBalance.id, StockBalance.allocated_quantity)
        ):
            assert allocated == held.get(balance, 0), (balance, allocated, held.get(balance))

    @invariant()
    def no_lot_allocated_or_shipped_unfit(self) -> None:
        """No allocation of a lot that was expired that day or held at that moment; no
        dispatch of an expired lot; a held lot ships only what it had before its hold."""
        moves = self.read(
            select(
                Movement.id,
                Movement.kind,
                Movement.lot_id,
                Movement.document_number,
                Lot.expiry_date,
            )
            .join(Lot, Lot.id == Movement.lot_id)
            .where(Movement.id > self.first_movement)
            .where(
                Movement.kind.in_(
                    [
                        MovementKind.ALLOCATE,
                        MovementKind.SHIP,
                        MovementKind.HOLD,
                        MovementKind.RELEASE_HOLD,
                    ]
                )
            )
            .order_by(Movement.id)
        )
        held_since: dict[int, int] = {}  # lot -> the id of the HOLD in force
        allocated: dict[tuple[int, str], list[int]] = {}  # (lot, order number) -> ids
        for movement_id, kind, lot, document, expiry in moves:
            if kind is MovementKind.HOLD:
                held_since[lot] = movement_id
            elif kind is MovementKind.RELEASE_HOLD:
                held_since.pop(lot, None)
            elif kind is MovementKind.ALLOCATE:
                assert lot not in held_since, f"lot {lot} allocated while held ({movement_id})"
                if expiry is not None:
                    day = self.day_of(movement_id)
                    assert expiry >= day, f"lot {lot} allocated on {day}, expired {expiry}"
                allocated.setdefault((lot, document), []).append(movement_id)
            elif kind is MovementKind.SHIP:
                if expiry is not None:
                    day = self.day_of(movement_id)
                    assert expiry >= day, f"lot {lot} shipped on {day}, expired {expiry}"
                if lot in held_since:
                    before = allocated.get((lot, document), [])
                    assert before, f"lot {lot} shipped while held, never allocated"
                    assert min(before) < held_since[lot], f"lot {lot} allocated after its hold"

    @invariant()
    def serial_numbers_are_never_reused(self) -> None:
        rows = self.read(
            select(
                Serial.id, Serial.product_id, Serial.serial_key, Serial.serial_number, Serial.status
            ).where(Serial.status != SerialStatus.RELEASED)
        )
        keys = [(product, key) for _, product, key, _, _ in rows]
        assert len(keys) == len(set(keys)), "a serial number is taken twice"
        # Once an item has arrived (or was imported), its number is its own for good, shipped
        # or not. Only an EXPECTED serial whose ASN is cancelled may be expected again.
        for serial_id, product, _, number, status in rows:
            first = self.first_ids.get((product, number))
            if first is None and status is not SerialStatus.EXPECTED:
                self.first_ids[(product, number)] = serial_id
            elif first is not None:
                assert first == serial_id, f"serial {number} re-created ({first}, {serial_id})"

    @invariant()
    def every_status_change_has_its_movement(self) -> None:
        history = self.read(
            select(Movement.serial_id, Movement.from_status, Movement.to_status)
            .where(Movement.serial_id.is_not(None))
            .order_by(Movement.serial_id, Movement.id)
        )
        last: dict[int, SerialStatus | None] = {}
        for serial_id, from_status, to_status in history:
            if serial_id in last:
                assert from_status == last[serial_id], (serial_id, from_status, last[serial_id])
            last[serial_id] = to_status
        for serial_id, status in self.read(select(Serial.id, Serial.status)):
            assert serial_id in last, f"serial {serial_id} has no movement"
            assert last[serial_id] == status, (serial_id, status, last[serial_id])

    @invariant()
    def the_chain_verifies(self) -> None:
        async def go() -> None:
            async with self.read_sessions() as session:
                check = await verify_chain(session)
            assert check.intact, check.broken

        self.run(go())


def run_machine(fresh_database: Callable[[], Awaitable[str]], examples: int, steps: int) -> None:
    Warehouse.fresh_database = staticmethod(fresh_database)
    Warehouse.kinds_seen = set()
    run_state_machine_as_test(
        Warehouse,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            # Reproducible walks, so the coverage assertion of the test cannot flake.
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        ),
    )


async def test_the_warehouse_survives_any_sequence_of_use_cases(
    db: Database, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    databases = itertools.count(1)

    async def fresh_database() -> str:
        if db.name == "sqlite":
            path = tmp_path / f"example-{next(databases)}.sqlite3"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite+aiosqlite:///{path}"
        engine = create_engine(db.url)
        try:
            await _truncate_all(engine)
        finally:
            await engine.dispose()
        return db.url

    if db.name == "sqlite":
        request.getfixturevalue("sqlite_template")  # made here, not in the worker thread
    await asyncio.to_thread(run_machine, fresh_database, EXAMPLES, STEPS)
    # the walks reached every use case at least once
    never = set(MovementKind) - Warehouse.kinds_seen
    assert not never, f"never reached: {never}"
