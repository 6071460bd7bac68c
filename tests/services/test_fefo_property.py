"""FEFO allocation against a plain reference: for any lots (dated or not, some expired, some
held, some sharing an expiry or a receipt time) and any quantity, allocation takes what a
sort by (undated last, expiry, receipt) and a greedy walk would take, or refuses with the
exact shortfall and reserves nothing.

The `db` fixture is per test, so each example builds its own warehouse and product (with
codes no other example uses) inside the one database.
"""

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.errors import ErrorCode
from services.outbound import allocate_order
from services.putaway import Placement
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    codes,
    hold_lot,
    lot_product,
    make_order,
    make_site,
    refused,
    reservations,
    stock_lot,
)

ALLOCATED_AT = datetime(2025, 6, 15, 9, 0, tzinfo=UTC)
TODAY = ALLOCATED_AT.date()
# Receipts a month earlier, so even the lots expired by allocation day were fresh then.
RECEIVED_FROM = ALLOCATED_AT - timedelta(days=30)

_examples = itertools.count(1)


@dataclass(frozen=True)
class LotSpec:
    expiry_offset: int | None  # days from allocation day; negative: expired by then
    receipt_hour: int  # hours after RECEIVED_FROM; a small range, so ties happen
    held: bool
    quantity: int
    second_location: bool


lot_specs = st.builds(
    LotSpec,
    expiry_offset=st.one_of(st.none(), st.integers(-3, 3)),
    receipt_hour=st.integers(0, 3),
    held=st.sampled_from([False, False, False, True]),
    quantity=st.integers(1, 5),
    second_location=st.booleans(),
)


@dataclass(frozen=True)
class StockedLot:
    index: int  # receipt order: the storage balances' ids grow with it
    lot_id: int
    location_id: int
    expiry: date | None
    received_at: datetime
    held: bool
    quantity: int


def reference(lots: list[StockedLot], wanted: int) -> list[tuple[int, int, int]]:
    """What FEFO should take: (lot id, location, quantity), best first, greedily."""
    usable = [lot for lot in lots if not lot.held and (lot.expiry is None or lot.expiry >= TODAY)]
    usable.sort(
        key=lambda lot: (lot.expiry is None, lot.expiry or date.min, lot.received_at, lot.index)
    )
    taken = []
    for lot in usable:
        if wanted == 0:
            break
        take = min(lot.quantity, wanted)
        taken.append((lot.lot_id, lot.location_id, take))
        wanted -= take
    return taken


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(specs=st.lists(lot_specs, min_size=1, max_size=6), data=st.data())
async def test_fefo_allocation_matches_a_reference_sort(
    db: Database, specs: list[LotSpec], data: st.DataObject
) -> None:
    n = next(_examples)
    site = await make_site(db, f"FEFO-{n}")
    product = await lot_product(db, f"FEFO-{n}")
    lots = []
    for i, spec in enumerate(specs):
        expiry = None if spec.expiry_offset is None else TODAY + timedelta(spec.expiry_offset)
        received_at = RECEIVED_FROM + timedelta(hours=spec.receipt_hour)
        location = site.a02 if spec.second_location else site.a01
        lot_id = await stock_lot(
            db,
            site,
            product,
            f"L-{i}",
            spec.quantity,
            expiry,
            Placement(location, spec.quantity),
            now=received_at,
        )
        if spec.held:
            await hold_lot(db, lot_id)
        lots.append(StockedLot(i, lot_id, location, expiry, received_at, spec.held, spec.quantity))
    usable = sum(quantity for _, _, quantity in reference(lots, 10**6))
    # mostly what the usable stock can cover, sometimes a little more
    wanted = data.draw(st.integers(1, usable + 2), label="wanted")
    expected = reference(lots, wanted)
    available = sum(quantity for _, _, quantity in expected)
    order = await make_order(db, site, (product, wanted), number=f"SO-FEFO-{n}")

    if available < wanted:
        problems = await refused(
            db,
            lambda s: allocate_order(s, order_id=order.id, actor=ACTOR, now=ALLOCATED_AT),
        )
        assert codes(problems) == [(ErrorCode.INSUFFICIENT_STOCK, "lines.0")]
        assert problems[0].message.endswith(
            f"{wanted} wanted, {available} available; short by {wanted - available}"
        )
        return

    async with db.sessions.begin() as session:
        allocations = await allocate_order(
            session, order_id=order.id, actor=ACTOR, now=ALLOCATED_AT
        )
    assert [(a.lot_id, a.location_id, a.quantity) for a in allocations] == expected
    reserved = {(lot, location): quantity for lot, location, quantity in expected}
    assert sorted((r[1], r[0], r[3]) for r in await reservations(db, product)) == sorted(
        (lot.lot_id, lot.location_id, reserved.get((lot.lot_id, lot.location_id), 0))
        for lot in lots
    )
