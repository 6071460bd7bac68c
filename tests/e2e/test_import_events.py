"""`trackline import` in a process of its own is heard by every server on PostgreSQL: the
import's commit notifies their listeners, which read its movements back."""

import asyncio
import subprocess
from pathlib import Path

import pytest

from services.events import EventBus, EventKind
from tests.conftest import Database
from tests.e2e.test_import_crash import TRACKLINE
from tests.services.builders import make_site, serial_product
from tests.services.test_events import received


async def test_a_command_line_import_reaches_the_servers_subscribers(
    db: Database, production_bus: EventBus, tmp_path: Path
) -> None:
    if db.name != "postgresql":
        pytest.skip("SQLite's bus is in-process: a server hears only its own writes")
    await make_site(db)
    scanner = await serial_product(db, "SCANNER")
    path = tmp_path / "serials.csv"
    path.write_text(
        "sku,serial_number,warehouse,location\nSCANNER,SN-1,WH1,A-01\nSCANNER,SN-2,WH1,A-02\n"
    )
    serials = production_bus.subscribe({EventKind.SERIAL_STATUS})

    done = await asyncio.to_thread(
        subprocess.run,
        [str(TRACKLINE), "import", "serials", str(path), "--database-url", db.url],
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    got = await received(serials, 2)
    assert [(e.product_id, e.to_status) for e in got] == [(scanner, "IN_INVENTORY")] * 2
