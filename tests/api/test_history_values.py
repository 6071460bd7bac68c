"""Histories are read with their own conversions (models/base.py: `MembersOnRead`, and
`UtcDateTime` taking asyncpg's instants as they come): the values are the same as the
ORM's, members of the enums and aware instants in UTC, on both engines."""

from collections.abc import Callable
from datetime import UTC

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from models import Movement, MovementKind, SerialStatus, Tracking
from models.base import MembersOnRead
from services.movements import movements_by_serial_ids
from services.receiving import LineReceipt
from tests.conftest import Database
from tests.services.builders import expect, make_product, make_site, plan_asn, receive_lines


async def test_a_history_holds_the_same_values_as_the_orm_reads(db: Database) -> None:
    site = await make_site(db)
    product = await make_product(db, "SCAN", Tracking.SERIAL)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 1, "SN-1"))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-1"]))
    async with db.read_sessions() as session:
        orm = (await session.scalars(select(Movement).order_by(Movement.id))).all()
        serial_id = orm[0].serial_id
        assert serial_id is not None
        [history] = await movements_by_serial_ids(session, [serial_id])
    assert [m.kind for m in history] == [MovementKind.EXPECT, MovementKind.RECEIVE]
    assert history[0].kind is MovementKind.EXPECT
    assert history[0].from_status is None  # NULL stays None
    assert history[1].to_status is SerialStatus.RECEIVED
    for row, movement in zip(history, orm, strict=True):
        assert row.occurred_at.tzinfo is UTC
        assert row.occurred_at == movement.occurred_at
        assert (row.kind, row.from_status, row.to_status) == (
            movement.kind,
            movement.from_status,
            movement.to_status,
        )


@pytest.mark.parametrize("dialect", [sqlite.dialect, postgresql.dialect])
def test_a_name_that_is_no_member_is_an_error(dialect: Callable[[], Dialect]) -> None:
    convert = MembersOnRead(MovementKind).result_processor(dialect(), None)
    assert convert("SHIP") is MovementKind.SHIP
    assert convert(None) is None
    with pytest.raises(LookupError, match="'LOST' is not a member of MovementKind"):
        convert("LOST")
