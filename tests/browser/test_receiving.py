"""Receiving in the browser: an ASN with a serial line and a lot line, serials scanned (GS1
labels among them, one damaged, and one serial not on the ASN), two lots on one line with a
running total, refusals shown where the server places them, then the receipt."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SQLITE_ONLY, Tab, gql_ok

pytestmark = pytest.mark.sqlite_only(reason=SQLITE_ONLY)

PLAN = """
mutation {
  planReceivingOrder(input: {number: "ASN-3001", warehouseCode: "MAIN", supplier: "Contoso",
    lines: [{productSku: "LAPTOP-14", expectedQuantity: 2,
             expectedSerialNumbers: ["SN-R-0001", "SN-R-0002"]},
            {productSku: "VITC-500", expectedQuantity: 50}]}) {
    userErrors { code message }
  }
}
"""

RECEIVED = """
{
  receivingOrder(number: "ASN-3001") { status lines { receivedQuantity } }
  lot(sku: "VITC-500", lotNumber: "LOT-R2") { expiryDate stock { onHand } }
}
"""


async def test_receive_an_asn_with_a_serial_line_and_two_lots_on_one_line(tab: Tab) -> None:
    gql_ok(await tab.server.gql(PLAN))
    page = tab.page
    await tab.open("/admin/receiving")
    scanner = page.locator("#scan-input")
    await expect(page.locator("#asns")).to_contain_text("ASN-3001")

    # the ASN's number is scanned to open it
    await scanner.press_sequentially("ASN-3001")
    await scanner.press("Enter")
    await expect(page.locator("#asn-title")).to_have_text("ASN-3001")
    await expect(scanner).to_be_focused()

    # its two serials are scanned: one printed plainly, one as GS1 data with "|" from a
    # label whose GTIN check digit is damaged (only the server can tell)
    line_1 = page.locator("#line-1")
    await expect(line_1.locator(".counter")).to_have_text("0 of 2 scanned — 2 to go")
    await scanner.press_sequentially("SN-R-0001")
    await scanner.press("Enter")
    await expect(line_1.locator(".counter")).to_have_text("1 of 2 scanned — 1 to go")
    await scanner.press_sequentially("21SN-R-0002|0109506000134353")
    await scanner.press("Enter")
    await expect(line_1.locator(".counter")).to_have_text("2 of 2 scanned ✔ all there")
    await expect(line_1.locator('li[data-state="scanned"]')).to_have_count(2)
    await expect(scanner).to_be_focused()
    # a third serial, which the ASN does not name, is flagged at once
    await scanner.press_sequentially("SN-R-0099")
    await scanner.press("Enter")
    await expect(page.locator("#message .notice.warn")).to_contain_text(
        "SN-R-0099 is not on this ASN"
    )
    await expect(line_1.locator(".counter")).to_have_text("3 of 2 scanned — 1 too many")

    # two lots are entered on the vitamin line, the first with an expiry already past
    line_2 = page.locator("#line-2")
    first, second = line_2.locator(".lot-row").nth(0), line_2.locator(".lot-row").nth(1)
    await first.get_by_label("Lot number").fill("LOT-R1")
    await first.get_by_label("Quantity").fill("30")
    await first.get_by_label("Expiry date (optional)").fill("2020-01-31")
    await expect(line_2.locator(".counter")).to_have_text("30 of 50 in lots — 20 to go")
    await line_2.get_by_role("button", name="+ Add Another Lot").click()
    await second.get_by_label("Lot number").fill("LOT-R2")
    await second.get_by_label("Quantity").fill("20")
    await second.get_by_label("Expiry date (optional)").fill("2031-06-30")
    await expect(line_2.locator(".counter")).to_have_text("50 of 50 in lots ✔ all there")

    # then receiving is refused, and each refusal is shown where the server places it: on
    # the damaged label's serial, on the line, at the expiry date
    await page.get_by_role("button", name="Receive", exact=True).click()
    await expect(page.locator("#summary [role=alert]")).to_contain_text("Nothing was received")
    await expect(line_1.locator('li[data-state="refused"]')).to_contain_text("SN-R-0002")
    line_errors = line_1.locator(".line-errors")
    await expect(line_errors).to_contain_text(
        "SN-R-0002: the GTIN on the label has a wrong check digit"
    )
    await expect(line_errors).to_contain_text("serial SN-R-0099 is not expected on line 1")
    expiry = first.get_by_label("Expiry date (optional)")
    await expect(expiry).to_have_attribute("aria-invalid", "true")
    await expect(first.locator(".field-error")).to_contain_text("expired on 2020-01-31")
    await tab.screenshots("receiving-refused")

    # when the stray serial is removed, the good label scanned instead of the damaged one
    # and the date corrected, everything is received at once
    await line_1.get_by_role("button", name="Remove SN-R-0099").click()
    await line_1.get_by_role("button", name="Remove SN-R-0002").click()
    await scanner.press_sequentially("21SN-R-0002|0109506000134352")
    await scanner.press("Enter")
    await expect(line_1.locator(".counter")).to_have_text("2 of 2 scanned ✔ all there")
    await expiry.fill("2031-03-31")
    await page.get_by_role("button", name="Receive", exact=True).click()
    success = page.locator("#message .notice.ok")
    await expect(success).to_contain_text("Received on ASN-3001: it is now received")
    await expect(success.locator("li")).to_have_count(3)  # a putaway task per line or lot
    await expect(page.locator("#line-1")).to_contain_text("Nothing more to receive")
    await tab.screenshots("receiving")

    state = await tab.server.gql(RECEIVED)
    assert state["receivingOrder"] == {
        "status": "RECEIVED",
        "lines": [{"receivedQuantity": 2}, {"receivedQuantity": 50}],
    }
    assert state["lot"] == {"expiryDate": "2031-06-30", "stock": {"onHand": 20}}
