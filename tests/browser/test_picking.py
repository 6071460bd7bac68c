"""Picking in the browser: an order's pick list, a wrong scan refused and shown, then each
task confirmed by scanning — a serial, and a lot label whose fields a scanner separates
with GS (sent as Ctrl+])."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SQLITE_ONLY, Tab, gql_ok

pytestmark = pytest.mark.sqlite_only(reason=SQLITE_ONLY)

ORDER = """
mutation {
  createOrder(input: {number: "SO-4001", warehouseCode: "MAIN", customerReference: "ACME-4",
    lines: [{productSku: "LAPTOP-14", quantity: 1}, {productSku: "VITC-500", quantity: 5}]}) {
    userErrors { code message }
  }
  allocateOrder(input: {orderNumber: "SO-4001"}) {
    order {
      pickTasks { location { code } allocation { serial { serialNumber } lot { lotNumber } } }
    }
    userErrors { code message }
  }
}
"""


async def test_pick_by_scanning_with_a_wrong_scan_refused(tab: Tab) -> None:
    allocated = gql_ok(await tab.server.gql(ORDER))["allocateOrder"]["order"]["pickTasks"]
    serial = allocated[0]["allocation"]["serial"]["serialNumber"]
    lot = allocated[1]["allocation"]["lot"]["lotNumber"]
    page = tab.page
    await tab.open("/admin/picking")
    scanner = page.locator("#scan-input")

    # the pick list's order number is scanned
    await scanner.press_sequentially("SO-4001")
    await scanner.press("Enter")
    await expect(page.locator("#order-title")).to_have_text("SO-4001")
    await expect(page.locator("#tasks > li")).to_have_count(2)
    await expect(page.locator("#progress")).to_have_text("0 of 2 tasks done")

    # a serial that is not in the warehouse is refused, clearly, and nothing is picked
    await scanner.press_sequentially("SN-NOT-HERE")
    await scanner.press("Enter")
    refusal = page.get_by_role("alert")
    await expect(refusal).to_contain_text("Scan refused: SN-NOT-HERE")
    await expect(refusal).to_contain_text("UNKNOWN_SERIAL")
    await expect(page.locator('#tasks > li[data-refused="true"]')).to_contain_text(serial)
    await expect(page.locator("#progress")).to_have_text("0 of 2 tasks done")
    await expect(scanner).to_be_focused()
    await tab.screenshots("picking-refused")

    # the allocated serial is scanned
    await scanner.press_sequentially(serial)
    await scanner.press("Enter")
    await expect(page.locator("#message .notice.ok")).to_contain_text(f"Picked serial {serial}")
    await expect(page.locator("#progress")).to_have_text("1 of 2 tasks done")

    # and the lot's GS1 label: lot (10), then GS, then the GTIN (01)
    await scanner.press_sequentially(f"]C110{lot}")
    await scanner.press("Control+BracketRight")
    await scanner.press_sequentially("0109506000134369")
    await scanner.press("Enter")
    await expect(page.locator("#message .notice.ok")).to_contain_text(
        f"Picked 5 × VITC-500 lot {lot}"
    )
    await expect(page.locator("#progress")).to_have_text("✔ All 2 tasks done — order is picked")
    await tab.screenshots("picking")

    state = await tab.server.gql('{ order(number: "SO-4001") { status } }')
    assert state == {"order": {"status": "PICKED"}}
