"""The leaf fast path gives exactly the answers and errors of ordinary execution."""

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from graphql.pyutils import Undefined
from sqlalchemy import func, select
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from models import Location
from resolvers.context import Context
from schema import schema
from schema.execution import (
    EVENT,
    LEAF,
    LIST,
    REFERENCE,
    LeafFastPath,
    answered_at_once,
    listed_at_once,
)
from tests.conftest import TRUSTED, Database
from tests.services.report_data import build_report_data

DOCUMENTS = [
    """{ products(first: 10) { nodes { sku name tracking gtin createdAt
         serials(first: 20) { pageInfo { hasNextPage endCursor }
           nodes { id serialNumber status receivedAt allowedEvents location { code kind }
             product { sku tracking }
             movements { kind quantity fromStatus toStatus documentType documentNumber
                         actor occurredAt fromLocation { code } toLocation { code }
                         product { sku } } } }
         lots(first: 20) { nodes { lotNumber expiryDate onHold holdReason } } } } }""",
    """{ serialLookup(search: "", first: 50) { totalCount nodes { serialNumber status } } }""",
    """{ lotInventory { sku lotNumber expiryDate daysToExpiry expired quantity } }""",
    """{ products(first: 10) { nodes { serials(first: 20) { nodes { serialNumber
         movements(last: 2) { kind toLocation { code } } } } } } }""",
]


async def run_all(db: Database) -> list[tuple[Any, list[str]]]:
    answers = []
    for document in DOCUMENTS:
        context = Context(db.sessions, db.read_sessions, principal=TRUSTED)
        result = await schema.execute(document, context_value=context)
        answers.append((result.data, [str(e) for e in result.errors or []]))
    return answers


async def test_answers_are_those_of_ordinary_execution(db: Database) -> None:
    await build_report_data(
        db,
        today=datetime.now(UTC).date(),
        received_at=datetime.now(UTC) - timedelta(days=10),
    )
    assert schema.execution_context_class is LeafFastPath
    fast = await run_all(db)
    schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    try:
        plain = await run_all(db)
    finally:
        schema.execution_context_class = LeafFastPath
    assert fast == plain
    assert all(errors == [] for _, errors in fast)
    assert fast[0][0]["products"]["nodes"]  # the data set is not empty
    # and the fast paths were taken: planned for leaves and for references
    kinds = {key[1:]: plan[0] for key, plan in LeafFastPath._plans.items() if plan}
    assert kinds[("Movement", "occurredAt")] == LEAF
    assert kinds[("Movement", "toLocation")] == REFERENCE
    assert kinds[("Serial", "product")] == REFERENCE
    assert kinds[("Serial", "movements")] == LIST
    assert any(m for p in fast[3][0]["products"]["nodes"] for s in p["serials"]["nodes"]
               for m in s["movements"])  # fmt: skip
    # Strings and booleans are answered as they are when they are of exactly that type.
    as_is = {key[1:]: plan[4] for key, plan in LeafFastPath._plans.items() if plan}
    assert as_is[("Serial", "serialNumber")] is str
    assert as_is[("Lot", "onHold")] is bool
    assert as_is[("Movement", "quantity")] is None  # an Int's range is checked
    assert as_is[("Movement", "kind")] is None  # an enum's member is named
    # A location named by many movements was answered once and that answer reused: there
    # are no more distinct answers than locations.
    answers = [
        movement["toLocation"]
        for product in fast[0][0]["products"]["nodes"]
        for serial in product["serials"]["nodes"]
        for movement in serial["movements"]
        if movement["toLocation"] is not None
    ]
    async with db.read_sessions() as session:
        locations = await session.scalar(select(func.count()).select_from(Location))
    assert locations is not None
    assert len(answers) > locations
    assert len({id(answer) for answer in answers}) <= locations


@strawberry.type
class Broken:
    name: str  # declared non-null, None at run time
    count: int  # an int declared, a string at run time
    # Not of the types answered as they are (str, bool): serialized, as ordinarily.
    label: str = 7  # type: ignore[assignment]
    flag: bool = 0  # type: ignore[assignment]


@strawberry.type
class Holder:
    # Answered at once, like a loaded location: an object whose non-null field is None.
    @strawberry.field
    @answered_at_once(lambda _holder, _ctx: Broken(name=None, count=1))  # type: ignore[arg-type]
    def maybe(self) -> Broken | None:
        return Broken(name=None, count=1)  # type: ignore[arg-type]

    @strawberry.field
    @answered_at_once(lambda _holder, _ctx: Broken(name=None, count=1))  # type: ignore[arg-type]
    def surely(self) -> Broken:
        return Broken(name=None, count=1)  # type: ignore[arg-type]

    @strawberry.field
    @answered_at_once(lambda _holder, _ctx: "not a Broken")
    def mistaken(self) -> Broken | None:
        return Broken(name="fine", count=1)

    @strawberry.field
    @answered_at_once(lambda holder, _ctx: holder.no_such_attribute)
    def failing(self) -> Broken | None:
        raise ValueError("the resolver failed")


@strawberry.type
class Lister:
    # Lists answered at once, like a loaded history, given the field's arguments.
    @strawberry.field
    @listed_at_once(lambda _lister, _ctx, n=1: [Broken(name=None, count=1)] * n)  # type: ignore[arg-type]
    def surely(self, n: int = 1) -> list[Broken]:
        return [Broken(name=None, count=1)] * n  # type: ignore[arg-type]

    @strawberry.field
    @listed_at_once(lambda _lister, _ctx, n=1: [Broken(name=None, count=1)] * n)  # type: ignore[arg-type]
    def maybe(self, n: int = 1) -> list[Broken | None] | None:
        return [Broken(name=None, count=1)] * n  # type: ignore[arg-type]

    @strawberry.field
    @listed_at_once(lambda lister, _ctx, n=1: lister.no_such_attribute)
    def failing(self, n: int = 1) -> list[Broken] | None:
        raise ValueError("the resolver failed")

    @strawberry.field
    @listed_at_once(
        lambda _lister, _ctx, n=1: Undefined if n < 0 else [Broken(name="fine", count=n)]
    )
    def checked(self, n: int = 1) -> list[Broken]:
        if n < 0:
            raise ValueError("n must not be negative")
        return [Broken(name="fine", count=n)]


@strawberry.type
class Box:
    # Objects held as plain attributes, read by Strawberry's default resolver.
    inner: Broken | None  # its non-null field is None
    sure: Broken  # the same, non-null: the null goes up to the box
    wrong: Broken | None  # a string at run time


@strawberry.type
class BrokenQuery:
    @strawberry.field
    def broken(self) -> list[Broken]:
        return [Broken(name=None, count="many")]  # type: ignore[arg-type]

    @strawberry.field
    def holders(self) -> list[Holder | None]:
        return [Holder()]

    @strawberry.field
    def listers(self) -> list[Lister | None]:
        return [Lister(), Lister()]

    @strawberry.field
    def boxes(self) -> list[Box | None]:
        broken = Broken(name=None, count=1)  # type: ignore[arg-type]
        return [Box(inner=broken, sure=broken, wrong="not a Broken")]  # type: ignore[arg-type]


@strawberry.type
class BrokenSubscription:
    @strawberry.subscription
    async def boxes(self, times: int = 2) -> AsyncGenerator[Box, None]:
        for _ in range(times):
            broken = Broken(name=None, count=1)  # type: ignore[arg-type]
            yield Box(inner=broken, sure=broken, wrong="not a Broken")  # type: ignore[arg-type]


async def test_bad_values_fail_as_ordinary_execution_fails() -> None:
    broken = strawberry.Schema(query=BrokenQuery, execution_context_class=LeafFastPath)
    plain = strawberry.Schema(query=BrokenQuery)
    for document in (
        "{ broken { name } }",
        "{ broken { count } }",
        "{ broken { label flag } }",
        "{ holders { maybe { name count } } }",  # null at the reference, error in it
        "{ holders { surely { name } } }",  # the null goes up to the holder
        "{ holders { mistaken { name } } }",  # not the type: the resolver answers
        "{ holders { failing { name } } }",  # a failing fetch: the resolver's error
        "{ boxes { inner { name count } } }",  # attributes: null at the object, error in it
        "{ boxes { sure { name } } }",
        "{ boxes { wrong { name } } }",
        "{ boxes { inner { count } wrong { count } } }",
        "{ listers { surely { name } } }",  # the null goes up through the list to the lister
        "{ listers { maybe(n: 2) { name count } } }",  # null items, an error in each
        "{ listers { failing { name } } }",  # a failing fetch: the resolver's error
        "{ listers { checked(n: -1) { count } } }",  # refused by the resolver
        "{ listers { checked(n: 3) { count } a: checked { count } } }",  # fine
    ):
        fast_result = await broken.execute(document)
        plain_result = await plain.execute(document)
        assert fast_result.data == plain_result.data
        assert [(e.message, e.path) for e in fast_result.errors or []] == [
            (e.message, e.path) for e in plain_result.errors or []
        ]
        assert fast_result.errors or document.endswith(
            ("mistaken { name } } }", "flag } }", "a: checked { count } } }")
        )
    kinds = {key[1:]: plan[0] for key, plan in LeafFastPath._plans.items() if plan}
    assert kinds[("Box", "inner")] == REFERENCE
    assert kinds[("Lister", "checked")] == LIST
    # arguments from variables, coerced as the ordinary path coerces them
    document = "query($n: Int!) { listers { checked(n: $n) { count } } }"
    for n in (2, -1):
        fast_result = await broken.execute(document, variable_values={"n": n})
        plain_result = await plain.execute(document, variable_values={"n": n})
        assert (fast_result.data, str(fast_result.errors)) == (
            plain_result.data,
            str(plain_result.errors),
        )


async def test_subscription_events_answer_as_ordinary_execution() -> None:
    # given the same subscription on a schema with the fast paths and one without
    def schema_of(**fast: Any) -> strawberry.Schema:
        return strawberry.Schema(query=BrokenQuery, subscription=BrokenSubscription, **fast)

    broken, plain = schema_of(execution_context_class=LeafFastPath), schema_of()
    for document in (
        "subscription { boxes(times: 3) { inner { name count } } }",
        "subscription { boxes { sure { name } } }",  # the null goes up to the event
        "subscription { boxes { wrong { count } inner { count } } }",
    ):
        # when each receives its events
        answers = []
        for each in (broken, plain):
            stream = await each.subscribe(document)
            assert isinstance(stream, AsyncGenerator)
            answers.append(
                [(r.data, [(e.message, e.path) for e in r.errors or []]) async for r in stream]
            )
        # then they are the same, errors included, for every event
        assert answers[0] == answers[1]
        assert len(answers[0]) == (3 if "times: 3" in document else 2)
        assert all(errors for _, errors in answers[0])
    # and the root field was answered by the event itself
    kinds = {key[1:]: plan[0] for key, plan in LeafFastPath._plans.items() if plan}
    assert kinds[("BrokenSubscription", "boxes")] == EVENT
