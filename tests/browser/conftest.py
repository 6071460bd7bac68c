"""Browser tests: Debian's Chromium (/usr/bin/chromium, never a downloaded browser) driven
by Playwright against a real `trackline serve` on 127.0.0.1, on a copy of the migrated
SQLite template loaded with the demo data.

The admin must work on a machine without internet, so every request for another host is
aborted and counted, and a test fails when the count is not zero at its end (as it does
on an error thrown in the page). Screenshots at phone and desktop width are written to
test-artifacts/screenshots/."""

import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    Page,
    Route,
    ViewportSize,
    WebSocketRoute,
    async_playwright,
)

from tests.conftest import ENGINES, UNDER_CI
from tests.e2e.live import Server, serving
from trackline.db import create_engines
from trackline.demo import seed_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Looked up once at import: bin/test installs the package before pytest starts.
CHROMIUM_INSTALLED = CHROMIUM.exists()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE: ViewportSize = {"width": 360, "height": 780}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
SQLITE_ONLY = "the browser drives the admin pages; the API under them is tested on both engines"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if "sqlite" not in ENGINES:
        pytest.skip("browser tests run on SQLite, which TRACKLINE_TEST_ENGINES leaves out")
    if not CHROMIUM_INSTALLED:
        message = f"{CHROMIUM} is missing (Debian package `chromium`; bin/test installs it)"
        if UNDER_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def server(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Server]:
    path = tmp_path / "trackline.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    engines = create_engines(url)
    try:
        assert await seed_demo(engines.sessions())
    finally:
        await engines.dispose()
    async with serving(url) as running:
        yield running


@dataclass
class Tab:
    """A browser tab on the server under test, and what it tried that it must not."""

    page: Page
    server: Server
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def open(self, path: str, *, wait: bool = True) -> None:
        await self.page.goto(self.server.base + path, wait_until="commit" if not wait else "load")
        if wait:
            # Every page marks itself ready once its first data is in and its handlers listen.
            await self.page.wait_for_selector("html[data-ready=true]", state="attached")

    async def screenshots(self, name: str) -> None:
        """The page as it is now at phone width, then at desktop width (where it stays)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for size, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
            await self.page.set_viewport_size(size)
            await self.page.evaluate("() => window.scrollTo(0, 0)")
            # Two frames: one to lay out at the new width, one for charts drawn on resize.
            await self.page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            await self.page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)


@asynccontextmanager
async def opened_tab(browser: Browser, server: Server, token: str | None) -> AsyncIterator[Tab]:
    """A tab in a fresh browser profile, signed in with `token` (or not at all), that may
    reach this server only and must throw no errors."""
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    opened = Tab(page, server)
    ours = urlsplit(server.base).netloc

    async def only_ours(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            await route.continue_()
        else:
            opened.outside.append(route.request.url)
            await route.abort()

    async def no_outside_socket(socket: WebSocketRoute) -> None:
        opened.outside.append(socket.url)
        await socket.close()

    if token is not None:
        # Signed in as someone given a token would be; the pages read it from localStorage.
        await context.add_init_script(
            f"localStorage.setItem('trackline.token', {json.dumps(token)})"
        )
    await context.route("**/*", only_ours)
    await context.route_web_socket(lambda url: urlsplit(url).netloc != ours, no_outside_socket)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    try:
        yield opened
    finally:
        await context.close()
    assert opened.outside == [], "the page asked for addresses outside this server"
    assert opened.errors == [], "the page threw errors"


@pytest.fixture
async def tab(browser: Browser, server: Server) -> AsyncIterator[Tab]:
    async with opened_tab(browser, server, await server.token("floor")) as signed_in:
        yield signed_in


def gql_ok(data: dict[str, Any]) -> dict[str, Any]:
    """An answer whose every payload was accepted (no userErrors)."""
    for answer in data.values():
        if isinstance(answer, dict):
            assert not answer.get("userErrors"), answer
    return data
