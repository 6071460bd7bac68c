"""Imports tell live subscribers what they changed, like any other write: each serial's
status and each lot's stock, once the import has committed and never before (both engines,
each with the bus it runs in production)."""

import io

import pytest
from sqlalchemy import select

from models import Lot, ReceivingOrderStatus, Serial
from services import events as events_module
from services.events import (
    EventBus,
    EventKind,
    FellBehind,
    InProcessBus,
    slice_ranges,
)
from services.imports import ImportKind, ImportReport, import_csv
from services.queries import key_values
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    expect,
    lot_product,
    make_site,
    plan_asn,
    serial_product,
)
from tests.services.test_events import received

SERIAL_HEADER = "sku,serial_number,warehouse,location\n"
LOT_HEADER = "sku,lot_number,expiry_date,quantity,warehouse,location\n"
ASN_HEADER = "asn,line,serial_number\n"


async def run(
    db: Database, bus: EventBus, kind: ImportKind, text: str, *, dry_run: bool = False
) -> ImportReport:
    return await import_csv(
        db.sessions,
        kind,
        io.StringIO(text),
        actor=ACTOR,
        dry_run=dry_run,
        reference="OPEN-1",
        bus=bus,
        read_sessions=db.read_sessions,
    )


async def serial_ids(db: Database) -> dict[str, int]:
    async with db.read_sessions() as session:
        return await key_values(session, select(Serial.serial_number, Serial.id))


async def test_opening_serials_are_announced_one_event_each(
    db: Database, production_bus: EventBus
) -> None:
    site = await make_site(db)
    scanner = await serial_product(db, "SCANNER")
    other = await serial_product(db, "OTHER")
    mine = production_bus.subscribe({EventKind.SERIAL_STATUS}, lambda e: e.product_id == scanner)

    report = await run(
        db,
        production_bus,
        ImportKind.OPENING_SERIALS,
        SERIAL_HEADER + "SCANNER,SN-1,WH1,A-01\nOTHER,O-1,WH1,A-01\nSCANNER,SN-2,WH1,A-02\n",
    )

    assert report.committed, report.errors
    got = await received(mine, 2)
    ids = await serial_ids(db)
    assert [(e.subject_id, e.from_status, e.to_status) for e in got] == [
        (ids["SN-1"], None, "IN_INVENTORY"),
        (ids["SN-2"], None, "IN_INVENTORY"),
    ]
    assert {(e.warehouse_id, e.actor, len(e.movement_ids)) for e in got} == {
        (site.warehouse_id, ACTOR, 1)
    }
    assert other not in {e.product_id for e in got}


async def test_opening_lots_are_announced_once_per_lot(
    db: Database, production_bus: EventBus
) -> None:
    await make_site(db)
    glue = await lot_product(db, "GLUE")
    lots = production_bus.subscribe({EventKind.LOT_STOCK})

    report = await run(
        db,
        production_bus,
        ImportKind.OPENING_LOTS,
        LOT_HEADER + "GLUE,L-1,2030-01-31,10,WH1,A-01\n"
        "GLUE,L-2,2030-02-28,5,WH1,A-01\n"
        "GLUE,l-1,,2,WH1,A-02\n",  # the same lot, another place: still one event
    )

    assert report.committed, report.errors
    got = await received(lots, 2)
    async with db.read_sessions() as session:
        lot_ids = await key_values(session, select(Lot.lot_number, Lot.id))
    assert sorted(e.subject_id for e in got) == sorted([lot_ids["L-1"], lot_ids["L-2"]])
    assert {(e.kind, e.product_id) for e in got} == {(EventKind.LOT_STOCK, glue)}
    assert {len(e.movement_ids) for e in got} == {1, 2}


async def test_serials_received_by_file_are_announced_like_a_receipt(
    db: Database, production_bus: EventBus
) -> None:
    site = await make_site(db)
    scanner = await serial_product(db, "SCANNER")
    asn = await plan_asn(db, site, "ASN-1", expect(scanner, 2, "E-1", "E-2"))
    everything = production_bus.subscribe({EventKind.SERIAL_STATUS, EventKind.RECEIVING_ORDER})

    report = await run(
        db, production_bus, ImportKind.RECEIVED_SERIALS, ASN_HEADER + "ASN-1,1,E-1\nASN-1,1,E-2\n"
    )

    assert report.committed, report.errors
    got = await received(everything, 3)
    ids = await serial_ids(db)
    serials = [
        (e.subject_id, e.from_status, e.to_status) for e in got if e.kind is EventKind.SERIAL_STATUS
    ]
    assert sorted(serials) == sorted(
        [(ids["E-1"], "EXPECTED", "RECEIVED"), (ids["E-2"], "EXPECTED", "RECEIVED")]
    )
    orders = [e for e in got if e.kind is EventKind.RECEIVING_ORDER]
    assert [(e.subject_id, e.to_status) for e in orders] == [
        (asn.order_id, ReceivingOrderStatus.RECEIVED.value)
    ]


async def test_a_refused_import_and_a_dry_run_announce_nothing(db: Database) -> None:
    await make_site(db)
    await serial_product(db, "SCANNER")
    bus = InProcessBus()
    everything = bus.subscribe({EventKind.SERIAL_STATUS})

    refused = await run(db, bus, ImportKind.OPENING_SERIALS, SERIAL_HEADER + "NOPE,SN-1,WH1,A-01\n")
    dry = await run(
        db, bus, ImportKind.OPENING_SERIALS, SERIAL_HEADER + "SCANNER,SN-1,WH1,A-01\n", dry_run=True
    )
    real = await run(db, bus, ImportKind.OPENING_SERIALS, SERIAL_HEADER + "SCANNER,SN-9,WH1,A-01\n")

    assert (refused.committed, dry.committed, real.committed) == (False, False, True)
    got = await received(everything, 1)
    assert [e.subject_id for e in got] == [(await serial_ids(db))["SN-9"]]
    assert bus.delivered_events == 1


async def test_a_large_import_is_read_back_a_slice_at_a_time(
    db: Database, production_bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However large the import, subscribers get every serial's event in order, and the
    server holds one slice of them at a time; a subscriber whose queue cannot hold the
    import falls behind (and reads afresh) as it would with any burst."""
    monkeypatch.setattr(events_module, "RANGE_SLICE", 7)
    await make_site(db)
    scanner = await serial_product(db, "SCANNER")
    follower = production_bus.subscribe({EventKind.SERIAL_STATUS})
    small = production_bus.subscribe({EventKind.SERIAL_STATUS}, max_queue=10)
    numbers = [f"SN-{i:03d}" for i in range(30)]

    report = await run(
        db,
        production_bus,
        ImportKind.OPENING_SERIALS,
        SERIAL_HEADER + "".join(f"SCANNER,{n},WH1,A-01\n" for n in numbers),
    )

    assert report.committed, report.errors
    got = await received(follower, 30)
    ids = await serial_ids(db)
    assert [e.subject_id for e in got] == [ids[n] for n in numbers]
    assert {e.product_id for e in got} == {scanner}
    with pytest.raises(FellBehind):
        await received(small, 30)


async def test_nothing_is_read_back_while_nobody_listens(db: Database) -> None:
    await make_site(db)
    await serial_product(db, "SCANNER")

    def no_reading() -> None:
        raise AssertionError("the import's movements were read back for nobody")

    report = await import_csv(
        db.sessions,
        ImportKind.OPENING_SERIALS,
        io.StringIO(SERIAL_HEADER + "SCANNER,SN-1,WH1,A-01\n"),
        actor=ACTOR,
        bus=InProcessBus(),
        read_sessions=no_reading,  # type: ignore[arg-type]
    )

    assert report.committed, report.errors


def test_id_ranges_are_cut_into_slices_in_order() -> None:
    assert list(slice_ranges([(1, 5), (8, 8), (10, 20)], 4)) == [
        [(1, 4)],
        [(5, 5), (8, 8), (10, 11)],
        [(12, 15)],
        [(16, 19)],
        [(20, 20)],
    ]
    assert list(slice_ranges([], 4)) == []
