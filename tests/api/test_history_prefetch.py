"""A page of a product's serials, and a look-up of one serial, load the movements before
the serials are answered, so each `movements` field is answered at once; a failed read is
reported at a serial's `movements`, as before."""

from typing import Any

import pytest
from sqlalchemy import select

import resolvers.loaders
import schema.nodes
from models import Serial, Tracking
from resolvers.context import Context
from schema import schema as graphql_schema
from services.movements import history_with_locations, movements_by_serial_ids
from services.putaway import Placement
from services.receiving import LineReceipt
from tests.conftest import TRUSTED, Database
from tests.services.builders import (
    expect,
    make_product,
    make_site,
    plan_asn,
    put_away,
    receive_lines,
)

TREE = """
{ products(first: 5) { nodes { sku serials(first: 10) {
    nodes { serialNumber movements(last: 1) { kind toLocation { code } } } } } } }
"""
EDGES = """
{ products(first: 5) { nodes { serials(first: 10) {
    edges { node { ...History } } } } } }
fragment History on Serial { serialNumber movements { kind } }
"""


async def _received(db: Database, count: int) -> None:
    site = await make_site(db)
    product = await make_product(db, "SCAN", Tracking.SERIAL)
    numbers = [f"SN-{i:03d}" for i in range(count)]
    asn = await plan_asn(db, site, "ASN-1", expect(product, count, *numbers))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=numbers))


class Waits:
    """Counts the serial histories answered by waiting for the loader, not at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = schema.nodes._newest_later

        def counted(*args: Any) -> Any:
            self.count += 1
            return original(*args)

        monkeypatch.setattr(schema.nodes, "_newest_later", counted)


async def _execute(db: Database, document: str) -> Any:
    context = Context(db.sessions, db.read_sessions, principal=TRUSTED)
    return await graphql_schema.execute(document, context_value=context)


@pytest.mark.parametrize("document", [TREE, EDGES], ids=["nodes", "edges and a fragment"])
async def test_each_history_is_answered_at_once(
    db: Database, monkeypatch: pytest.MonkeyPatch, document: str
) -> None:
    await _received(db, 6)
    waits = Waits(monkeypatch)
    result = await _execute(db, document)
    assert result.errors is None, result.errors
    assert waits.count == 0
    serials = result.data["products"]["nodes"][0]["serials"]
    histories = [
        s["movements"] for s in serials.get("nodes") or [e["node"] for e in serials["edges"]]
    ]
    assert len(histories) == 6
    assert all(history[-1]["kind"] == "RECEIVE" for history in histories)


async def test_serials_from_elsewhere_still_wait_for_their_history(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _received(db, 3)
    waits = Waits(monkeypatch)
    result = await _execute(
        db, '{ receivingOrder(number: "ASN-1") { lines { serials { movements { kind } } } } }'
    )
    assert result.errors is None, result.errors
    assert waits.count == 3  # the check above can tell the two paths apart


class Unreadable:
    """A read of the movements that fails, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, *_: Any) -> Any:
        self.calls += 1
        raise RuntimeError("the movement table could not be read")


async def test_a_failed_history_read_is_reported_at_the_serial(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _received(db, 3)
    monkeypatch.setattr(resolvers.loaders, "movements_by_serial_ids", Unreadable())
    result = await _execute(db, TREE)
    # Reported at the first serial's own `movements`, where a history loaded serial by
    # serial reports it too; the history is non-null all the way up, so the null reaches
    # the root (and ends the rest of the list).
    assert [tuple(e.path) for e in result.errors] == [
        ("products", "nodes", 0, "serials", "nodes", 0, "movements")
    ]
    assert result.data is None


LOOK_UP = '{ serial(sku: "SCAN", serialNumber: "SN-001") { status movements { kind } } }'


async def test_a_look_up_brings_the_history_with_the_serial(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _received(db, 3)
    waits = Waits(monkeypatch)
    result = await _execute(db, LOOK_UP)
    assert result.errors is None, result.errors
    assert waits.count == 0
    assert result.data == {
        "serial": {"status": "RECEIVED", "movements": [{"kind": "EXPECT"}, {"kind": "RECEIVE"}]}
    }


async def test_a_look_up_whose_history_cannot_be_read_reports_it_at_movements(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _received(db, 3)
    broken = Unreadable()
    monkeypatch.setattr(resolvers.loaders, "movements_by_serial_ids", broken)
    result = await _execute(db, LOOK_UP)
    # The look-up's read of the history failed and was set aside; the field read it again
    # and reports the failure at `movements`, not at the serial. The history is non-null,
    # so the null reaches the (nullable) serial.
    assert broken.calls == 2
    assert [tuple(e.path) for e in result.errors] == [("serial", "movements")]
    assert result.data == {"serial": None}


PLACES = "id code kind warehouse { code }"
LOOK_UP_WITH_PLACES = f"""
{{ serial(sku: "SCAN", serialNumber: "SN-001") {{
    movements {{ kind fromLocation {{ {PLACES} }} toLocation {{ {PLACES} }} }} }} }}
"""
LISTED_WITH_PLACES = f"""
{{ products(first: 1) {{ nodes {{ serials(first: 10) {{ nodes {{ serialNumber
    movements {{ kind fromLocation {{ {PLACES} }} toLocation {{ {PLACES} }} }} }} }} }} }} }}
"""


async def _put_away(db: Database) -> None:
    site = await make_site(db)
    product = await make_product(db, "SCAN", Tracking.SERIAL)
    numbers = ["SN-000", "SN-001"]
    asn = await plan_asn(db, site, "ASN-1", expect(product, 2, *numbers))
    result = await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=numbers))
    await put_away(db, result.putaway_tasks[0].id, Placement(site.a01, 2))


def _listed_history(data: Any, number: str) -> Any:
    serials = data["products"]["nodes"][0]["serials"]["nodes"]
    return next(s["movements"] for s in serials if s["serialNumber"] == number)


async def test_a_look_up_names_the_same_locations_as_a_list_of_serials(db: Database) -> None:
    # The look-up reads the locations joined to the history; a list reads them after it.
    await _put_away(db)
    looked_up = await _execute(db, LOOK_UP_WITH_PLACES)
    listed = await _execute(db, LISTED_WITH_PLACES)
    assert looked_up.errors is None
    assert listed.errors is None
    history = looked_up.data["serial"]["movements"]
    assert history == _listed_history(listed.data, "SN-001")
    assert [m["toLocation"] and m["toLocation"]["code"] for m in history] == [None, "DOCK", "A-01"]
    assert history[-1]["fromLocation"]["kind"] == "RECEIVING"
    assert history[-1]["toLocation"]["warehouse"] == {"code": "WH1"}


async def test_a_look_up_whose_joined_read_fails_reads_the_history_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _put_away(db)
    expected = await _execute(db, LOOK_UP_WITH_PLACES)
    broken = Unreadable()
    monkeypatch.setattr(resolvers.loaders, "history_with_locations", broken)
    result = await _execute(db, LOOK_UP_WITH_PLACES)
    # Set aside by the look-up; the `movements` field then loads the history as a list of
    # serials does, and answers it in full.
    assert broken.calls == 1
    assert result.errors is None, result.errors
    assert result.data == expected.data


async def test_the_joined_history_names_every_location_its_movements_name(db: Database) -> None:
    await _put_away(db)
    async with db.read_sessions() as session:
        serial_id = await session.scalar(select(Serial.id).where(Serial.serial_number == "SN-001"))
        assert serial_id is not None
        movements, locations = await history_with_locations(session, serial_id)
        [plain] = await movements_by_serial_ids(session, [serial_id])
    # The same movements as the plain read, each with the movement table's columns first.
    assert [m[: len(plain[0])] for m in movements] == [tuple(m) for m in plain]
    named = {i for m in plain for i in (m.from_location_id, m.to_location_id) if i is not None}
    assert sorted(location.id for location in locations) == sorted(named)
    assert {location.code for location in locations} == {"DOCK", "A-01"}
