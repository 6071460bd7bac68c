"""scan(code): whatever a scanner sent, what it is and what it matches."""

from datetime import date
from typing import Any

import pytest

from models import Tracking
from services.putaway import Placement
from services.receiving import LineReceipt, LotEntry
from services.scanning import GROUP_SEPARATOR as GS
from tests.api.conftest import Gql
from tests.conftest import Database
from tests.services.builders import (
    expect,
    make_product,
    make_site,
    plan_asn,
    put_away,
    receive_lines,
)

LAPTOP_GTIN = "09506000134352"
VITAMIN_GTIN = "09506000134369"
UNKNOWN_GTIN = "09506000134376"  # valid check digit, no product has it
LOT_EXPIRY = date(2031, 3, 31)

SCAN = """
query ($code: String!) {
  scan(code: $code) {
    raw symbology format gtin serialNumber lotNumber expiryDate
    elements { ai value }
    error { code message }
    found message
    product { sku }
    serials { serialNumber status location { code } }
    lots { lotNumber expiryDate }
  }
}
"""


@pytest.fixture
async def stock(db: Database) -> None:
    """LAPTOP (GTIN 09506000134352): SN-1002 in A-01. VITC (GTIN 09506000134369): lot
    LOT-2026A, expiry 2031-03-31, in A-02. A second serial product shares number SN-7."""
    site = await make_site(db)
    laptop = await make_product(db, "LAPTOP", Tracking.SERIAL, gtin=LAPTOP_GTIN)
    vitamins = await make_product(db, "VITC", Tracking.LOT, gtin=VITAMIN_GTIN)
    phone = await make_product(db, "PHONE", Tracking.SERIAL)
    asn = await plan_asn(db, site, "ASN-1", expect(laptop, 2), expect(vitamins, 10))
    result = await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], serial_numbers=["SN-1002", "SN-7"]),
        LineReceipt(asn.line_ids[1], lots=[LotEntry("LOT-2026A", 10, LOT_EXPIRY)]),
    )
    serials, lot = result.putaway_tasks
    await put_away(db, serials.id, Placement(site.a01, 2))
    await put_away(db, lot.id, Placement(site.a02, 10))
    asn = await plan_asn(db, site, "ASN-2", expect(phone, 1, "SN-7"))


async def scan(gql: Gql, code: str) -> dict[str, Any]:
    answer: dict[str, Any] = (await gql(SCAN, {"code": code}))["scan"]
    return answer


def matched(answer: dict[str, Any]) -> tuple[str | None, list[str], list[str]]:
    product = answer["product"]["sku"] if answer["product"] else None
    return (
        product,
        [s["serialNumber"] for s in answer["serials"]],
        [lot["lotNumber"] for lot in answer["lots"]],
    )


@pytest.mark.usefixtures("stock")
async def test_a_plain_serial_number(gql: Gql) -> None:
    answer = await scan(gql, "SN-1002")

    assert answer["format"] == "PLAIN"
    assert answer["found"] is True
    assert matched(answer) == ("LAPTOP", ["SN-1002"], [])
    assert answer["serials"][0]["location"] == {"code": "A-01"}
    assert answer["error"] is None
    assert "SN-1002" in answer["message"]


@pytest.mark.usefixtures("stock")
async def test_a_plain_lot_number_in_another_case(gql: Gql) -> None:
    answer = await scan(gql, "lot-2026a")

    assert matched(answer) == ("VITC", [], ["LOT-2026A"])
    assert answer["lots"][0]["expiryDate"] == "2031-03-31"


@pytest.mark.usefixtures("stock")
async def test_a_plain_number_shared_by_two_products_finds_both(gql: Gql) -> None:
    answer = await scan(gql, "SN-7")

    # one serial is EXPECTED on ASN-2 for PHONE: both are listed, no single product
    assert matched(answer) == (None, ["SN-7", "SN-7"], [])
    assert [s["status"] for s in answer["serials"]] == ["IN_INVENTORY", "EXPECTED"]


@pytest.mark.usefixtures("stock")
@pytest.mark.parametrize(
    ("code", "symbology", "format"),
    [
        (f"01{LAPTOP_GTIN}21SN-1002", None, "GS1_ELEMENT_STRING"),
        (f"]C101{LAPTOP_GTIN}21SN-1002{GS}", "]C1", "GS1_ELEMENT_STRING"),
        (f"]d201{LAPTOP_GTIN}21SN-1002", "]d2", "GS1_ELEMENT_STRING"),
        (f"]Q301{LAPTOP_GTIN}21SN-1002", "]Q3", "GS1_ELEMENT_STRING"),
        (f"(01){LAPTOP_GTIN}(21)SN-1002", None, "GS1_HUMAN_READABLE"),
        (f"https://id.example.com/01/{LAPTOP_GTIN}/21/SN-1002", None, "GS1_DIGITAL_LINK"),
    ],
)
async def test_a_gs1_serial_label_in_every_format(
    gql: Gql, code: str, symbology: str | None, format: str
) -> None:
    answer = await scan(gql, code)

    assert (answer["format"], answer["symbology"]) == (format, symbology)
    assert (answer["gtin"], answer["serialNumber"]) == (LAPTOP_GTIN, "SN-1002")
    assert matched(answer) == ("LAPTOP", ["SN-1002"], [])
    assert answer["found"] is True
    assert answer["raw"] == code


@pytest.mark.usefixtures("stock")
@pytest.mark.parametrize("separator", [GS, "|"])
async def test_a_gs1_lot_label_with_day_00_expiry(gql: Gql, separator: str) -> None:
    # 310300: March 2031, day 00 = the last day of the month, as the lot is recorded
    answer = await scan(gql, f"]C101{VITAMIN_GTIN}17310300" + f"10lot-2026a{separator}30" + "10")

    assert answer["expiryDate"] == "2031-03-31"
    assert answer["lotNumber"] == "lot-2026a"
    assert matched(answer) == ("VITC", [], ["LOT-2026A"])
    assert {"ai": "30", "value": "10"} in answer["elements"]
    assert "expiry" not in answer["message"]  # label and record agree


@pytest.mark.usefixtures("stock")
async def test_a_label_expiry_that_disagrees_with_the_lot_is_pointed_out(gql: Gql) -> None:
    answer = await scan(gql, f"(01){VITAMIN_GTIN}(17)310330(10)LOT-2026A")

    assert matched(answer) == ("VITC", [], ["LOT-2026A"])
    assert "the label says expiry 2031-03-30" in answer["message"]


@pytest.mark.usefixtures("stock")
async def test_a_bare_gtin_finds_the_product(gql: Gql) -> None:
    answer = await scan(gql, LAPTOP_GTIN)

    assert answer["format"] == "GTIN"
    assert matched(answer) == ("LAPTOP", [], [])
    # as EAN-13 (no leading zero) too
    assert matched(await scan(gql, LAPTOP_GTIN[1:])) == ("LAPTOP", [], [])


@pytest.mark.usefixtures("stock")
async def test_a_bad_gtin_check_digit_is_reported(gql: Gql) -> None:
    bad = LAPTOP_GTIN[:-1] + "1"

    answer = await scan(gql, f"]C101{bad}")

    assert answer["error"]["code"] == "INVALID_CHECK_DIGIT"
    assert "check digit" in answer["error"]["message"]
    assert answer["gtin"] == bad
    assert answer["found"] is False
    assert answer["product"] is None


@pytest.mark.usefixtures("stock")
async def test_an_unmarked_bad_gtin_is_explained_rather_than_called_text(gql: Gql) -> None:
    answer = await scan(gql, LAPTOP_GTIN[:-1] + "1")

    assert answer["format"] == "GTIN"
    assert answer["error"]["code"] == "INVALID_CHECK_DIGIT"
    assert answer["found"] is False


@pytest.mark.usefixtures("stock")
async def test_nothing_matches(gql: Gql) -> None:
    answer = await scan(gql, "NOPE-1")

    assert answer["found"] is False
    assert matched(answer) == (None, [], [])
    assert answer["message"].startswith("nothing matches 'NOPE-1'")
    assert answer["error"] is None


@pytest.mark.usefixtures("stock")
async def test_an_unknown_gtin_and_serial_are_both_named(gql: Gql) -> None:
    answer = await scan(gql, f"]C101{UNKNOWN_GTIN}21SN-404")

    assert answer["found"] is False
    assert answer["message"] == (
        f"nothing matches this scan; no product has GTIN {UNKNOWN_GTIN}; no serial SN-404"
    )


@pytest.mark.usefixtures("stock")
async def test_a_known_product_with_an_unknown_serial(gql: Gql) -> None:
    answer = await scan(gql, f"]C101{LAPTOP_GTIN}21SN-404")

    assert matched(answer) == ("LAPTOP", [], [])
    assert "no serial SN-404 of LAPTOP" in answer["message"]


@pytest.mark.usefixtures("stock")
async def test_an_unmarked_gs1_string_is_used_when_the_text_matches_nothing(gql: Gql) -> None:
    # "21SN-1002": no serial has that number, but AI (21) with SN-1002 exists
    answer = await scan(gql, "21SN-1002")

    assert answer["format"] == "GS1_ELEMENT_STRING"
    assert matched(answer) == ("LAPTOP", ["SN-1002"], [])


@pytest.mark.usefixtures("stock")
async def test_an_empty_scan(gql: Gql) -> None:
    answer = await scan(gql, "   ")

    assert answer["error"]["code"] == "EMPTY"
    assert answer["found"] is False
