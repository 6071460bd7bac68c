"""Warehouses, locations and products: what is created, and what is refused."""

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from models import (
    AllocationStrategy,
    Location,
    LocationKind,
    Product,
    Tracking,
    Warehouse,
)
from services.catalog import (
    LocationSpec,
    create_location,
    create_product,
    create_warehouse,
    product_has_history,
    tracking_from_flags,
    update_product,
)
from services.errors import ErrorCode, Refused
from services.receiving import (
    LineReceipt,
    LotEntry,
    cancel_receiving_order,
    close_receiving_order,
)
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    Asn,
    Site,
    codes,
    expect,
    get,
    make_product,
    make_site,
    plan_asn,
    receive_lines,
    refused,
)

# ---------------------------------------------------------------- warehouses


async def test_create_warehouse_with_locations(db: Database) -> None:
    async with db.sessions.begin() as session:
        warehouse = await create_warehouse(
            session,
            code="  WH1 ",
            name=" Main ",
            time_zone="Europe/Berlin",
            locations=[
                LocationSpec(" DOCK ", LocationKind.RECEIVING),
                LocationSpec("A-01", LocationKind.STORAGE),
            ],
        )
    async with db.read_sessions() as session:
        stored = await session.get(Warehouse, warehouse.id)
        assert stored is not None
        assert (stored.code, stored.name, stored.time_zone) == ("WH1", "Main", "Europe/Berlin")
        assert stored.allocation_strategy is AllocationStrategy.FEFO
        locations = (
            await session.execute(
                select(Location.code, Location.kind, Location.warehouse_id).order_by(Location.id)
            )
        ).all()
    assert [tuple(r) for r in locations] == [
        ("DOCK", LocationKind.RECEIVING, warehouse.id),
        ("A-01", LocationKind.STORAGE, warehouse.id),
    ]


async def test_create_warehouse_with_fifo(db: Database) -> None:
    async with db.sessions.begin() as session:
        warehouse = await create_warehouse(
            session,
            code="WH1",
            name="Main",
            time_zone="UTC",
            allocation_strategy=AllocationStrategy.FIFO,
        )
    assert (await get(db, Warehouse, warehouse.id)).allocation_strategy is AllocationStrategy.FIFO


async def test_duplicate_warehouse_code_is_refused(db: Database) -> None:
    await make_site(db, "WH1")
    problems = await refused(
        db, lambda s: create_warehouse(s, code=" WH1 ", name="Again", time_zone="UTC")
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_CODE, "code")]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "utc+2", "", "../../etc/passwd", "UTC "])
async def test_invalid_time_zone_is_refused(db: Database, zone: str) -> None:
    problems = await refused(
        db, lambda s: create_warehouse(s, code="WH1", name="M", time_zone=zone)
    )
    assert codes(problems) == [(ErrorCode.INVALID_TIME_ZONE, "timeZone")]


async def test_warehouse_problems_are_reported_together(db: Database) -> None:
    problems = await refused(
        db,
        lambda s: create_warehouse(
            s,
            code=" ",
            name="x" * 201,
            time_zone="Nowhere/City",
            locations=[
                LocationSpec("A-01", LocationKind.STORAGE),
                LocationSpec("", LocationKind.STORAGE),
                LocationSpec(" A-01", LocationKind.STORAGE),
            ],
        ),
    )
    assert codes(problems) == [
        (ErrorCode.INVALID_VALUE, "code"),
        (ErrorCode.INVALID_VALUE, "name"),
        (ErrorCode.INVALID_TIME_ZONE, "timeZone"),
        (ErrorCode.DUPLICATE_CODE, "locations.0.code"),
        (ErrorCode.INVALID_VALUE, "locations.1.code"),
        (ErrorCode.DUPLICATE_CODE, "locations.2.code"),
    ]


# ---------------------------------------------------------------- locations


async def test_create_location(db: Database) -> None:
    site = await make_site(db)
    async with db.sessions.begin() as session:
        location = await create_location(
            session, warehouse_id=site.warehouse_id, code=" B-01 ", kind=LocationKind.STORAGE
        )
    stored = await get(db, Location, location.id)
    assert (stored.warehouse_id, stored.code, stored.kind) == (
        site.warehouse_id,
        "B-01",
        LocationKind.STORAGE,
    )


async def test_duplicate_location_code_is_refused_within_a_warehouse(db: Database) -> None:
    site = await make_site(db)
    problems = await refused(
        db,
        lambda s: create_location(
            s, warehouse_id=site.warehouse_id, code="A-01 ", kind=LocationKind.STORAGE
        ),
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_CODE, "code")]


async def test_same_location_code_in_another_warehouse_is_fine(db: Database) -> None:
    first = await make_site(db, "WH1")
    other = await make_site(db, "WH2")
    async with db.sessions.begin() as session:
        await create_location(
            session, warehouse_id=other.warehouse_id, code="B-01", kind=LocationKind.STORAGE
        )
        await create_location(
            session, warehouse_id=first.warehouse_id, code="B-01", kind=LocationKind.PACKING
        )
    async with db.read_sessions() as session:
        rows = await session.execute(
            select(Location.warehouse_id, Location.kind).where(Location.code == "B-01")
        )
        found = sorted((r.warehouse_id, r.kind) for r in rows)
    assert found == [
        (first.warehouse_id, LocationKind.PACKING),
        (other.warehouse_id, LocationKind.STORAGE),
    ]


async def test_location_in_unknown_warehouse_is_refused(db: Database) -> None:
    problems = await refused(
        db, lambda s: create_location(s, warehouse_id=999, code="X", kind=LocationKind.STORAGE)
    )
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "warehouseId")]


async def test_empty_location_code_is_refused(db: Database) -> None:
    site = await make_site(db)
    problems = await refused(
        db,
        lambda s: create_location(
            s, warehouse_id=site.warehouse_id, code="  ", kind=LocationKind.STORAGE
        ),
    )
    assert codes(problems) == [(ErrorCode.INVALID_VALUE, "code")]


# ---------------------------------------------------------------- products


async def test_create_product_normalises_gtin(db: Database) -> None:
    async with db.sessions.begin() as session:
        product = await create_product(
            session, sku=" SKU-1 ", name="Drill", tracking=Tracking.SERIAL, gtin="4006381333931"
        )
    stored = await get(db, Product, product.id)
    assert (stored.sku, stored.name, stored.gtin, stored.tracking) == (
        "SKU-1",
        "Drill",
        "04006381333931",
        Tracking.SERIAL,
    )


async def test_product_without_gtin(db: Database) -> None:
    product_id = await make_product(db, "SKU-1", Tracking.LOT)
    stored = await get(db, Product, product_id)
    assert stored.gtin is None
    assert stored.tracking is Tracking.LOT


async def test_duplicate_sku_is_refused(db: Database) -> None:
    await make_product(db, "SKU-1")
    problems = await refused(
        db, lambda s: create_product(s, sku="SKU-1 ", name="Other", tracking=Tracking.NONE)
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_SKU, "sku")]


@pytest.mark.parametrize("form", ["4006381333931", "04006381333931", " 04006381333931 "])
async def test_duplicate_gtin_is_refused_in_any_form(db: Database, form: str) -> None:
    await make_product(db, "SKU-1", gtin="4006381333931")
    problems = await refused(
        db,
        lambda s: create_product(s, sku="SKU-2", name="Other", tracking=Tracking.NONE, gtin=form),
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_GTIN, "gtin")]


@pytest.mark.parametrize("gtin", ["4006381333932", "12345", "40063813339A1"])
async def test_invalid_gtin_is_refused(db: Database, gtin: str) -> None:
    problems = await refused(
        db, lambda s: create_product(s, sku="SKU-1", name="N", tracking=Tracking.NONE, gtin=gtin)
    )
    assert codes(problems) == [(ErrorCode.INVALID_GTIN, "gtin")]


async def test_product_problems_are_reported_together(db: Database) -> None:
    await make_product(db, "SKU-1", gtin="036000291452")
    problems = await refused(
        db,
        lambda s: create_product(
            s, sku="SKU-1", name=" ", tracking=Tracking.NONE, gtin="00036000291452"
        ),
    )
    assert codes(problems) == [
        (ErrorCode.INVALID_VALUE, "name"),
        (ErrorCode.DUPLICATE_SKU, "sku"),
        (ErrorCode.DUPLICATE_GTIN, "gtin"),
    ]


# ---------------------------------------------------------------- tracking


@pytest.mark.parametrize(
    ("serial", "lot", "tracking"),
    [(False, False, Tracking.NONE), (True, False, Tracking.SERIAL), (False, True, Tracking.LOT)],
)
def test_tracking_from_flags(serial: bool, lot: bool, tracking: Tracking) -> None:
    assert tracking_from_flags(serial, lot) is tracking


def test_serial_and_lot_tracking_together_is_refused() -> None:
    with pytest.raises(Refused) as caught:
        tracking_from_flags(True, True)
    assert codes(caught.value.problems) == [(ErrorCode.TRACKING_CONFLICT, "lotTracked")]


async def _set_tracking(db: Database, product_id: int, tracking: Tracking) -> Tracking:
    async with db.sessions.begin() as session:
        product = await update_product(session, product_id, tracking=tracking)
    assert (await get(db, Product, product_id)).tracking is tracking
    return product.tracking


async def test_tracking_can_change_before_anything_exists(db: Database) -> None:
    product_id = await make_product(db, "SKU-1")
    await _set_tracking(db, product_id, Tracking.SERIAL)
    await _set_tracking(db, product_id, Tracking.LOT)
    await _set_tracking(db, product_id, Tracking.NONE)


async def test_tracking_can_change_after_its_only_asn_was_cancelled(db: Database) -> None:
    site = await make_site(db)
    product_id = await make_product(db, "SKU-1")
    asn = await plan_asn(db, site, "ASN-1", expect(product_id, 5))
    async with db.sessions.begin() as session:
        assert await product_has_history(session, product_id)
        await cancel_receiving_order(session, order_id=asn.order_id, actor=ACTOR)
    async with db.read_sessions() as session:
        assert not await product_has_history(session, product_id)
    await _set_tracking(db, product_id, Tracking.LOT)


async def _open_asn_line(db: Database, site: Site, product_id: int) -> None:
    await plan_asn(db, site, "ASN-1", expect(product_id, 3))


async def _expected_serials(db: Database, site: Site, product_id: int) -> None:
    # Closing leaves no open line; the serial that arrived still exists.
    asn = await plan_asn(db, site, "ASN-1", expect(product_id, 2, "SN-1", "SN-2"))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-1"]))
    await _close(db, asn)


async def _received_serials(db: Database, site: Site, product_id: int) -> None:
    asn = await plan_asn(db, site, "ASN-1", expect(product_id, 1))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-1"]))


async def _received_lot(db: Database, site: Site, product_id: int) -> None:
    asn = await plan_asn(db, site, "ASN-1", expect(product_id, 4))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], lots=[LotEntry("L-1", 4)]))


async def _stock(db: Database, site: Site, product_id: int) -> None:
    asn = await plan_asn(db, site, "ASN-1", expect(product_id, 4))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], quantity=4))


async def _close(db: Database, asn: Asn) -> None:
    async with db.sessions.begin() as session:
        await close_receiving_order(session, order_id=asn.order_id, actor=ACTOR)


History = Callable[[Database, Site, int], Awaitable[None]]


@pytest.mark.parametrize(
    ("tracking", "history", "new_tracking"),
    [
        (Tracking.NONE, _open_asn_line, Tracking.SERIAL),
        (Tracking.SERIAL, _open_asn_line, Tracking.NONE),
        (Tracking.SERIAL, _expected_serials, Tracking.LOT),
        (Tracking.SERIAL, _received_serials, Tracking.NONE),
        (Tracking.LOT, _received_lot, Tracking.NONE),
        (Tracking.NONE, _stock, Tracking.LOT),
    ],
    ids=["open-line", "open-serial-line", "closed-with-serial", "serials", "lot", "stock"],
)
async def test_tracking_is_locked_once_the_product_has_history(
    db: Database, tracking: Tracking, history: History, new_tracking: Tracking
) -> None:
    site = await make_site(db)
    product_id = await make_product(db, "SKU-1", tracking)
    await history(db, site, product_id)
    problems = await refused(db, lambda s: update_product(s, product_id, tracking=new_tracking))
    assert codes(problems) == [(ErrorCode.TRACKING_LOCKED, "tracking")]
    assert (await get(db, Product, product_id)).tracking is tracking


async def test_locked_product_may_keep_its_tracking_and_change_name_and_gtin(db: Database) -> None:
    site = await make_site(db)
    product_id = await make_product(db, "SKU-1", Tracking.SERIAL)
    await _received_serials(db, site, product_id)
    async with db.sessions.begin() as session:
        await update_product(
            session, product_id, name="Renamed", gtin="73513537", tracking=Tracking.SERIAL
        )
    stored = await get(db, Product, product_id)
    assert (stored.name, stored.gtin, stored.tracking) == (
        "Renamed",
        "00000073513537",
        Tracking.SERIAL,
    )


async def test_update_gtin_rules(db: Database) -> None:
    first = await make_product(db, "SKU-1", gtin="4006381333931")
    second = await make_product(db, "SKU-2")
    # re-entering its own GTIN is not a duplicate
    async with db.sessions.begin() as session:
        await update_product(session, first, gtin="04006381333931")
    problems = await refused(db, lambda s: update_product(s, second, gtin="4006381333931"))
    assert codes(problems) == [(ErrorCode.DUPLICATE_GTIN, "gtin")]
    problems = await refused(db, lambda s: update_product(s, second, gtin="4006381333930"))
    assert codes(problems) == [(ErrorCode.INVALID_GTIN, "gtin")]
    async with db.sessions.begin() as session:
        await update_product(session, first, clear_gtin=True)
    assert (await get(db, Product, first)).gtin is None
    async with db.sessions.begin() as session:
        await update_product(session, second, gtin="4006381333931")
    assert (await get(db, Product, second)).gtin == "04006381333931"


async def test_update_unknown_product_is_refused(db: Database) -> None:
    problems = await refused(db, lambda s: update_product(s, 999, name="X"))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "id")]
