"""Extension hooks found once per operation (schema/runner.py) act on every streamed result
as Strawberry's own runner has them act."""

from collections.abc import AsyncGenerator, Iterator
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension

from schema import Schema
from schema.runner import ExtensionsRunner


class Recording(SchemaExtension):
    """Changes each result before it goes out, and reports how many it saw."""

    def __init__(self) -> None:
        self.seen = 0

    def on_stream_result(self, result: Any) -> Iterator[None]:
        result.data = {"count": result.data["count"] * 10}
        yield
        self.seen += 1

    async def get_results(self) -> dict[str, Any]:
        return {"seen": self.seen}


class Counting(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        return {"counting": True}


class Quiet(SchemaExtension):
    """No hooks, nothing to report."""


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def count(self) -> AsyncGenerator[int, None]:
        for i in (1, 2, 3):
            yield i


async def _results(schema: strawberry.Schema) -> list[tuple[Any, Any]]:
    stream = await schema.subscribe("subscription { count }")
    assert isinstance(stream, AsyncGenerator)
    return [(r.data, r.extensions) async for r in stream]


async def test_every_result_passes_the_hooks_as_with_strawberrys_runner() -> None:
    # given the same schema with this runner and with Strawberry's
    options: dict[str, Any] = {
        "query": Query,
        "subscription": Subscription,
        "extensions": [Recording, Counting, Quiet],
    }
    ours, theirs = Schema(**options), strawberry.Schema(**options)
    assert isinstance(ours.create_extensions_runner(None, []), ExtensionsRunner)  # type: ignore[arg-type]

    # when each streams three results
    got, expected = await _results(ours), await _results(theirs)

    # then each result was changed by the hook, and carries what the extensions reported
    # when it was made (the hook's count went up after the result before it was sent)
    assert got == expected
    assert [data for data, _ in got] == [{"count": 10}, {"count": 20}, {"count": 30}]
    assert [extensions for _, extensions in got] == [
        {"seen": 0, "counting": True},
        {"seen": 1, "counting": True},
        {"seen": 2, "counting": True},
    ]
