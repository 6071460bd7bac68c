"""The lots page and the admin's front page in the browser: lots set apart by expiry with
words and symbols as well as colour, and a lot's recall view."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SQLITE_ONLY, Tab

pytestmark = pytest.mark.sqlite_only(reason=SQLITE_ONLY)


async def test_lots_by_expiry_and_the_recall_view_of_a_lot(tab: Tab) -> None:
    page = tab.page
    await tab.open("/admin/lots")

    # the demo's lot expiring in 10 days is set apart, in words and with a symbol
    await expect(page.locator("#expired")).to_have_text("No expired lot is on hand.")
    soon = page.locator("#soon tbody tr")
    await expect(soon).to_have_count(1)
    await expect(soon).to_have_attribute("data-expiry", "soon")
    await expect(soon).to_contain_text("LOT-2026B")
    await expect(soon.locator('[data-expiry="soon"]')).to_have_text("⚠ Expires in 10 days")
    stock = page.locator("#stock tbody tr")
    await expect(stock).to_have_count(2)
    await expect(stock.nth(1)).to_contain_text("✓ Expires in 60 days")

    # a shorter window leaves it out
    await page.get_by_label("Expiring within", exact=True).select_option("7")
    await expect(page.locator("#soon")).to_have_text("No lot expires within 7 days.")
    await page.get_by_label("Expiring within", exact=True).select_option("30")

    # the recall view of a lot: where what is left of it is, and who took some
    await page.get_by_role("button", name="Recall view of lot LOT-2026A (VITC-500)").click()
    recall = page.locator("#recall")
    await expect(
        recall.get_by_role("heading", name="Recall view: lot LOT-2026A (VITC-500)")
    ).to_be_focused()
    await expect(recall).to_contain_text("Not on hold")
    await expect(recall.locator("table").first).to_contain_text("MAIN / A-02")
    await expect(recall).to_contain_text("No order has taken any of it.")
    await tab.screenshots("lots")


async def test_the_admin_front_page_leads_to_every_page(tab: Tab) -> None:
    page = tab.page
    await tab.open("/admin")
    tiles = page.locator("#pages a")
    await expect(tiles).to_have_count(6)
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Trackline")).to_have_attribute(
        "aria-current", "page"
    )
    await tab.screenshots("admin-home")
    await tiles.filter(has_text="Receiving").click()
    await expect(page).to_have_title("Receiving · Trackline")
    await expect(nav.get_by_role("link", name="Receiving")).to_have_attribute(
        "aria-current", "page"
    )
