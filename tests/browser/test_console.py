"""The GraphQL console in the browser: field completion from the schema, running a query,
the documentation explorer, an example from the picker, a subscription over WebSocket, and
the history."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SQLITE_ONLY, Tab, gql_ok

pytestmark = pytest.mark.sqlite_only(reason=SQLITE_ONLY)

RECEIVE = """
mutation {
  receiveItems(input: {orderNumber: "ASN-1002",
                       lines: [{lineNumber: 1, serialNumbers: ["SN-LT-0006"]}]}) {
    userErrors { code message }
  }
}
"""


async def test_the_console_completes_runs_a_query_and_shows_the_docs(tab: Tab) -> None:
    page = tab.page
    await tab.open("/graphql")
    editor = page.get_by_role("textbox", name="Operation")
    result = page.locator("#result")

    # once the schema has been read (the documentation explorer shows its root types)
    await expect(page.locator("#docs")).to_contain_text("Start from an operation's root")
    # when a query is typed, the fields of the type at the cursor are offered
    await editor.fill("")
    await editor.press_sequentially("{ warehouses { co")
    suggestions = page.get_by_role("listbox", name="Suggestions")
    await expect(suggestions.get_by_role("option")).to_have_text(["codeString!"])
    await editor.press("Enter")
    await editor.press_sequentially(" name }")
    await expect(editor).to_have_value("{ warehouses { code name }")
    # and Ctrl+Enter runs it
    await editor.press_sequentially(" }")
    await editor.press("Control+Enter")
    await expect(result).to_contain_text('"code": "MAIN"')
    await expect(page.locator("#run-status")).to_contain_text("HTTP 200")
    # the coloured copy under the editor has the same text
    await expect(page.locator(".editor .highlight .t-field").first).to_have_text("warehouses")

    # the documentation explorer, from the root type down to a field's arguments
    await page.get_by_role("button", name="Docs").click()
    docs = page.locator("#docs")
    await docs.get_by_role("button", name="Query", exact=True).first.click()
    await expect(docs.get_by_role("heading", name="Query")).to_be_visible()
    await expect(docs).to_contain_text("Find serials by number, in any case")
    await docs.get_by_role("button", name="serialLookup(", exact=False).click()
    await expect(docs.get_by_role("heading", name="Query.serialLookup")).to_be_visible()
    await expect(docs.locator(".doc-fields")).to_contain_text("match: SerialMatch! = PREFIX")
    await docs.get_by_role("button", name="SerialMatch!").click()
    await expect(docs).to_contain_text("CONTAINS")
    await docs.get_by_role("button", name="← Back").click()
    await expect(docs.get_by_role("heading", name="Query.serialLookup")).to_be_visible()

    # an example from the picker runs as it is
    await page.get_by_label("Example").select_option(
        label="Reports: serial counts, lot stock by expiry, expiring lots, lot movements"
    )
    await expect(page.get_by_label("Variables (JSON)")).to_have_value('{"days": 30}')
    await page.get_by_role("button", name="▶ Run").click()
    await expect(result).to_contain_text('"lotInventory"')
    await expect(result).not_to_contain_text('"errors"')
    await tab.screenshots("console")

    # the runs are in the history, newest first
    await page.get_by_role("button", name="History").click()
    await expect(page.locator("#history-list li").first).to_contain_text("Reports")


async def test_the_console_follows_a_subscription(tab: Tab) -> None:
    page = tab.page
    await tab.open("/graphql")
    await page.get_by_label("Example").select_option(
        label="Subscription: serial status changes as they commit"
    )
    await page.get_by_role("button", name="▶ Run").click()
    await expect(page.locator("#run-status")).to_contain_text("Subscribed")
    await tab.server.wait_for_subscribers(1)

    gql_ok(await tab.server.gql(RECEIVE))

    result = page.locator("#result")
    await expect(result).to_contain_text("event 1")
    await expect(result).to_contain_text('"serialNumber": "SN-LT-0006"')
    await page.get_by_role("button", name="■ Stop").click()
    await expect(page.locator("#run-status")).to_have_text("Stopped")
