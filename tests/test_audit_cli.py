"""`trackline audit verify`: what it prints and its exit status, intact and tampered."""

import asyncio

from sqlalchemy import text
from typer.testing import CliRunner, Result

from tests.conftest import Database
from tests.services.audit_data import movement_ids, past_the_triggers, warehouse_history
from trackline.cli import cli


async def audit_verify(db: Database) -> Result:
    # The command runs its own event loop, so it runs in a thread of its own.
    return await asyncio.to_thread(
        CliRunner().invoke, cli, ["audit", "verify", "--database-url", db.url]
    )


async def test_an_intact_chain_exits_0_and_says_how_many_movements(db: Database) -> None:
    await warehouse_history(db)
    ids = await movement_ids(db)
    result = await audit_verify(db)
    assert result.exit_code == 0, result.output
    assert f"{len(ids)} movements, chain intact" in result.output
    assert f"last movement {ids[-1]}, chain hash " in result.output


async def test_a_broken_chain_exits_1_and_names_the_first_broken_movement(db: Database) -> None:
    await warehouse_history(db)
    ids = await movement_ids(db)
    async with past_the_triggers(db) as connection:
        await connection.execute(
            text("UPDATE movement SET actor = 'someone else' WHERE id = :id"), {"id": ids[5]}
        )
    result = await audit_verify(db)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Chain broken at movement {ids[5]}: ")
    expected, found = lines[1].split(), lines[2].split()
    assert (expected[0], found[0]) == ("expected", "found")
    assert expected[1] != found[1]
    assert lines[3] == "5 movements before it are intact"
