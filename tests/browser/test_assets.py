"""The admin and the console must work on a machine with no internet: nothing they serve
names an outside address, not even in a comment, and they load no web fonts or source
maps. The browser tests also abort and count any request for another host; the last test
here shows that guard catching one, so its count of zero elsewhere means something."""

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.browser.conftest import SQLITE_ONLY, opened_tab
from tests.e2e.live import Server

GRAPHIQL = Path(__file__).resolve().parents[2] / "graphiql"
# scheme://…, or a protocol-relative //host.name
OUTSIDE = re.compile(r"[a-z][a-z0-9+.-]*://|(?<![:\w/])//[a-z0-9-]+\.[a-z]", re.I)
LINKS = re.compile(r"""(?:src|href)=["']([^"']*)["']""")


def served_files() -> list[Path]:
    return sorted(p for p in GRAPHIQL.rglob("*") if p.is_file())


def test_no_served_file_names_an_outside_address() -> None:
    found = {
        str(path.relative_to(GRAPHIQL)): OUTSIDE.findall(path.read_text())
        for path in served_files()
    }
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_no_web_fonts_imports_or_source_maps() -> None:
    for path in served_files():
        text = path.read_text()
        for marker in ("@font-face", "@import", "sourceMappingURL"):
            assert marker not in text, f"{path.name} has {marker}"


def test_pages_link_only_to_this_server() -> None:
    pages = [GRAPHIQL / "console.html", *sorted((GRAPHIQL / "pages").glob("*.html"))]
    assert len(pages) > 1
    for page in pages:
        links = LINKS.findall(page.read_text())
        assert links, page.name
        assert all(link.startswith("/") and not link.startswith("//") for link in links), links


# TEST-NET-1 (RFC 5737): never routed, so nothing leaves the machine even if the guard failed.
ELSEWHERE = "192.0.2.1"
REACH_OUT = """async (host) => {
  const fetched = await fetch(`http://${host}/font.woff2`).then(() => true, () => false);
  const socket = new WebSocket(`ws://${host}/graphql`);
  await new Promise((done) => { socket.onclose = done; socket.onerror = done; });
  return fetched;
}"""


@pytest.mark.sqlite_only(reason=SQLITE_ONLY)
async def test_a_request_for_another_host_is_aborted_and_counted(
    browser: Browser, server: Server
) -> None:
    async with opened_tab(browser, server, await server.token("floor")) as tab:
        await tab.open("/admin")
        # when the page asks another host for a file and opens a WebSocket to it
        fetched = await tab.page.evaluate(REACH_OUT, ELSEWHERE)
        # then the request fails and both are counted (which fails any other test)
        assert fetched is False
        assert tab.outside == [f"http://{ELSEWHERE}/font.woff2", f"ws://{ELSEWHERE}/graphql"]
        tab.outside.clear()  # asked for on purpose here
