"""An import streams its file: memory does not grow with the number of rows."""

import tracemalloc
from collections.abc import Iterator
from typing import TextIO, cast

from services.imports import ImportKind, import_csv
from tests.conftest import Database
from tests.services.builders import ACTOR, make_site, serial_product


class GeneratedCsv:
    """A CSV file of `rows` serials that exists only as it is read, line by line (the import
    reads its stream only by iterating over it)."""

    def __init__(self, rows: int, prefix: str) -> None:
        self.rows = rows
        self.prefix = prefix

    def __iter__(self) -> Iterator[str]:
        yield "sku,serial_number,warehouse,location\n"
        for i in range(self.rows):
            yield f"SCANNER,{self.prefix}{i:08d},WH1,A-01\n"


async def peak_memory(db: Database, rows: int, prefix: str) -> int:
    tracemalloc.start()
    try:
        report = await import_csv(
            db.sessions,
            ImportKind.OPENING_SERIALS,
            cast(TextIO, GeneratedCsv(rows, prefix)),
            actor=ACTOR,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.committed
    assert report.serials == rows
    return peak


async def test_memory_stays_flat_as_the_file_grows(db: Database) -> None:
    await make_site(db)
    await serial_product(db, "SCANNER")
    small = await peak_memory(db, 20_000, "S-")
    large = await peak_memory(db, 60_000, "L-")
    # Three times the rows: the peak is one chunk's worth either way. Were the rows kept, the
    # large file alone (as Python strings, some 12 MB) would dwarf it.
    assert large < small * 1.5, (small, large)
