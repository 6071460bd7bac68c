"""Demo data: one warehouse, three products (serial, lot, untracked) and an ASN part-way
through its journey, so every screen has something to show. Loaded once."""

from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Location, LocationKind, ReceivingLine, Tracking, Warehouse
from models.base import utc_now
from services import catalog, putaway, receiving
from services.catalog import LocationSpec
from services.receiving import LineReceipt, LotEntry, PlannedLine
from services.reports import warehouse_today

ACTOR = "demo"


async def seed_demo(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Load the demo data into an empty database. False if anything was there already."""
    async with sessions.begin() as session:
        if await session.scalar(select(exists().where(Warehouse.id.is_not(None)))):
            return False
        warehouse = await catalog.create_warehouse(
            session,
            code="MAIN",
            name="Main warehouse",
            time_zone="Europe/Amsterdam",
            locations=[
                LocationSpec("DOCK-1", LocationKind.RECEIVING),
                *(LocationSpec(f"A-0{i}", LocationKind.STORAGE) for i in range(1, 5)),
                LocationSpec("PACK-1", LocationKind.PACKING),
                LocationSpec("SHIP-1", LocationKind.SHIPPING),
            ],
        )
        laptop = await catalog.create_product(
            session,
            sku="LAPTOP-14",
            name="Laptop 14 inch",
            gtin="09506000134352",
            tracking=Tracking.SERIAL,
        )
        vitamins = await catalog.create_product(
            session,
            sku="VITC-500",
            name="Vitamin C 500 mg, 60 tablets",
            gtin="09506000134369",
            tracking=Tracking.LOT,
        )
        boxes = await catalog.create_product(
            session, sku="BOX-M", name="Shipping box, medium", tracking=Tracking.NONE
        )
        order = await receiving.plan_receiving_order(
            session,
            number="ASN-1001",
            warehouse_id=warehouse.id,
            supplier="Northwind Supply",
            actor=ACTOR,
            lines=[
                PlannedLine(laptop.id, 4, [f"SN-LT-{n:04d}" for n in range(1, 5)]),
                PlannedLine(vitamins.id, 120),
                PlannedLine(boxes.id, 50),
            ],
        )
        await receiving.plan_receiving_order(
            session,
            number="ASN-1002",
            warehouse_id=warehouse.id,
            supplier="Northwind Supply",
            actor=ACTOR,
            lines=[PlannedLine(laptop.id, 2, ["SN-LT-0005", "SN-LT-0006"])],
        )
    async with sessions.begin() as session:
        lines = list(
            await session.scalars(
                select(ReceivingLine)
                .where(ReceivingLine.order_id == order.id)
                .order_by(ReceivingLine.line_number)
            )
        )
        # Expiry is counted in the warehouse's own days: "in 10 days" stays true at any hour.
        today = warehouse_today(warehouse.time_zone, utc_now())
        result = await receiving.receive(
            session,
            order_id=order.id,
            actor=ACTOR,
            lines=[
                LineReceipt(lines[0].id, serial_numbers=[f"SN-LT-{n:04d}" for n in range(1, 5)]),
                LineReceipt(
                    lines[1].id,
                    lots=[
                        LotEntry("LOT-2026A", 80, today + timedelta(days=60)),
                        LotEntry("LOT-2026B", 40, today + timedelta(days=10)),
                    ],
                ),
                LineReceipt(lines[2].id, quantity=50),
            ],
        )
        storage = list(
            await session.scalars(
                select(Location.id)
                .where(
                    Location.warehouse_id == order.warehouse_id,
                    Location.kind == LocationKind.STORAGE,
                )
                .order_by(Location.code)
            )
        )
        # Leave the last task open so the putaway screen has work to show.
        for task, location_id in zip(result.putaway_tasks[:-1], storage, strict=False):
            await putaway.complete_putaway(
                session,
                task_id=task.id,
                actor=ACTOR,
                placements=[putaway.Placement(location_id, task.quantity)],
            )
    return True
