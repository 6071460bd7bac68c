"""Nested lists cost a fixed number of SQL statements, whatever their length: relationship
fields go through dataloaders that fetch one batch per level."""

from models import LocationKind, Tracking
from resolvers.context import Context
from schema import schema
from services import catalog, receiving
from services.catalog import LocationSpec
from tests.conftest import TRUSTED, Database

ORDER_WITH_SERIAL_HISTORY = """
query ($number: String!) {
  receivingOrder(number: $number) {
    number
    lines {
      product { sku }
      serials { serialNumber status product { sku } movements { kind toStatus actor } }
    }
  }
}
"""

PRODUCTS_SERIALS_MOVEMENTS = """
{
  products(first: 10) {
    nodes { sku serials(first: 100) { nodes { serialNumber movements { kind } } } }
  }
}
"""


async def _plan(db: Database, number: str, serial_count: int) -> None:
    async with db.sessions.begin() as session:
        warehouse = await catalog.create_warehouse(
            session,
            code=f"W-{number}",
            name="W",
            time_zone="UTC",
            locations=[LocationSpec("DOCK", LocationKind.RECEIVING)],
        )
        product = await catalog.create_product(
            session, sku=f"SKU-{number}", name="Scanner", tracking=Tracking.SERIAL
        )
        await receiving.plan_receiving_order(
            session,
            number=number,
            warehouse_id=warehouse.id,
            actor="planner",
            lines=[
                receiving.PlannedLine(
                    product.id, serial_count, [f"{number}-{i:04d}" for i in range(serial_count)]
                )
            ],
        )


async def _count(db: Database, document: str, variables: dict[str, str] | None = None) -> int:
    context = Context(db.sessions, db.read_sessions, principal=TRUSTED)
    with db.count_statements() as counter:
        result = await schema.execute(document, variable_values=variables, context_value=context)
    assert result.errors is None
    return counter.count


async def test_serial_movements_cost_the_same_for_1_and_200_serials(db: Database) -> None:
    # given an ASN with one expected serial and another with two hundred
    await _plan(db, "ASN-ONE", 1)
    await _plan(db, "ASN-MANY", 200)

    # when each is listed with every serial's product and movement history
    one = await _count(db, ORDER_WITH_SERIAL_HISTORY, {"number": "ASN-ONE"})
    many = await _count(db, ORDER_WITH_SERIAL_HISTORY, {"number": "ASN-MANY"})

    # then both cost the same few statements: order, lines, products, serials, movements
    assert one == many == 5


async def test_products_serials_movements_do_not_grow_with_rows(db: Database) -> None:
    await _plan(db, "ASN-A", 1)
    small = await _count(db, PRODUCTS_SERIALS_MOVEMENTS)
    await _plan(db, "ASN-B", 100)
    await _plan(db, "ASN-C", 100)
    large = await _count(db, PRODUCTS_SERIALS_MOVEMENTS)
    # one page of products, one batch of serial pages, one batch of movements
    assert small == 3
    assert large == 3
