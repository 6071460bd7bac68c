"""Runs the README's bulk import as written: the CLI commands on its CSV file, and the
GraphQL document with its other file, on the demo data."""

import asyncio
import re
import shlex
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from models import Lot, MovementKind, Serial, SerialStatus, StockBalance
from tests.api.conftest import Gql
from tests.api.test_readme_walkthrough import README
from tests.conftest import Database
from tests.services.builders import movements
from trackline.demo import seed_demo

BLOCK = re.compile(r"<!-- import: (?P<name>[\w.-]+) -->\s*```\w+\n(?P<body>.*?)```", re.S)
COMMAND = re.compile(r"^\.venv/bin/trackline (import .*)$", re.M)
TRACKLINE = Path(sys.executable).parent / "trackline"


async def test_readme_import_runs_as_written(db: Database, gql: Gql, tmp_path: Path) -> None:
    # given the demo data and the README's files
    assert await seed_demo(db.sessions)
    text = README.read_text()
    section = text[text.index("## Bulk import") : text.index("## EPCIS export")]
    blocks = {m["name"]: m["body"] for m in BLOCK.finditer(section)}
    assert list(blocks) == ["opening-serials.csv", "graphql", "opening-lots.csv"]
    (tmp_path / "opening-serials.csv").write_text(blocks["opening-serials.csv"])

    # when its commands run, the dry run first
    commands = COMMAND.findall(section)
    assert len(commands) == 2
    assert "--dry-run" in commands[0]
    outputs = []
    for command in commands:
        done = await asyncio.to_thread(
            subprocess.run,
            [str(TRACKLINE), *shlex.split(command), "--database-url", db.url],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout)

    # then the laptops are on shelf A-02, and the dry run wrote nothing before them
    assert "would be imported" in outputs[0]
    assert "2 serials imported" in outputs[1]
    async with db.read_sessions() as session:
        laptops = {
            s.serial_number: s.status
            for s in await session.scalars(
                select(Serial).where(Serial.serial_number.in_(["SN-5001", "SN-5002"]))
            )
        }
    assert laptops == {"SN-5001": SerialStatus.IN_INVENTORY, "SN-5002": SerialStatus.IN_INVENTORY}

    # and the GraphQL document imports the lots file as the text says
    answer = await gql(blocks["graphql"], {"csv": blocks["opening-lots.csv"]})
    assert answer["importCsv"] == {
        "report": {"committed": True, "rows": 2, "lotsCreated": 1, "quantity": 48, "errors": []},
        "userErrors": [],
    }
    async with db.read_sessions() as session:
        lot = await session.scalar(select(Lot).where(Lot.lot_key == "lot-2027a"))
        assert lot is not None
        on_hand = await session.scalar(
            select(func.sum(StockBalance.quantity)).where(StockBalance.lot_id == lot.id)
        )
    assert (lot.lot_number, str(lot.expiry_date), on_hand) == ("LOT-2027A", "2027-03-31", 48)
    moved = await movements(db, lot_id=lot.id)
    assert {(m.kind, m.document_type, m.document_number) for m in moved} == {
        (MovementKind.OPENING_STOCK, "IMPORT", "STOCKTAKE-2026")
    }
