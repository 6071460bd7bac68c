"""Runs the README's subscription document while the walk-through runs, so the live-updates
example cannot drift from the API (the transports are tested in tests/e2e)."""

import asyncio
import re
from typing import Any

from resolvers.context import Context
from schema import schema
from services.events import InProcessBus
from tests.api.test_readme_walkthrough import README, readme_steps, resolved
from tests.conftest import TRUSTED, Database

LIVE_STEP = re.compile(r"<!-- live: (?P<name>\w+) -->\s*```graphql\n(?P<doc>.*?)```", re.S)


async def test_readme_subscription_reports_the_walkthrough_as_it_commits(db: Database) -> None:
    # given the README's subscription, on a bus like the one `serve` runs
    (document,) = [m["doc"] for m in LIVE_STEP.finditer(README.read_text())]
    bus = InProcessBus()
    stream = await schema.subscribe(
        document, variable_values={"productId": None}, context_value=Context(
            db.sessions, db.read_sessions, principal=TRUSTED, actor="dashboard", bus=bus
        )
    )  # fmt: skip
    messages: list[dict[str, Any]] = []

    async def follow() -> None:
        async for result in stream:
            assert result.errors is None, result.errors
            assert result.data is not None
            messages.append(result.data["serialStatusChanged"])

    follower = asyncio.create_task(follow())
    for _ in range(100):
        if bus.subscriber_count:
            break
        await asyncio.sleep(0.01)
    assert bus.subscriber_count == 1

    # when the walk-through runs, as the ERP
    context = Context(db.sessions, db.read_sessions, principal=TRUSTED, actor="erp", bus=bus)
    answers: dict[str, Any] = {}
    for name, step, variables in readme_steps():
        result = await schema.execute(step, resolved(variables, answers), context_value=context)
        assert result.errors is None, (name, result.errors)
        answers[name] = result.data

    # then the subscriber saw the laptops received, stored, one shipped, the other
    # picked for another order and returned to stock (allocating and picking are not among
    # the statuses it asked for)
    for _ in range(200):
        if len(messages) >= 6:
            break
        await asyncio.sleep(0.02)
    follower.cancel()
    seen = [(m["serial"]["serialNumber"], m["fromStatus"], m["toStatus"]) for m in messages]
    assert seen == [
        ("SN-1001", "EXPECTED", "RECEIVED"),
        ("SN-1002", "EXPECTED", "RECEIVED"),
        ("SN-1001", "RECEIVED", "IN_INVENTORY"),
        ("SN-1002", "RECEIVED", "IN_INVENTORY"),
        ("SN-1001", "PICKED", "SHIPPED"),
        ("SN-1002", "PICKED", "IN_INVENTORY"),
    ]
    assert {m["actor"] for m in messages} == {"erp"}
    shipped = messages[4]
    assert shipped["movement"]["documentType"] == "ORDER"
    assert shipped["serial"]["warehouse"] == {"code": "MAIN"}
