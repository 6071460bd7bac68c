"""Generated documents for the whole schema: schemathesis (GraphQL mode, over the schema the
application serves) writes queries and mutations for every root field — valid ones and
ones that break the schema's rules — and each goes to the real application in process
(routes, middleware, limits, masking) with an admin token. No answer may be a 5xx, and
every error in an answer must carry a string `extensions.code`.

A bounded number of examples per field keeps this to seconds per engine; failures are
collected (field, document, status, answer) and reported together.
"""

import asyncio
import json
import warnings
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import schemathesis.graphql
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from schema import schema as app_schema
from services.access import Role, system
from services.tokens import issue
from tests.api.conftest import app_client
from tests.conftest import Database
from tests.services.builders import lot_product, make_site, serial_product, stock_lot, stock_serials

POSITIVE_EXAMPLES = 12
NEGATIVE_EXAMPLES = 4
T = TypeVar("T")


@dataclass(frozen=True)
class Failure:
    field: str
    document: str
    status: int
    answer: str

    def __str__(self) -> str:
        return f"{self.field} -> {self.status}: {self.answer[:300]}\n{self.document[:600]}"


async def _headers(db: Database) -> dict[str, str]:
    """The headers of every request (the one place this module authenticates)."""
    async with db.sessions.begin() as session:
        issued = await issue(session, name="fuzz", role=Role.ADMIN, expires_at=None, by=system())
    return {"Authorization": f"Bearer {issued.secret}"}


def _problems(status: int, body: bytes) -> str | None:
    """What is wrong with an answer, or None."""
    if status >= 500:
        return "a 5xx"
    try:
        answer = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(answer, dict):
        return "not an object"
    for error in answer.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if not isinstance(code, str) or not code:
            return f"an error without extensions.code: {error.get('message')!r}"
    return None


def _fuzz(loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> list[Failure]:
    """Runs in a worker thread: hypothesis drives the generation synchronously, and each
    request runs on the test's loop (where the application and its engines live)."""

    def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generated = schemathesis.graphql.from_file(app_schema.as_str())
        results = list(generated.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 40, results
    failures: list[Failure] = []

    def runner(label: str, strategy: Any, examples: int) -> Any:
        seen: set[str] = set()

        @given(case=strategy)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def one(case: Any) -> None:
            document = case.body if isinstance(case.body, str) else json.dumps(case.body)
            if document in seen:
                return
            seen.add(document)
            response = on_loop(client.post("/graphql", json={"query": document}))
            problem = _problems(response.status_code, response.content)
            if problem is not None:
                answer = f"{problem}: {response.text}"
                failures.append(Failure(label, document, response.status_code, answer))

        return one

    for operation in operations:
        for mode, examples in (
            (GenerationMode.POSITIVE, POSITIVE_EXAMPLES),
            (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES),
        ):
            runner(operation.label, operation.as_strategy(generation_mode=mode), examples)()
    return failures


async def test_generated_documents_never_get_a_5xx_or_an_uncoded_error(db: Database) -> None:
    # a little of everything, so that lookups find rows
    site = await make_site(db)
    serials = await serial_product(db)
    lots = await lot_product(db)
    await stock_serials(db, site, serials, "S-1", "S-2", "S-3")
    await stock_lot(db, site, lots, "L-1", 5)
    headers = await _headers(db)

    async with app_client(db) as client:
        client.headers.update(headers)
        failures = await asyncio.to_thread(_fuzz, asyncio.get_running_loop(), client)

    kinds: dict[tuple[str, str], Failure] = {}
    for failure in failures:
        kinds.setdefault((failure.field, failure.answer[:70]), failure)
    assert not failures, f"{len(failures)} bad answers, {len(kinds)} kinds:\n" + "\n\n".join(
        str(f) for f in kinds.values()
    )
