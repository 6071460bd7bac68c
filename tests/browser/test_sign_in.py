"""Signing in: a browser without a token is asked for one, a link from `serve --demo` signs
it in, and signing out forgets the token."""

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import SQLITE_ONLY, opened_tab
from tests.e2e.live import Server

pytestmark = pytest.mark.sqlite_only(reason=SQLITE_ONLY)


async def test_a_browser_without_a_token_is_asked_for_one(browser: Browser, server: Server) -> None:
    secret = await server.token("dock-3")
    async with opened_tab(browser, server, token=None) as tab:
        page = tab.page
        # when a floor page is opened without a token
        await tab.open("/admin/serials", wait=False)
        # then the server's refusal opens the sign-in form
        dialog = page.get_by_role("dialog", name="Sign in with an API token")
        await expect(dialog).to_be_visible()
        await expect(page.locator("#message")).to_contain_text("needs an API token")

        # when a token is given, the page starts again signed in
        await dialog.get_by_label("API token").fill(secret)
        await dialog.get_by_role("button", name="Sign in").click()
        await page.wait_for_selector("html[data-ready=true]", state="attached")
        await expect(page.locator(".account")).to_contain_text("dock-3 · admin")
        assert await page.evaluate("localStorage.getItem('trackline.token')") == secret

        # and signing out forgets it
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.get_by_role("dialog", name="Sign in with an API token")).to_be_visible()
        assert await page.evaluate("localStorage.getItem('trackline.token')") is None


async def test_the_demo_link_signs_in_and_leaves_the_address_bar(
    browser: Browser, server: Server
) -> None:
    secret = await server.token("demo")
    async with opened_tab(browser, server, token=None) as tab:
        await tab.open(f"/admin#token={secret}")
        await expect(tab.page.locator(".account")).to_contain_text("demo · admin")
        assert tab.page.url == f"{server.base}/admin"
