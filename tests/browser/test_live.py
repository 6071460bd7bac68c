"""The live dashboard in the browser: mutations sent by another client (httpx) reach the
page over graphql-transport-ws and show in the feed, the counts and the charts."""

import re
from datetime import date, timedelta

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SQLITE_ONLY, Tab, gql_ok

pytestmark = pytest.mark.sqlite_only(reason=SQLITE_ONLY)

RECEIVE = """
mutation {
  receiveItems(input: {orderNumber: "ASN-1002",
                       lines: [{lineNumber: 1, serialNumbers: ["SN-LT-0005"]}]}) {
    userErrors { code message }
  }
}
"""

LOT_SOON = """
mutation ($expiry: Date!) {
  planReceivingOrder(input: {number: "ASN-5001", warehouseCode: "MAIN",
                             lines: [{productSku: "VITC-500", expectedQuantity: 10}]}) {
    userErrors { code message }
  }
  receiveItems(input: {orderNumber: "ASN-5001", lines: [
    {lineNumber: 1, lots: [{lotNumber: "LOT-SOON", quantity: 10, expiryDate: $expiry}]}]}) {
    userErrors { code message }
  }
}
"""


async def test_the_feed_shows_a_change_made_by_another_client(tab: Tab) -> None:
    page = tab.page
    await tab.open("/admin/live")
    received = page.locator('#tiles li[data-status="RECEIVED"] .count')
    expected = page.locator('#tiles li[data-status="EXPECTED"] .count')
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await expect(received).to_have_text("0")
    await expect(expected).to_have_text("2")
    # the page follows serial and lot changes
    await tab.server.wait_for_subscribers(2)

    # when a handheld receives a serial through the API
    gql_ok(await tab.server.gql(RECEIVE, actor="dock-handheld"))

    # then the change appears in the feed, with who made it, and the counts follow
    change = page.locator("#feed li").first
    await expect(change).to_contain_text("SN-LT-0005")
    await expect(change.locator(".change")).to_contain_text("Expected")
    await expect(change.locator(".change")).to_contain_text("Received")
    await expect(change).to_contain_text("by dock-handheld")
    await expect(change).to_contain_text("RECEIVING_ORDER ASN-1002")
    await expect(received).to_have_text("1")
    await expect(expected).to_have_text("1")
    chart = page.locator("#chart-status svg")
    await expect(chart).to_have_attribute(
        "aria-label",
        "Stock by serial status. Expected: 1; Received: 1; In inventory: 4; Allocated: 0; "
        "Picked: 0; Shipped: 0",
    )

    # and a lot received that expires within the week moves into that bar of the lot chart
    weeks = page.locator("#chart-expiry svg")
    await expect(weeks).to_have_attribute("aria-label", re.compile("Under 1 week: 0;"))
    expiry = (date.today() + timedelta(days=3)).isoformat()
    gql_ok(await tab.server.gql(LOT_SOON, {"expiry": expiry}))
    await expect(weeks).to_have_attribute("aria-label", re.compile("Under 1 week: 1;"))
    await tab.screenshots("live")


IMPORT = """
mutation ($csv: String!) {
  importCsv(input: {kind: OPENING_SERIALS, csv: $csv, reference: "STOCKTAKE-1"}) {
    report { serials }
    userErrors { code message }
  }
}
"""


async def test_an_import_by_another_client_moves_the_counts(tab: Tab) -> None:
    page = tab.page
    await tab.open("/admin/live")
    in_stock = page.locator('#tiles li[data-status="IN_INVENTORY"] .count')
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    await expect(in_stock).to_have_text("4")
    await tab.server.wait_for_subscribers(2)

    # when an integrator imports two serials of opening stock
    csv = "sku,serial_number,warehouse,location\nLAPTOP-14,SN-OPEN-1,MAIN,A-01\n"
    csv += "LAPTOP-14,SN-OPEN-2,MAIN,A-02\n"
    gql_ok(await tab.server.gql(IMPORT, {"csv": csv}, actor="integration"))

    # then both arrive in the feed, and the count follows without a reload
    await expect(in_stock).to_have_text("6")
    await expect(page.locator("#feed li").first).to_contain_text("IMPORT STOCKTAKE-1")
    await expect(page.locator("#feed")).to_contain_text("SN-OPEN-1")
