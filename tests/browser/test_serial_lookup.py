"""Serial number look-up in the browser: a partial number, a status filter, a scanned GS1
label, and one serial's location and movement history."""

import asyncio

import pytest
from playwright.async_api import Route, expect

from tests.browser.conftest import SQLITE_ONLY, Tab

pytestmark = pytest.mark.sqlite_only(reason=SQLITE_ONLY)


async def test_look_up_a_serial_by_part_of_its_number_and_open_its_history(tab: Tab) -> None:
    page = tab.page
    await tab.open("/admin/serials")

    # when part of a number is searched, in lower case
    await page.get_by_label("Serial number (any part) or scan").fill("sn-lt-000")
    await page.keyboard.press("Enter")
    # then the demo's six laptops are listed
    await expect(page.locator("#count")).to_have_text("6 serials found.")

    # when narrowed to those in inventory
    await page.get_by_label("Status").select_option(label="In inventory")
    await expect(page.locator("#count")).to_have_text("4 serials found.")
    await expect(page.locator("#results")).not_to_contain_text("SN-LT-0005")

    # and one is opened
    await page.locator("#results button", has_text="SN-LT-0003").click()
    detail = page.locator("#detail")
    await expect(detail.get_by_role("heading", name="SN-LT-0003")).to_be_visible()
    await expect(detail).to_contain_text("In inventory")
    await expect(detail.locator("dl")).to_contain_text("A-01 (storage)")
    await expect(detail.locator("dl")).to_contain_text("MAIN — Main warehouse")
    # then its history is a timeline, newest first
    steps = detail.get_by_role("list", name="History of SN-LT-0003").locator("li .kind")
    await expect(steps).to_have_text(["Put away", "Received", "Expected on ASN"])
    await expect(detail.locator("ol li").first).to_contain_text("DOCK-1 → A-01")
    await tab.screenshots("serial-lookup")

    # and the Back button of the browser returns to the list
    await page.go_back()
    await expect(detail).to_be_hidden()


async def test_a_scanned_gs1_label_finds_its_serial(tab: Tab) -> None:
    page = tab.page
    await tab.open("/admin/serials")
    search = page.get_by_label("Serial number (any part) or scan")
    # a handheld types the label's data and Enter; the server reads the GS1 fields
    await search.press_sequentially("]C1010950600013435221SN-LT-0002")
    await search.press("Enter")
    await expect(page.locator("#count")).to_have_text("1 serial found.")
    await expect(page.locator("#results")).to_contain_text("SN-LT-0002")
    # the field is selected, so the next scan replaces it
    await search.press_sequentially("SN-LT-0004")
    await search.press("Enter")
    await expect(page.locator("#results")).to_contain_text("SN-LT-0004")
    await expect(search).to_have_value("SN-LT-0004")
    # a label whose serial (21) comes first, ended by GS, which the scanner sends as Ctrl+]
    await search.press_sequentially("]d221SN-LT-0002")
    await search.press("Control+BracketRight")
    await search.press_sequentially("0109506000134352")
    await search.press("Enter")
    await expect(page.locator("#count")).to_have_text("1 serial found.")
    await expect(page.locator("#results")).to_contain_text("SN-LT-0002")
    await expect(page.locator("#results")).not_to_contain_text("SN-LT-0004")
    await expect(search).to_have_value("]d221SN-LT-0002\x1d0109506000134352")


async def test_a_scan_made_while_the_page_is_still_loading_is_not_lost(tab: Tab) -> None:
    page = tab.page
    held = asyncio.Event()

    async def slow_first_answer(route: Route) -> None:
        # The first API answer (the product list) is held back: the page is still starting.
        if not held.is_set():
            held.set()
            await asyncio.sleep(0.5)
        await route.fallback()

    await page.route("**/graphql", slow_first_answer)
    await tab.open("/admin/serials", wait=False)
    search = page.get_by_label("Serial number (any part) or scan")
    # a handheld types at its own pace; the page finishes starting half-way through the label
    await search.press_sequentially("]C1010950600013435221SN-LT-0002", delay=40)
    await search.press("Enter")
    await expect(page.locator("#count")).to_have_text("1 serial found.")
    await expect(page.locator("#results")).to_contain_text("SN-LT-0002")
    await expect(search).to_have_value("]C1010950600013435221SN-LT-0002")
