"""A warehouse history for the audit tests, and a way past the append-only triggers."""

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from models import Movement, Tracking
from services.imports import ImportKind, import_csv
from services.receiving import LineReceipt
from tests.conftest import Database
from tests.services.builders import ACTOR, expect, make_product, plan_asn, receive_lines
from tests.services.epcis_data import build_epcis_data


async def movement_ids(db: Database) -> list[int]:
    async with db.read_sessions() as session:
        return list(await session.scalars(select(Movement.id).order_by(Movement.id)))


async def warehouse_history(db: Database) -> None:
    """Every kind of movement through the services, then imports of opening serials, of
    serials expected on an ASN line and of lots, then one more receipt."""
    data = await build_epcis_data(db)
    serials = await make_product(db, "IMP-SER", Tracking.SERIAL)
    await make_product(db, "IMP-LOT", Tracking.LOT)
    await plan_asn(db, data.site, "ASN-IMP", expect(serials, 2))
    for kind, csv in (
        (
            ImportKind.OPENING_SERIALS,
            "sku,serial_number,warehouse,location\n"
            + "".join(f"IMP-SER,IS-{i},WH1,A-0{1 + i % 2}\n" for i in range(9)),
        ),
        (
            ImportKind.OPENING_LOTS,
            "sku,lot_number,expiry_date,quantity,warehouse,location\n"
            "IMP-LOT,IL-1,2031-01-31,5,WH1,A-01\nIMP-LOT,il-1,,3,WH1,A-02\n"
            "IMP-LOT,IL-2,,4,WH1,A-01\n",
        ),
        (
            ImportKind.EXPECTED_SERIALS,
            "asn,line,serial_number\nASN-IMP,1,IE-1\nASN-IMP,1,IE-2\n",
        ),
    ):
        report = await import_csv(db.sessions, kind, io.StringIO(csv), actor=ACTOR)
        assert report.committed, report.errors
    asn = await plan_asn(db, data.site, "ASN-LAST", expect(data.box, 3))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], quantity=3))


@asynccontextmanager
async def past_the_triggers(db: Database) -> AsyncIterator[AsyncConnection]:
    """A connection that can rewrite movements: on PostgreSQL a superuser's replica mode
    (triggers do not fire), on SQLite the triggers dropped, as the file's owner could."""
    async with db.engine.begin() as connection:
        if db.name == "postgresql":
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            await connection.execute(text("DROP TRIGGER movement_no_update"))
            await connection.execute(text("DROP TRIGGER movement_no_delete"))
        yield connection
