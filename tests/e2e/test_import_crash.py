"""Crash safety of a bulk import: `trackline import` killed with SIGKILL while it reads the
file or while it writes leaves the import wholly absent (or, had it committed, wholly there),
and the database sound; the same file then imports whole."""

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from models import Movement, Serial
from tests.conftest import Database
from tests.services.builders import make_site, serial_product

TRACKLINE = Path(sys.executable).parent / "trackline"
ROWS = 100_000


def write_file(path: Path) -> None:
    with path.open("w") as out:
        out.write("sku,serial_number,warehouse,location\n")
        out.writelines(f"SCANNER,SN-{i:07d},WH1,A-0{1 + i % 2}\n" for i in range(ROWS))


def start_import(db: Database, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(TRACKLINE), "import", "serials", str(path), "--database-url", db.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def counts(db: Database, product_id: int) -> tuple[int, int]:
    async with db.read_sessions() as session:
        serials = await session.scalar(
            select(func.count()).select_from(Serial).where(Serial.product_id == product_id)
        )
        moves = await session.scalar(
            select(func.count()).select_from(Movement).where(Movement.product_id == product_id)
        )
    return serials or 0, moves or 0


@pytest.mark.parametrize("phase", ["reading", "writing"])
async def test_an_import_killed_part_way_is_wholly_absent(
    db: Database, tmp_path: Path, phase: str
) -> None:
    await make_site(db)
    product = await serial_product(db, "SCANNER")
    path = tmp_path / "serials.csv"
    write_file(path)

    process = start_import(db, path)
    assert process.stdout is not None
    # On a non-terminal the CLI prints a line per chunk read and one as it starts writing.
    wanted = "writing" if phase == "writing" else "reading 30000 rows"
    line = await asyncio.to_thread(process.stdout.readline)
    while line and not line.startswith(wanted):
        line = await asyncio.to_thread(process.stdout.readline)
    assert line.startswith(wanted), "the import ended before that point"
    await asyncio.sleep(0.05)  # into the next statement
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    assert await counts(db, product) == (0, 0)
    if db.name == "sqlite":
        async with db.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA integrity_check"))).scalar() == "ok"

    again = start_import(db, path)
    output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, output
    assert await counts(db, product) == (ROWS, ROWS)
