"""The top bar at phone width: every page's link can be seen and tapped without scrolling
the bar sideways (a scanner user has one hand free)."""

import pytest
from playwright.async_api import Browser

from tests.browser.conftest import PHONE, SQLITE_ONLY, opened_tab
from tests.e2e.live import Server


@pytest.mark.sqlite_only(reason=SQLITE_ONLY)
async def test_every_link_of_the_bar_is_on_screen_at_phone_width(
    browser: Browser, server: Server
) -> None:
    async with opened_tab(browser, server, await server.token("floor")) as tab:
        await tab.page.set_viewport_size(PHONE)
        await tab.open("/admin/serials")
        links = tab.page.locator("#site-nav a")
        assert await links.count() == 7  # the brand and six pages
        for i in range(await links.count()):
            box = await links.nth(i).bounding_box()
            assert box is not None
            name = await links.nth(i).inner_text()
            assert box["x"] >= 0, name
            assert box["x"] + box["width"] <= PHONE["width"], name
            assert box["height"] >= 44, name  # still a touch target
        bar = await tab.page.evaluate(
            "() => { const n = document.getElementById('site-nav');"
            " return [n.scrollWidth, n.clientWidth]; }"
        )
        assert bar[0] <= bar[1]  # nothing hidden off to the side
