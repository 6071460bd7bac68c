"""The leaf fast path gives exactly the answers and errors of ordinary execution."""

from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.context import Context
from schema import schema
from schema.execution import LeafFastPath
from tests.conftest import TRUSTED, Database
from tests.services.report_data import build_report_data

DOCUMENTS = [
    """{ products(first: 10) { nodes { sku name tracking gtin createdAt
         serials(first: 20) { pageInfo { hasNextPage endCursor }
           nodes { id serialNumber status receivedAt allowedEvents location { code kind }
             movements { kind quantity fromStatus toStatus documentType documentNumber
                         actor occurredAt fromLocation { code } toLocation { code } } } }
         lots(first: 20) { nodes { lotNumber expiryDate onHold holdReason } } } } }""",
    """{ serialLookup(search: "", first: 50) { totalCount nodes { serialNumber status } } }""",
    """{ lotInventory { sku lotNumber expiryDate daysToExpiry expired quantity } }""",
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


@strawberry.type
class Broken:
    name: str  # declared non-null, None at run time
    count: int  # an int declared, a string at run time


@strawberry.type
class BrokenQuery:
    @strawberry.field
    def broken(self) -> list[Broken]:
        return [Broken(name=None, count="many")]  # type: ignore[arg-type]


async def test_bad_values_fail_as_ordinary_execution_fails() -> None:
    broken = strawberry.Schema(query=BrokenQuery, execution_context_class=LeafFastPath)
    plain = strawberry.Schema(query=BrokenQuery)
    for document in ("{ broken { name } }", "{ broken { count } }"):
        fast_result = await broken.execute(document)
        plain_result = await plain.execute(document)
        assert fast_result.data == plain_result.data
        assert [e.message for e in fast_result.errors or []] == [
            e.message for e in plain_result.errors or []
        ]
        assert fast_result.errors
