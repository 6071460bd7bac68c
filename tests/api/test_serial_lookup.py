"""serialLookup: case-insensitive search by prefix (from an index), substring or whole
number, narrowed by product, status, warehouse and location, in keyset pages."""

from typing import Any

from sqlalchemy import Select
from strawberry import relay

from models import Serial
from services.lookup import SerialSearch, prefix_successor, serial_search_query
from services.putaway import Placement
from services.queries import MAX_PAGE_SIZE
from services.receiving import LineReceipt
from tests.api.conftest import Gql
from tests.conftest import Database
from tests.services.builders import (
    expect,
    make_site,
    plan_asn,
    put_away,
    receive_lines,
    serial_product,
)

LOOKUP = """
query Lookup($search: String, $match: SerialMatch = PREFIX, $productId: ID,
             $statuses: [SerialStatus!], $warehouseId: ID, $locationId: ID,
             $first: Int = 50, $after: String) {
  serialLookup(search: $search, match: $match, productId: $productId, statuses: $statuses,
               warehouseId: $warehouseId, locationId: $locationId, first: $first,
               after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { serialNumber }
  }
}
"""

NESTED = """
query ($search: String!) {
  serialLookup(search: $search) {
    nodes {
      serialNumber status
      product { sku }
      warehouse { code }
      location { code }
      movements { kind toStatus }
    }
  }
}
"""

WH1_NUMBERS = ["SN-Alpha-001", "sn-alpha-002", "SN-BETA-001", "XSN-ALPHA-9", "Straße-1"]
WITH_WILDCARDS = ["A%B-1", "AXB-1", "A_B-1"]


def gid(type_name: str, row_id: int) -> str:
    return str(relay.GlobalID(type_name, str(row_id)))


async def _catalogue(db: Database) -> dict[str, int]:
    """WH1: P1's serials, S-Alpha-001 and sn-alpha-002 put away in A-01 and A-02, SN-BETA-001
    on the dock, the rest EXPECTED. WH2: P2's SN-ALPHA-003, on its dock."""
    wh1 = await make_site(db, "WH1")
    wh2 = await make_site(db, "WH2")
    p1 = await serial_product(db, "P1")
    p2 = await serial_product(db, "P2")
    numbers = WH1_NUMBERS + WITH_WILDCARDS
    asn = await plan_asn(db, wh1, "ASN-1", expect(p1, len(numbers), *numbers))
    result = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-Alpha-001", "sn-alpha-002"])
    )
    await put_away(
        db,
        result.putaway_tasks[0].id,
        Placement(wh1.a01, 1, ["SN-Alpha-001"]),
        Placement(wh1.a02, 1, ["sn-alpha-002"]),
    )
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-BETA-001"]))
    asn = await plan_asn(db, wh2, "ASN-2", expect(p2, 1))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-ALPHA-003"]))
    return {
        "p1": p1,
        "p2": p2,
        "wh1": wh1.warehouse_id,
        "wh2": wh2.warehouse_id,
        "a01": wh1.a01,
        "dock1": wh1.dock,
    }


async def _numbers(gql: Gql, **variables: Any) -> list[str]:
    answer = await gql(LOOKUP, variables)
    return [n["serialNumber"] for n in answer["serialLookup"]["nodes"]]


async def test_prefix_search_ignores_case(gql: Gql, db: Database) -> None:
    await _catalogue(db)

    answer = await gql(LOOKUP, {"search": "sn-al"})

    found = answer["serialLookup"]
    assert [n["serialNumber"] for n in found["nodes"]] == [
        "SN-Alpha-001",
        "sn-alpha-002",
        "SN-ALPHA-003",
    ]
    assert found["totalCount"] == 3
    assert found["pageInfo"]["hasNextPage"] is False
    assert await _numbers(gql, search="  SN-ALPHA-00") == await _numbers(gql, search="sn-alpha-00")
    assert await _numbers(gql, search="sn-alpha-001x") == []


async def test_contains_and_exact_match(gql: Gql, db: Database) -> None:
    await _catalogue(db)

    assert await _numbers(gql, search="ALPHA", match="CONTAINS") == [
        "SN-Alpha-001",
        "sn-alpha-002",
        "XSN-ALPHA-9",
        "SN-ALPHA-003",
    ]
    assert await _numbers(gql, search="sn-alpha-001", match="EXACT") == ["SN-Alpha-001"]
    assert await _numbers(gql, search="sn-alpha-00", match="EXACT") == []


async def test_search_folds_case_fully_and_takes_wildcards_literally(
    gql: Gql, db: Database
) -> None:
    await _catalogue(db)

    # casefolding: "Straße" is found as "strasse"
    assert await _numbers(gql, search="STRASSE") == ["Straße-1"]
    # % and _ are characters of serial numbers, not LIKE wildcards
    assert await _numbers(gql, search="%", match="CONTAINS") == ["A%B-1"]
    assert await _numbers(gql, search="a_", match="PREFIX") == ["A_B-1"]
    assert await _numbers(gql, search="_b", match="CONTAINS") == ["A_B-1"]


async def test_each_filter_narrows_the_search(gql: Gql, db: Database) -> None:
    ids = await _catalogue(db)

    by_product = await _numbers(gql, search="sn-", productId=gid("Product", ids["p2"]))
    by_status = await _numbers(gql, statuses=["IN_INVENTORY", "RECEIVED"])
    by_warehouse = await _numbers(gql, search="sn-", warehouseId=gid("Warehouse", ids["wh1"]))
    by_location = await _numbers(gql, locationId=gid("Location", ids["a01"]))
    on_dock = await _numbers(gql, locationId=gid("Location", ids["dock1"]))
    expected = await _numbers(gql, search="x", statuses=["EXPECTED"])
    combined = await _numbers(
        gql,
        search="sn-alpha",
        productId=gid("Product", ids["p1"]),
        statuses=["IN_INVENTORY"],
        warehouseId=gid("Warehouse", ids["wh1"]),
    )

    assert by_product == ["SN-ALPHA-003"]
    assert by_status == ["SN-Alpha-001", "sn-alpha-002", "SN-BETA-001", "SN-ALPHA-003"]
    assert by_warehouse == ["SN-Alpha-001", "sn-alpha-002", "SN-BETA-001"]
    assert by_location == ["SN-Alpha-001"]
    assert on_dock == ["SN-BETA-001"]
    assert expected == ["XSN-ALPHA-9"]
    assert combined == ["SN-Alpha-001", "sn-alpha-002"]


async def test_without_a_search_every_serial_is_listed(gql: Gql, db: Database) -> None:
    await _catalogue(db)

    answer = await gql(LOOKUP, {"first": 3})

    assert answer["serialLookup"]["totalCount"] == len(WH1_NUMBERS + WITH_WILDCARDS) + 1
    assert [n["serialNumber"] for n in answer["serialLookup"]["nodes"]] == WH1_NUMBERS[:3]
    assert answer["serialLookup"]["pageInfo"]["hasNextPage"] is True


async def test_found_serials_bring_product_location_and_history(gql: Gql, db: Database) -> None:
    await _catalogue(db)

    answer = await gql(NESTED, {"search": "SN-ALPHA-00"})

    nodes = answer["serialLookup"]["nodes"]
    assert [
        (n["serialNumber"], n["status"], n["product"]["sku"], n["warehouse"]["code"]) for n in nodes
    ] == [
        ("SN-Alpha-001", "IN_INVENTORY", "P1", "WH1"),
        ("sn-alpha-002", "IN_INVENTORY", "P1", "WH1"),
        ("SN-ALPHA-003", "RECEIVED", "P2", "WH2"),
    ]
    assert [n["location"]["code"] for n in nodes] == ["A-01", "A-02", "DOCK"]
    assert [m["kind"] for m in nodes[0]["movements"]] == ["EXPECT", "RECEIVE", "PUTAWAY"]
    assert [m["kind"] for m in nodes[2]["movements"]] == ["RECEIVE"]


async def test_pages_neither_repeat_nor_skip_while_serials_are_added(
    gql: Gql, db: Database
) -> None:
    # given 30 matching serials (and others that do not match)
    site = await make_site(db)
    product = await serial_product(db)
    numbers = [f"PG-{i:04d}" for i in range(30)] + [f"OTHER-{i}" for i in range(5)]
    await plan_asn(db, site, "ASN-0", expect(product, len(numbers), *numbers))

    # when pages of 7 are read while each read is followed by two new matching serials
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        answer = (await gql(LOOKUP, {"search": "pg-", "first": 7, "after": after}))["serialLookup"]
        seen += [n["serialNumber"] for n in answer["nodes"]]
        pages += 1
        if not answer["pageInfo"]["hasNextPage"]:
            break
        assert answer["pageInfo"]["hasPreviousPage"] is (after is not None)
        after = answer["pageInfo"]["endCursor"]
        if pages <= 4:
            batch = [f"pg-new-{pages}-{i}" for i in range(2)] + [f"OTHER-{pages}-x"]
            await plan_asn(db, site, f"ASN-{pages}", expect(product, len(batch), *batch))

    # then every serial that matched by the end was seen exactly once, oldest first
    every = await _all_matching(db, "pg-")
    assert len(seen) == len(set(seen)) == 30 + 4 * 2
    assert seen == every
    assert answer["totalCount"] == len(every)


async def _all_matching(db: Database, search: str) -> list[str]:
    query: Select[Any] = serial_search_query(SerialSearch(search=search)).order_by(Serial.id)
    async with db.read_sessions() as session:
        return [s.serial_number for s in await session.scalars(query)]


async def test_page_size_over_the_maximum_is_refused(gql: Gql, db: Database) -> None:
    await _catalogue(db)

    too_many = await gql(LOOKUP, {"first": MAX_PAGE_SIZE + 1}, errors_ok=True)
    negative = await gql(LOOKUP, {"first": -1}, errors_ok=True)
    bad_cursor = await gql(LOOKUP, {"after": "not-a-cursor"}, errors_ok=True)
    at_most = await gql(LOOKUP, {"first": MAX_PAGE_SIZE})

    assert too_many["data"] is None
    assert too_many["errors"] == [f"first must be between 0 and {MAX_PAGE_SIZE}"]
    assert negative["errors"] == [f"first must be between 0 and {MAX_PAGE_SIZE}"]
    assert bad_cursor["errors"] == ["'not-a-cursor' is not a cursor of this list"]
    assert len(at_most["serialLookup"]["nodes"]) == 9


async def test_a_wrong_kind_of_id_is_refused(gql: Gql, db: Database) -> None:
    ids = await _catalogue(db)

    answer = await gql(LOOKUP, {"productId": gid("Warehouse", ids["wh1"])}, errors_ok=True)

    assert answer["data"] is None
    assert answer["errors"] == [f"{gid('Warehouse', ids['wh1'])} is not the id of a Product"]


def test_prefix_successor_is_the_first_string_after_every_extension() -> None:
    assert prefix_successor("sn-a") == "sn-b"
    assert prefix_successor("a\U0010ffff") == "b"
    assert prefix_successor("\U0010ffff") is None
    assert prefix_successor("a\ud7ff") == "a\ue000"  # skipping the surrogates


async def test_a_prefix_search_reads_the_serial_key_index(db: Database) -> None:
    """The page query as the resolver runs it, with bound parameters: SQLite's plan, and
    PostgreSQL's generic plan (the one a reused prepared statement gets) with sequential
    scans priced out, must both search ix_serial_serial_key."""
    query = serial_search_query(SerialSearch(search="SN-AL")).order_by(Serial.id).limit(51)
    async with db.engine.connect() as conn:
        compiled = query.compile(dialect=conn.dialect)
        args = tuple(compiled.params[name] for name in compiled.positiontup or ())
        if db.name == "postgresql":
            await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            await conn.exec_driver_sql(f"PREPARE serial_lookup AS {compiled.string}")
            values = ", ".join(f"'{a}'" if isinstance(a, str) else str(a) for a in args)
            plan = await conn.exec_driver_sql(f"EXPLAIN EXECUTE serial_lookup({values})")
            lines = [row[0] for row in plan]
            await conn.exec_driver_sql("DEALLOCATE serial_lookup")
            # code-point order whatever the database's locale: one prefix, one index range
            collation = await conn.exec_driver_sql(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_name = 'serial' AND column_name = 'serial_key'"
            )
            assert collation.scalar() == "C"
        else:
            plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", args)
            lines = [row[-1] for row in plan]
    text = "\n".join(lines)
    assert "ix_serial_serial_key" in text, text
    assert "serial_key" in text
