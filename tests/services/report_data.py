"""A known warehouse state for the report tests, built only through the services
(receiving and putaway), with expiry dates relative to a given day.

WH1 (Europe/Amsterdam) and WH2 (America/New_York), each with DOCK, A-01 and A-02.

Lot-tracked VIT (expiries relative to `today`, WH1's date at report time):
    lot         expiry      where (quantity)          received
    L-EXPIRED   today - 1   WH1 A-01 (3), WH2 A-01 (1)  first receipt
    L-TODAY     today       WH1 DOCK (2), not put away  first receipt
    L-SOON      today + 4   WH1 A-02 (5)                first receipt
    L-SOON-B    today + 4   WH1 A-01 (4)                second receipt, an hour later
    L-LATER     today + 14  WH1 A-01 (6), A-02 (4)      first receipt
    L-UNDATED   none        WH1 A-01 (7)                first receipt
Serial-tracked SER: S-1 in WH1 A-01 and S-2 in A-02 (IN_INVENTORY), S-3 on WH1 DOCK
(RECEIVED), S-4 EXPECTED, S-9 RELEASED (its ASN cancelled); S-20 in WH2 A-01.
Untracked BOX: 20 in WH1 A-02.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models import Tracking
from services.putaway import Placement
from services.receiving import LineReceipt, LotEntry, cancel_receiving_order
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    Site,
    expect,
    make_product,
    make_site,
    plan_asn,
    put_away,
    receive_lines,
)

LOT_GTIN = "09506000134369"
SERIAL_GTIN = "09506000134352"


@dataclass(frozen=True)
class ReportData:
    wh1: Site
    wh2: Site
    vit: int
    ser: int
    box: int
    lots: dict[str, int]  # lot number -> lot id


async def build_report_data(db: Database, *, today: date, received_at: datetime) -> ReportData:
    """`received_at` must be before `today - 1` (an expired lot cannot be received)."""
    wh1 = await make_site(db, "WH1", time_zone="Europe/Amsterdam")
    wh2 = await make_site(db, "WH2", time_zone="America/New_York")
    vit = await make_product(db, "VIT", Tracking.LOT, gtin=LOT_GTIN)
    ser = await make_product(db, "SER", Tracking.SERIAL, gtin=SERIAL_GTIN)
    box = await make_product(db, "BOX", Tracking.NONE)
    day = timedelta(days=1)

    # Lots, first receipt in WH1: one task per lot, in the order given.
    entries = [
        LotEntry("L-EXPIRED", 3, today - day),
        LotEntry("L-TODAY", 2, today),
        LotEntry("L-SOON", 5, today + 4 * day),
        LotEntry("L-LATER", 10, today + 14 * day),
        LotEntry("L-UNDATED", 7, None),
    ]
    asn = await plan_asn(db, wh1, "ASN-LOTS-1", expect(vit, 27), expect(box, 20))
    result = await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], lots=entries),
        LineReceipt(asn.line_ids[1], quantity=20),
        now=received_at,
    )
    expired, _today, soon, later, undated, boxes = result.putaway_tasks
    await put_away(db, expired.id, Placement(wh1.a01, 3))
    await put_away(db, soon.id, Placement(wh1.a02, 5))
    await put_away(db, later.id, Placement(wh1.a01, 6), Placement(wh1.a02, 4))
    await put_away(db, undated.id, Placement(wh1.a01, 7))
    await put_away(db, boxes.id, Placement(wh1.a02, 20))
    lots = {lot.lot_number: lot.id for lot in result.lots}

    asn = await plan_asn(db, wh1, "ASN-LOTS-2", expect(vit, 4))
    result = await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], lots=[LotEntry("L-SOON-B", 4, today + 4 * day)]),
        now=received_at + timedelta(hours=1),
    )
    await put_away(db, result.putaway_tasks[0].id, Placement(wh1.a01, 4))
    lots["L-SOON-B"] = result.lots[0].id

    asn = await plan_asn(db, wh2, "ASN-LOTS-3", expect(vit, 1))
    result = await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], lots=[LotEntry("L-EXPIRED", 1, today - day)]),
        now=received_at,
    )
    await put_away(db, result.putaway_tasks[0].id, Placement(wh2.a01, 1))

    # Serials.
    asn = await plan_asn(db, wh1, "ASN-SER-1", expect(ser, 4, "S-1", "S-2", "S-3", "S-4"))
    result = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["S-1", "S-2"]), now=received_at
    )
    await put_away(
        db,
        result.putaway_tasks[0].id,
        Placement(wh1.a01, 1, ["S-1"]),
        Placement(wh1.a02, 1, ["S-2"]),
    )
    await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["S-3"]), now=received_at
    )
    asn = await plan_asn(db, wh1, "ASN-SER-2", expect(ser, 1, "S-9"))
    async with db.sessions.begin() as session:
        await cancel_receiving_order(session, order_id=asn.order_id, actor=ACTOR)
    asn = await plan_asn(db, wh2, "ASN-SER-3", expect(ser, 1))
    result = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["S-20"]), now=received_at
    )
    await put_away(db, result.putaway_tasks[0].id, Placement(wh2.a01, 1))

    return ReportData(wh1, wh2, vit, ser, box, lots)
