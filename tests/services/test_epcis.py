"""EPCIS export on a history with every kind of movement (tests/services/epcis_data.py):
each document valid against the GS1 EPCIS 2.0 schema, and saying what happened. Both
engines."""

from datetime import UTC, datetime
from typing import Any

import pytest

from models import MovementKind
from services.epcis import EpcisFilter, export_events
from services.epcis_identifiers import UriScheme
from services.epcis_mapping import MEANINGS, NOT_EXPORTED
from tests.conftest import Database
from tests.services.builders import movements, snapshot
from tests.services.epcis_checks import (
    BOX,
    CREATED,
    SER,
    URIS,
    VIT,
    export_page,
    exported,
    steps,
    transactions,
    what,
    where,
)
from tests.services.epcis_data import OPENED_AT, EpcisData, build_epcis_data

EVER: dict[str, Any] = {
    "start": datetime(2000, 1, 1, tzinfo=UTC),
    "end": datetime(2100, 1, 1, tzinfo=UTC),
}
SO_1 = [("poc", "orders/SO-1"), ("po", "orders/SO-1/customer-po/CUST-SO-1")]


@pytest.fixture
async def data(db: Database) -> EpcisData:
    return await build_epcis_data(db)


@pytest.mark.usefixtures("data")
async def test_each_exported_movement_is_one_event_with_the_cbv_words_of_its_kind(
    db: Database,
) -> None:
    # given every movement, and the kind of each by its event id
    rows = await movements(db)
    kinds = {URIS.event_id(m.id): m.kind for m in rows}

    # when everything ever is exported
    events = await exported(db, **EVER)

    # then each movement of an exported kind is one event, and nothing else is
    assert sorted(e["eventID"] for e in events) == sorted(
        URIS.event_id(m.id) for m in rows if m.kind in MEANINGS
    )
    assert {kinds[e["eventID"]] for e in events} == set(MEANINGS)
    assert {m.kind for m in rows} == set(MovementKind)  # the data set has every kind
    for event in events:
        meaning = MEANINGS[kinds[event["eventID"]]]
        assert (event["type"], event["action"], event["bizStep"], event["disposition"]) == (
            "ObjectEvent",
            meaning.action,
            meaning.biz_step,
            meaning.disposition,
        )
        assert ("ilmd" in event) == (meaning.action == "ADD" and "quantityList" in event)
    times = [e["eventTime"] for e in events]
    assert times == sorted(times)
    assert times[0] == "2025-01-01T08:00:00.000Z"  # opening stock, written last, came first


async def test_a_serial_from_receipt_to_dispatch(db: Database, data: EpcisData) -> None:
    events = await exported(db, serial_number="S-1")

    assert [(e["bizStep"], e["disposition"], what(e)) for e in events] == [
        ("receiving", "sellable_not_accessible", f"{SER}S-1"),
        ("storing", "sellable_not_accessible", f"{SER}S-1"),
        ("picking", "in_progress", f"{SER}S-1"),
        ("shipping", "in_transit", f"{SER}S-1"),
    ]
    assert [where(e) for e in events] == [
        ("locations/WH1/DOCK", "locations/WH1/DOCK"),
        ("locations/WH1/A-01", "locations/WH1/A-01"),
        ("locations/WH1/A-01", "locations/WH1/PACK"),  # picked at the bin, now at packing
        ("locations/WH1/PACK", None),  # gone: nowhere here after the dispatch
    ]
    assert [transactions(e) for e in events] == [
        [("desadv", "receiving-orders/ASN-1")],
        [("desadv", "receiving-orders/ASN-1")],
        SO_1,
        [*SO_1, ("bol", f"shipments/{data.shipment}")],
    ]
    assert {e["action"] for e in events} == {"OBSERVE"}


@pytest.mark.usefixtures("data")
async def test_a_serial_number_is_percent_encoded_in_its_digital_link(db: Database) -> None:
    events = await exported(db, serial_number="S/2", sku="SER")

    assert steps(events) == [
        ("receiving", f"{SER}S%2F2"),
        ("storing", f"{SER}S%2F2"),
        ("picking", f"{SER}S%2F2"),
        ("storing", f"{SER}S%2F2"),  # returned to stock from packing
    ]
    assert where(events[-1]) == ("locations/WH1/A-01", "locations/WH1/A-01")
    assert transactions(events[-1]) == [
        ("poc", "orders/SO-2"),
        ("po", "orders/SO-2/customer-po/CUST-SO-2"),
    ]


@pytest.mark.usefixtures("data")
async def test_an_expected_serial_that_never_arrived_has_no_events(db: Database) -> None:
    # S-3 was only expected and then released: plans, not observations
    assert await exported(db, serial_number="S-3") == []


@pytest.mark.usefixtures("data")
async def test_a_lot_with_its_hold_and_release(db: Database) -> None:
    events = await exported(db, lot_number="l-2", sku="VIT")

    assert steps(events) == [
        ("receiving", f"{VIT}L-2 ×10"),
        ("storing", f"{VIT}L-2 ×10"),
        ("holding", f"{VIT}L-2 ×?"),
        ("holding", f"{VIT}L-2 ×?"),
    ]
    hold, release = events[2:]
    assert (hold["disposition"], release["disposition"]) == (
        "non_sellable_other",
        "sellable_not_accessible",
    )
    # a hold is on the lot wherever it is: no place, and UTC
    assert where(hold) == (None, None)
    assert hold["eventTimeZoneOffset"] == "+00:00"
    assert transactions(hold) == transactions(release) == [(None, "recalls/RC-1")]
    assert "ilmd" not in hold


@pytest.mark.usefixtures("data")
async def test_opening_stock_is_added_with_the_lot_and_its_expiry(db: Database) -> None:
    events = await exported(
        db, start=OPENED_AT, end=datetime(2025, 1, 1, 8, 0, 0, 1000, tzinfo=UTC)
    )

    assert [(e["action"], e["bizStep"], what(e)) for e in events] == [
        ("ADD", "stock_taking", f"{SER}S-OLD"),
        ("ADD", "stock_taking", f"{VIT}L-OLD ×7"),
    ]
    serial, lot = events
    assert "ilmd" not in serial
    assert lot["ilmd"] == {
        "cbvmda:lotNumber": "L-OLD",
        "cbvmda:itemExpirationDate": "2030-12-31",
    }
    assert {(e["eventTime"], e["eventTimeZoneOffset"]) for e in events} == {
        ("2025-01-01T08:00:00.000Z", "+01:00")  # Amsterdam in winter
    }
    assert transactions(lot) == [(None, "documents/IMPORT/OPENING-1")]
    assert where(lot) == ("locations/WH1/A-02", "locations/WH1/A-02")


@pytest.mark.usefixtures("data")
async def test_a_customer_order(db: Database) -> None:
    shipped = await exported(db, order_number="SO-1")
    returned = await exported(db, order_number="SO-2")
    cancelled = await exported(db, order_number="SO-3")

    assert steps(shipped[:3]) == [
        ("picking", f"{SER}S-1"),
        ("picking", f"{VIT}L-1 ×5"),
        ("picking", f"{BOX} ×2"),
    ]
    # one dispatch: the order among its events is the order they were written in
    assert sorted(steps(shipped[3:])) == [
        ("shipping", f"{SER}S-1"),
        ("shipping", f"{VIT}L-1 ×5"),
        ("shipping", f"{BOX} ×2"),
    ]
    assert steps(returned) == [("picking", f"{SER}S%2F2"), ("storing", f"{SER}S%2F2")]
    # allocated and cancelled: the goods never moved
    assert cancelled == []


async def test_a_receiving_order(db: Database, data: EpcisData) -> None:
    events = await exported(db, receiving_order_number="ASN-1")

    assert steps(events) == [
        ("receiving", f"{SER}S-1"),
        ("receiving", f"{SER}S%2F2"),
        ("receiving", f"{VIT}L-1 ×20"),
        ("receiving", f"{VIT}L-2 ×10"),
        ("receiving", f"{BOX} ×10"),
        ("storing", f"{SER}S-1"),
        ("storing", f"{SER}S%2F2"),
        ("storing", f"{VIT}L-1 ×20"),
        ("storing", f"{VIT}L-2 ×10"),
        ("storing", f"{BOX} ×10"),
    ]
    assert {tuple(transactions(e)) for e in events} == {(("desadv", "receiving-orders/ASN-1"),)}


async def test_a_shipment(db: Database, data: EpcisData) -> None:
    events = await exported(db, shipment_id=data.shipment)

    assert sorted(steps(events)) == [
        ("shipping", f"{SER}S-1"),
        ("shipping", f"{VIT}L-1 ×5"),
        ("shipping", f"{BOX} ×2"),
    ]
    for event in events:
        assert event["disposition"] == "in_transit"
        assert where(event) == ("locations/WH1/PACK", None)
        assert transactions(event) == [*SO_1, ("bol", f"shipments/{data.shipment}")]


@pytest.mark.usefixtures("data")
async def test_criteria_narrow_each_other(db: Database) -> None:
    lots_of_an_order = await exported(db, sku="VIT", order_number="SO-1")
    lot_since_opening = await exported(db, lot_number="L-1", start=datetime(2025, 6, 1, tzinfo=UTC))
    nothing_before = await exported(db, sku="BOX", end=OPENED_AT)

    assert steps(lots_of_an_order) == [("picking", f"{VIT}L-1 ×5"), ("shipping", f"{VIT}L-1 ×5")]
    assert [e["bizStep"] for e in lot_since_opening] == [
        "receiving",
        "storing",
        "picking",
        "shipping",
    ]
    assert nothing_before == []


@pytest.mark.usefixtures("data")
async def test_the_document_frame(db: Database) -> None:
    page = await export_page(db, EpcisFilter(sku="BOX"))

    frame = {key: value for key, value in page.document.items() if key != "epcisBody"}
    assert frame == {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-05-04T09:00:00.000Z",
    }


@pytest.mark.usefixtures("data")
async def test_event_ids_stay_the_same_from_export_to_export(db: Database) -> None:
    by_order = await exported(db, order_number="SO-1")
    by_product = await exported(db, sku="SER")
    elsewhere = await export_page_under(db, "https://other.example.net/epcis")

    ids = {e["eventID"]: e for e in by_product}
    for event in by_order:
        if event["eventID"] in ids:
            assert ids[event["eventID"]] == event
    assert sum(e["eventID"] in ids for e in by_order) == 2  # S-1 picked and shipped
    assert len(ids) == len(by_product)
    assert not {e["eventID"] for e in elsewhere} & set(ids)


async def export_page_under(db: Database, base: str) -> list[dict[str, Any]]:
    async with db.read_sessions() as session:
        page = await export_events(
            session, EpcisFilter(sku="SER"), uris=UriScheme.under(base), now=CREATED
        )
    events: list[dict[str, Any]] = page.document["epcisBody"]["eventList"]
    return events


@pytest.mark.usefixtures("data")
async def test_a_long_history_comes_in_pages(db: Database) -> None:
    whole = await exported(db, **EVER)
    pages = []
    token = None
    while True:
        page = await export_page(db, EpcisFilter(**EVER), per_page=7, token=token)
        pages.append(page.document["epcisBody"]["eventList"])
        token = page.next_page_token
        if token is None:
            break

    assert [len(p) for p in pages[:-1]] == [7] * (len(pages) - 1)
    assert 0 < len(pages[-1]) <= 7
    assert [e for p in pages for e in p] == whole


@pytest.mark.usefixtures("data")
async def test_an_export_changes_nothing(db: Database) -> None:
    before = await snapshot(db)

    await exported(db, **EVER)

    assert await snapshot(db) == before


def test_every_movement_kind_is_exported_or_left_out_on_purpose() -> None:
    assert set(MEANINGS) | set(NOT_EXPORTED) == set(MovementKind)
    assert not set(MEANINGS) & set(NOT_EXPORTED)
