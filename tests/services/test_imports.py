"""CSV import: every row is checked before anything is written; all or nothing."""

import io
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import MovementKind, SerialStatus, StockBalance, Tracking
from services import imports
from services.audit import verify_chain
from services.errors import ErrorCode
from services.imports import ImportKind, ImportReport, import_csv
from services.imports.serials import SerialImport
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    all_serials,
    expect,
    lot_product,
    lots_of,
    make_product,
    make_site,
    movements,
    plan_asn,
    serial_product,
    snapshot,
)
from trackline.db import create_engine, create_sessionmaker

GTIN = "09506000134352"  # a valid GTIN-14
JIT_SETTINGS = ("jit", "jit_above_cost")


async def run(db: Database, kind: ImportKind, text: str, *, dry_run: bool = False) -> ImportReport:
    return await import_csv(
        db.sessions, kind, io.StringIO(text), actor=ACTOR, dry_run=dry_run, reference="OPEN-1"
    )


async def refused_import(
    db: Database, kind: ImportKind, text: str
) -> list[tuple[int, str | None, ErrorCode]]:
    """Import a file that must be refused; prove nothing changed; the errors as tuples."""
    before = await snapshot(db)
    report = await run(db, kind, text)
    assert not report.ok
    assert not report.committed
    assert await snapshot(db) == before
    assert report.error_count == len(report.errors)
    return [(e.row, e.column, e.code) for e in report.sorted_errors()]


# ---------------------------------------------------------------- opening stock: serials


async def test_opening_serials_are_in_stock_with_a_movement_each(db: Database) -> None:
    site = await make_site(db)
    product = await make_product(db, "SCANNER", Tracking.SERIAL, gtin=GTIN)
    report = await run(
        db,
        ImportKind.OPENING_SERIALS,
        "sku,serial_number,warehouse,location\n"
        "SCANNER,SN-1,WH1,A-01\n"
        "SCANNER, sn-2 ,WH1,A-02\n"
        f"SCANNER,(01){GTIN}(21)SN-3,WH1,A-01\n"
        # Every other form a scanner sends: GS-separated with a symbology prefix,
        # "|"-separated, a Digital Link.
        f"SCANNER,]C101{GTIN}21SN-4\x1d10L-1,WH1,A-01\n"
        f"SCANNER,01{GTIN}21SN-5|10L-1,WH1,A-01\n"
        f"SCANNER,https://id.gs1.org/01/{GTIN}/21/SN-6,WH1,A-01\n",
    )
    assert report.ok, report.errors
    assert report.committed
    assert (report.rows, report.serials) == (6, 6)
    serials = {s.serial_number: s for s in await all_serials(db, product)}
    assert sorted(serials) == ["SN-1", "SN-3", "SN-4", "SN-5", "SN-6", "sn-2"]
    assert {s.status for s in serials.values()} == {SerialStatus.IN_INVENTORY}
    assert serials["sn-2"].location_id == site.a02
    assert serials["SN-1"].received_at is not None
    moved = await movements(db, product_id=product)
    assert sorted((m.serial_id, m.kind, m.to_status, m.to_location_id) for m in moved) == sorted(
        (s.id, MovementKind.OPENING_STOCK, SerialStatus.IN_INVENTORY, s.location_id)
        for s in serials.values()
    )
    assert {(m.document_type, m.document_number, m.actor) for m in moved} == {
        ("IMPORT", "OPEN-1", ACTOR)
    }


async def test_opening_serials_chained_chunk_by_chunk_verify(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening stock takes its serial ids, movement ids and hashes chunk by chunk as it is
    read: across chunks, after serials and movements that exist, and before new ones."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    site = await make_site(db)
    product = await serial_product(db, "SCANNER")
    await plan_asn(db, site, "ASN-1", expect(product, 2, "E-1", "E-2"))
    numbers = [f"SN-{i}" for i in range(10)]
    report = await run(
        db,
        ImportKind.OPENING_SERIALS,
        "sku,serial_number,warehouse,location\n"
        + "".join(f"SCANNER,{n},WH1,A-0{1 + i % 2}\n" for i, n in enumerate(numbers)),
    )
    assert report.committed, report.errors
    await plan_asn(db, site, "ASN-2", expect(product, 1, "E-3"))
    serials = await all_serials(db, product)
    assert [s.serial_number for s in serials] == ["E-1", "E-2", *numbers, "E-3"]
    opening = await movements(db, kind=MovementKind.OPENING_STOCK)
    number_of = {s.id: s.serial_number for s in serials}
    assert [(number_of.get(m.serial_id or 0), m.to_location_id) for m in opening] == [
        (n, site.a01 if i % 2 == 0 else site.a02) for i, n in enumerate(numbers)
    ]
    async with db.read_sessions() as session:
        check = await verify_chain(session)
    assert check.intact
    assert check.checked == 13  # two expected, ten opening, one expected


async def test_an_import_runs_without_jit_and_leaves_its_connection_as_it_was(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    await make_site(db)
    await make_product(db, "SCANNER", Tracking.SERIAL)
    seen: list[str] = []
    check_set = SerialImport.check_set

    async def checking(self: SerialImport, session: AsyncSession, report: ImportReport) -> None:
        seen.append(str(await session.scalar(text("SHOW jit_above_cost"))))
        await check_set(self, session, report)

    monkeypatch.setattr(SerialImport, "check_set", checking)
    # One connection, so the one the import used is the one asked afterwards. The serial
    # ids come as an array, whose type asyncpg looks up on a new connection (staging.create
    # says why that matters).
    engine = create_engine(db.url, pool_size=1, max_overflow=0)
    try:
        report = await import_csv(
            create_sessionmaker(engine),
            ImportKind.OPENING_SERIALS,
            io.StringIO("sku,serial_number,warehouse,location\nSCANNER,SN-1,WH1,A-01\n"),
            actor=ACTOR,
        )
        async with engine.connect() as connection:
            after = [await connection.scalar(text(f"SHOW {name}")) for name in JIT_SETTINGS]
    finally:
        await engine.dispose()
    assert report.committed
    assert seen == ["-1"]
    assert after == ["on", "100000"]


async def test_a_product_may_be_named_by_gtin(db: Database) -> None:
    await make_site(db)
    product = await make_product(db, "SCANNER", Tracking.SERIAL, gtin=GTIN)
    report = await run(
        db,
        ImportKind.OPENING_SERIALS,
        "GTIN,Serial Number,Warehouse,Location\n9506000134352,SN-9,WH1,A-01\n",
    )
    assert report.committed
    assert [s.serial_number for s in await all_serials(db, product)] == ["SN-9"]


async def test_every_serial_row_error_is_reported_and_nothing_is_written(db: Database) -> None:
    await make_site(db)
    await make_product(db, "SCANNER", Tracking.SERIAL, gtin=GTIN)
    await lot_product(db, "GLUE")
    await run(
        db,
        ImportKind.OPENING_SERIALS,
        "sku,serial_number,warehouse,location\nSCANNER,OLD-1,WH1,A-01\n",
    )
    errors = await refused_import(
        db,
        ImportKind.OPENING_SERIALS,
        "sku,serial_number,warehouse,location\n"
        "SCANNER,OK-1,WH1,A-01\n"  # 2: fine
        "NOPE,X-1,WH1,A-01\n"  # 3
        "GLUE,X-2,WH1,A-01\n"  # 4
        "SCANNER,,WH1,A-01\n"  # 5
        f"SCANNER,{'9' * 65},WH1,A-01\n"  # 6
        "SCANNER,X-3,WH1,Z-99\n"  # 7
        "SCANNER,X-4,WH1,DOCK\n"  # 8
        "SCANNER,X\x075,WH1,A-01\n"  # 9
        "SCANNER,OK-1,WH1,A-02\n"  # 10: duplicate of row 2
        "SCANNER,OLD-1,WH1,A-01\n"  # 11: exists
        "SCANNER,X-6,WH1\n"  # 12
        "SCANNER,(01)09506000134369(21)X-7,WH1,A-01\n"  # 13: another GTIN
        "SCANNER,(01)09506000134353(21)X-8,WH1,A-01\n"  # 14: bad check digit
        ",X-9,WH1,A-01\n"  # 15
        "SCANNER,X\x1d10,WH1,A-01\n",  # 16: a group separator, but not a GS1 label
    )
    assert errors == [
        (3, "sku", ErrorCode.UNKNOWN_PRODUCT),
        (4, "sku", ErrorCode.SERIALS_NOT_ALLOWED),
        (5, "serial_number", ErrorCode.EMPTY_VALUE),
        (6, "serial_number", ErrorCode.VALUE_TOO_LONG),
        (7, "location", ErrorCode.UNKNOWN_LOCATION),
        (8, "location", ErrorCode.LOCATION_NOT_STORAGE),
        (9, "serial_number", ErrorCode.INVALID_VALUE),
        (10, "serial_number", ErrorCode.DUPLICATE_SERIAL),
        (11, "serial_number", ErrorCode.SERIAL_ALREADY_EXISTS),
        (12, None, ErrorCode.MALFORMED_ROW),
        (13, "serial_number", ErrorCode.GTIN_MISMATCH),
        (14, "serial_number", ErrorCode.INVALID_SCAN),
        (15, "sku", ErrorCode.EMPTY_VALUE),
        (16, "serial_number", ErrorCode.INVALID_SCAN),
    ]


async def test_header_problems_are_reported_on_row_one(db: Database) -> None:
    await make_site(db)
    await serial_product(db, "SCANNER")
    kind = ImportKind.OPENING_SERIALS
    assert await refused_import(db, kind, "") == [(1, None, ErrorCode.EMPTY_FILE)]
    assert await refused_import(db, kind, "sku,serial_number,warehouse,location\n") == [
        (1, None, ErrorCode.EMPTY_FILE)
    ]
    assert await refused_import(db, kind, "sku,serial,warehouse,location,sku\nA,B,C,D,E\n") == [
        (1, "serial", ErrorCode.UNKNOWN_COLUMN),
        (1, "serial_number", ErrorCode.MISSING_COLUMN),
        (1, "sku", ErrorCode.DUPLICATE_COLUMN),
    ]
    assert await refused_import(db, kind, "serial_number,warehouse,location\nB,C,D\n") == [
        (1, "sku", ErrorCode.MISSING_COLUMN)
    ]
    assert await refused_import(db, kind, 'sku,serial_number,warehouse,location\n"A,B,C,D\n') == [
        (2, None, ErrorCode.MALFORMED_ROW)
    ]


async def test_a_dry_run_reports_the_same_and_writes_nothing(db: Database) -> None:
    await make_site(db)
    product = await serial_product(db, "SCANNER")
    text = "sku,serial_number,warehouse,location\nSCANNER,SN-1,WH1,A-01\nSCANNER,SN-2,WH1,A-01\n"
    before = await snapshot(db)
    dry = await run(db, ImportKind.OPENING_SERIALS, text, dry_run=True)
    assert (dry.ok, dry.committed, dry.dry_run, dry.rows, dry.serials) == (True, False, True, 2, 2)
    assert await snapshot(db) == before
    bad = text + "SCANNER,SN-1,WH1,A-01\n"
    dry_bad = await run(db, ImportKind.OPENING_SERIALS, bad, dry_run=True)
    real_bad = await run(db, ImportKind.OPENING_SERIALS, bad)
    assert dry_bad.errors == real_bad.errors != []
    assert await snapshot(db) == before
    real = await run(db, ImportKind.OPENING_SERIALS, text)
    assert real.committed
    assert real.serials == 2
    assert len(await all_serials(db, product)) == 2


async def test_only_the_first_thousand_errors_are_listed_but_all_are_counted(db: Database) -> None:
    await make_site(db)
    await serial_product(db, "SCANNER")
    rows = "".join(f"NOPE,SN-{i},WH1,A-01\n" for i in range(1500))
    report = await run(
        db, ImportKind.OPENING_SERIALS, "sku,serial_number,warehouse,location\n" + rows
    )
    assert report.error_count == 1500
    assert len(report.errors) == 1000
    duplicates = "".join("SCANNER,SAME,WH1,A-01\n" for _ in range(1500))
    report = await run(
        db, ImportKind.OPENING_SERIALS, "sku,serial_number,warehouse,location\n" + duplicates
    )
    assert report.error_count == 1499
    assert len(report.errors) == 1000
    assert report.sorted_errors()[0].row == 3


# ---------------------------------------------------------------- opening stock: lots


LOT_HEADER = "sku,lot_number,expiry_date,quantity,warehouse,location\n"


async def test_opening_lots_create_lots_balances_and_movements(db: Database) -> None:
    site = await make_site(db)
    product = await make_product(db, "GLUE", Tracking.LOT, gtin=GTIN)
    report = await run(
        db,
        ImportKind.OPENING_LOTS,
        LOT_HEADER + "GLUE,Lot-A,,10,WH1,A-01\n"  # the expiry comes from a later row
        "GLUE,LOT-a,2030-01-31,5,WH1,A-02\n"  # the same lot, another place
        "GLUE,lot-A,,2,WH1,A-01\n"
        f"GLUE,(01){GTIN}(17)291200(10)B-7,,4,WH1,A-01\n"  # a scanned label, day 00
        f"GLUE,]C101{GTIN}10B-7\x1d17291200,,1,WH1,A-01\n",  # the same, GS-separated
    )
    assert report.committed, report.errors
    assert (report.rows, report.lots_created, report.quantity) == (5, 2, 22)
    lots = {lot.lot_number: lot for lot in await lots_of(db, product)}
    assert sorted(lots) == ["B-7", "Lot-A"]  # the case first written
    assert lots["Lot-A"].expiry_date == date(2030, 1, 31)
    assert lots["B-7"].expiry_date == date(2029, 12, 31)
    async with db.read_sessions() as session:
        balances = sorted(
            (b.lot_id, b.location_id, b.quantity, b.allocated_quantity)
            for b in await session.scalars(select(StockBalance))
        )
    a, b7 = lots["Lot-A"].id, lots["B-7"].id
    assert balances == sorted([(a, site.a01, 12, 0), (a, site.a02, 5, 0), (b7, site.a01, 5, 0)])
    moved = sorted(
        (m.lot_id, m.quantity, m.to_location_id, m.kind)
        for m in await movements(db, product_id=product)
    )
    assert moved == sorted(
        [
            (a, 10, site.a01, MovementKind.OPENING_STOCK),
            (a, 5, site.a02, MovementKind.OPENING_STOCK),
            (a, 2, site.a01, MovementKind.OPENING_STOCK),
            (b7, 4, site.a01, MovementKind.OPENING_STOCK),
            (b7, 1, site.a01, MovementKind.OPENING_STOCK),
        ]
    )


async def test_opening_stock_adds_to_a_known_lot(db: Database) -> None:
    await make_site(db)
    product = await lot_product(db, "GLUE")
    first = await run(db, ImportKind.OPENING_LOTS, LOT_HEADER + "GLUE,L1,2030-01-31,3,WH1,A-01\n")
    second = await run(db, ImportKind.OPENING_LOTS, LOT_HEADER + "GLUE,l1,,4,WH1,A-01\n")
    assert first.committed
    assert second.committed
    assert (first.lots_created, second.lots_created) == (1, 0)
    [lot] = await lots_of(db, product)
    async with db.read_sessions() as session:
        on_hand = await session.scalar(
            select(func.sum(StockBalance.quantity)).where(StockBalance.lot_id == lot.id)
        )
    assert (lot.lot_number, on_hand) == ("L1", 7)


async def test_every_lot_row_error_is_reported_and_nothing_is_written(db: Database) -> None:
    await make_site(db)
    await make_product(db, "GLUE", Tracking.LOT, gtin=GTIN)
    await serial_product(db, "SCANNER")
    await run(db, ImportKind.OPENING_LOTS, LOT_HEADER + "GLUE,OLD,2030-01-31,1,WH1,A-01\n")
    errors = await refused_import(
        db,
        ImportKind.OPENING_LOTS,
        LOT_HEADER + "GLUE,L1,2030-01-31,10,WH1,A-01\n"  # 2: fine
        "GLUE,L2,31/01/2030,1,WH1,A-01\n"  # 3
        "GLUE,L3,,ten,WH1,A-01\n"  # 4
        "GLUE,L4,,0,WH1,A-01\n"  # 5
        "GLUE,L5,,-2,WH1,A-01\n"  # 6
        "SCANNER,L6,,1,WH1,A-01\n"  # 7
        "GLUE,l1,2030-02-28,1,WH1,A-01\n"  # 8: L1 said otherwise on row 2
        "GLUE,old,2031-01-01,1,WH1,A-01\n"  # 9: recorded otherwise
        f"GLUE,(01){GTIN}(17)300101(10)L7,2030-01-02,1,WH1,A-01\n"  # 10: label disagrees
        "GLUE,,,1,WH1,A-01\n"  # 11
        "GLUE,L8,2030-02-30,1,WH1,A-01\n",  # 12: no such day
    )
    assert errors == [
        (3, "expiry_date", ErrorCode.INVALID_DATE),
        (4, "quantity", ErrorCode.INVALID_QUANTITY),
        (5, "quantity", ErrorCode.QUANTITY_NOT_POSITIVE),
        (6, "quantity", ErrorCode.QUANTITY_NOT_POSITIVE),
        (7, "sku", ErrorCode.LOTS_NOT_ALLOWED),
        (8, "expiry_date", ErrorCode.LOT_EXPIRY_CONFLICT),
        (9, "expiry_date", ErrorCode.LOT_EXPIRY_CONFLICT),
        (10, "lot_number", ErrorCode.EXPIRY_MISMATCH),
        (11, "lot_number", ErrorCode.EMPTY_VALUE),
        (12, "expiry_date", ErrorCode.INVALID_DATE),
    ]


async def test_expired_opening_stock_is_recorded_so_it_is_never_shipped(db: Database) -> None:
    await make_site(db)
    product = await lot_product(db, "GLUE")
    report = await run(db, ImportKind.OPENING_LOTS, LOT_HEADER + "GLUE,OLD,2001-01-31,3,WH1,A-01\n")
    assert report.committed
    [lot] = await lots_of(db, product)
    assert lot.expiry_date == date(2001, 1, 31)


# ---------------------------------------------------------------- serials on ASN lines


ASN_HEADER = "asn,line,serial_number\n"


async def test_expected_serials_join_their_asn_line(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db, "SCANNER")
    asn = await plan_asn(db, site, "ASN-1", expect(product, 3))
    report = await run(
        db, ImportKind.EXPECTED_SERIALS, ASN_HEADER + "ASN-1,1,E-1\nASN-1,1,E-2\nASN-1,1,E-3\n"
    )
    assert report.committed
    assert report.serials == 3
    serials = await all_serials(db, product)
    assert {(s.serial_number, s.status, s.receiving_line_id) for s in serials} == {
        (n, SerialStatus.EXPECTED, asn.line_ids[0]) for n in ("E-1", "E-2", "E-3")
    }
    moved = await movements(db, product_id=product, kind=MovementKind.EXPECT)
    assert {(m.document_type, m.document_number) for m in moved} == {("RECEIVING_ORDER", "ASN-1")}
    assert len(moved) == 3


async def test_expected_serial_refusals(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db, "SCANNER")
    glue = await lot_product(db, "GLUE")
    await plan_asn(db, site, "ASN-1", expect(product, 1), expect(glue, 5), expect(product, 3))
    await plan_asn(db, site, "ASN-2", expect(product, 1, "E-1"))
    errors = await refused_import(
        db,
        ImportKind.EXPECTED_SERIALS,
        ASN_HEADER + "ASN-1,1,E-2\n"  # 2: fine, fills the line
        "ASN-1,1,E-3\n"  # 3: one more than expected
        "ASN-1,2,E-4\n"  # 4: a lot line
        "ASN-1,4,E-5\n"  # 5
        "ASN-9,1,E-6\n"  # 6
        "ASN-1,x,E-7\n"  # 7
        "ASN-1,3,E-1\n"  # 8: expected on ASN-2 already; and line 3 expects 3
        "ASN-2,1,E-8\n",  # 9: the line has its serial already
    )
    assert errors == [
        (3, "line", ErrorCode.EXPECTED_QUANTITY_EXCEEDED),
        (4, "line", ErrorCode.SERIALS_NOT_ALLOWED),
        (5, "line", ErrorCode.UNKNOWN_RECEIVING_LINE),
        (6, "line", ErrorCode.UNKNOWN_RECEIVING_LINE),
        (7, "line", ErrorCode.INVALID_QUANTITY),
        (8, "line", ErrorCode.SERIAL_COUNT_MISMATCH),
        (8, "serial_number", ErrorCode.SERIAL_ALREADY_EXISTS),
        (9, "line", ErrorCode.EXPECTED_QUANTITY_EXCEEDED),
    ]


async def test_received_serials_are_received_like_a_scan_at_the_dock(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db, "SCANNER")
    listed = await plan_asn(db, site, "ASN-1", expect(product, 2, "E-1", "E-2"))
    open_line = await plan_asn(db, site, "ASN-2", expect(product, 2))
    report = await run(
        db,
        ImportKind.RECEIVED_SERIALS,
        ASN_HEADER + "ASN-1,1,E-1\nASN-1,1,E-2\nASN-2,1,N-1\n",
    )
    assert report.committed, report.errors
    assert report.serials == 3
    serials = {s.serial_number: s for s in await all_serials(db, product)}
    assert {n: s.status for n, s in serials.items()} == {
        "E-1": SerialStatus.RECEIVED,
        "E-2": SerialStatus.RECEIVED,
        "N-1": SerialStatus.RECEIVED,
    }
    assert serials["N-1"].receiving_line_id == open_line.line_ids[0]
    assert serials["E-1"].location_id == site.dock
    received = await movements(db, product_id=product, kind=MovementKind.RECEIVE)
    assert len(received) == 3
    assert listed.order_id != open_line.order_id


async def test_received_serial_refusals(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db, "SCANNER")
    await plan_asn(db, site, "ASN-1", expect(product, 2, "E-1", "E-2"))
    await plan_asn(db, site, "ASN-2", expect(product, 1))
    errors = await refused_import(
        db,
        ImportKind.RECEIVED_SERIALS,
        ASN_HEADER + "ASN-1,1,E-1\n"  # 2: fine
        "ASN-1,1,X-1\n"  # 3: not on the list
        "ASN-2,1,E-2\n",  # 4: expected on another ASN
    )
    assert errors == [
        (3, "serial_number", ErrorCode.SERIAL_NOT_EXPECTED),
        (4, "serial_number", ErrorCode.SERIAL_ALREADY_EXISTS),
    ]
    over = await refused_import(
        db, ImportKind.RECEIVED_SERIALS, ASN_HEADER + "ASN-2,1,N-1\nASN-2,1,N-2\n"
    )
    assert [(row, code) for row, _, code in over] == [(2, ErrorCode.OVER_RECEIPT)]
