"""A WebSocket keeps one context for all its operations: each operation must still see
the database as it is, not rows a previous operation loaded."""

from typing import Any

from models import Tracking
from resolvers.context import Context
from schema import schema
from services import catalog
from tests.conftest import TRUSTED, Database

PRODUCT_NODE = "query($id: ID!) { node(id: $id) { ... on Product { name } } }"
RENAME = """
mutation($id: ID!) { updateProduct(input: {id: $id, name: "Renamed"}) { userErrors { code } } }
"""


async def _run(context: Context, document: str, product_id: str) -> Any:
    result = await schema.execute(
        document, variable_values={"id": product_id}, context_value=context
    )
    assert result.errors is None
    return result.data


async def test_a_reused_context_does_not_answer_from_an_earlier_operation(db: Database) -> None:
    # given a product, read through a loader on a context kept across operations
    async with db.sessions.begin() as session:
        await catalog.create_product(session, sku="P-1", name="Original", tracking=Tracking.NONE)
    context = Context(db.sessions, db.read_sessions, principal=TRUSTED)
    lookup = await schema.execute('{ product(sku: "P-1") { id } }', context_value=context)
    assert lookup.data is not None
    product_id = lookup.data["product"]["id"]
    assert await _run(context, PRODUCT_NODE, product_id) == {"node": {"name": "Original"}}

    # when it is renamed on the same context
    assert await _run(context, RENAME, product_id) == {"updateProduct": {"userErrors": []}}

    # then the next operation loads the new name, not the first operation's row
    assert await _run(context, PRODUCT_NODE, product_id) == {"node": {"name": "Renamed"}}
