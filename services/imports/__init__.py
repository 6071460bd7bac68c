"""Bulk import of serials and lots from CSV files, all or nothing.

    report = await import_csv(sessions, ImportKind.OPENING_SERIALS, stream, actor="…")

The file is streamed: each chunk of rows is checked cell by cell and parked in a staging
table, then everything that needs the database is checked over the whole set, and only a
file without a single error is written — in the same transaction, so a crash at any moment
leaves the import wholly absent. A dry run does all of it and rolls back.
"""

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.base import utc_now
from services import chain
from services.errors import ErrorCode
from services.events import NULL_BUS, Event, EventBus, start_recording
from services.imports import staging
from services.imports.lots import LotImport
from services.imports.refs import Catalog
from services.imports.report import MAX_REPORTED_ERRORS, ImportKind, ImportReport, RowError
from services.imports.rows import HEADER_ROW, Layout, Record, chunks, read_records
from services.imports.serials import SerialImport
from services.movements import Document, write_with_events

__all__ = [
    "MAX_REPORTED_ERRORS",
    "ImportKind",
    "ImportReport",
    "Phase",
    "RowError",
    "import_csv",
]

log = logging.getLogger(__name__)

# Rows checked and staged at a time: large enough that per-statement costs vanish, small
# enough that a chunk's rows are a few megabytes.
CHUNK_ROWS = 10_000
DOCUMENT_TYPE = "IMPORT"
REFERENCE_MAX = 64


class _Importer(Protocol):
    @property
    def layout(self) -> Layout: ...

    @property
    def table(self) -> Table: ...

    async def check_rows(
        self, session: AsyncSession, chunk: list[Record], report: ImportReport
    ) -> list[tuple[object, ...]]: ...

    async def check_set(self, session: AsyncSession, report: ImportReport) -> None: ...

    async def count(self, session: AsyncSession, report: ImportReport) -> None: ...

    async def write(
        self, session: AsyncSession, report: ImportReport, document: Document, actor: str
    ) -> None: ...


class Phase(enum.StrEnum):
    READING = "reading"  # rows streamed and checked one by one, a chunk at a time
    CHECKING = "checking"  # checks over the whole file (duplicates, existing serials)
    WRITING = "writing"  # the one transaction that writes it all


def default_reference() -> str:
    return f"CSV-{utc_now():%Y%m%d-%H%M%S}"


async def import_csv(
    sessions: async_sessionmaker[AsyncSession],
    kind: ImportKind,
    stream: TextIO,
    *,
    actor: str,
    dry_run: bool = False,
    reference: str | None = None,
    progress: Callable[[Phase, int], None] | None = None,
    bus: EventBus = NULL_BUS,
    read_sessions: async_sessionmaker[AsyncSession] | None = None,
) -> ImportReport:
    """Check every row of `stream`, then write all of it or nothing. `progress` is told the
    phase and the number of rows read so far, after each chunk and as each phase begins.
    `reference` names the import in the history of what it brings (movements of document
    type IMPORT); ASN imports use the ASN's number. Once committed, the import's changes go
    to `bus` like any other write's (rows read back through `read_sessions`)."""
    report = ImportReport(kind, dry_run)
    reference = (reference or default_reference()).strip()
    if not reference or len(reference) > REFERENCE_MAX:
        report.add(
            HEADER_ROW,
            None,
            ErrorCode.INVALID_VALUE,
            f"the import reference must be 1 to {REFERENCE_MAX} characters",
        )
        return report
    document = Document(DOCUMENT_TYPE, reference)
    importer = _importer(kind, None if dry_run else document, actor)

    def tell(phase: Phase, rows: int) -> None:
        if progress is not None:
            progress(phase, rows)

    async with sessions() as session:
        await staging.create(session, importer.table)
        for chunk in chunks(read_records(stream, importer.layout, report), CHUNK_ROWS):
            report.rows += len(chunk)
            await staging.insert(
                session, importer.table, await importer.check_rows(session, list(chunk), report)
            )
            tell(Phase.READING, report.rows)
        if report.rows == 0 and report.ok:
            report.add(HEADER_ROW, None, ErrorCode.EMPTY_FILE, "the file has no rows")
        if report.rows:  # also after row errors: the answer should list every problem
            tell(Phase.CHECKING, report.rows)
            await staging.index(session, importer.table)
            await importer.check_set(session, report)
        if report.ok:
            await importer.count(session, report)
        if report.ok and not dry_run:
            tell(Phase.WRITING, report.rows)
            start_recording(session, actor)
            await importer.write(session, report, document, actor)
        await staging.drop(session, importer.table)
        if report.ok and not dry_run:
            news = await _stage_news(session, bus, actor)
            await session.commit()
            report.committed = True
            await _publish(news, bus, read_sessions or sessions, actor)
        else:
            await session.rollback()
    return report


@dataclass(frozen=True)
class _News:
    """What a committed import tells live subscribers: the events the use cases it went
    through noted (a receipt by file is a receipt), or else the id ranges of the movements it
    inserted in bulk, whose events are read back after the commit a slice at a time."""

    events: list[Event]
    ranges: list[tuple[int, int]]


async def _stage_news(session: AsyncSession, bus: EventBus, actor: str) -> _News:
    events = await write_with_events(session)
    ranges = [] if any(e.movement_ids for e in events) else chain.taken(session)
    await bus.stage(session, events)
    await bus.stage_movements(session, ranges, actor)
    return _News(events, ranges)


async def _publish(
    news: _News, bus: EventBus, read_sessions: async_sessionmaker[AsyncSession], actor: str
) -> None:
    # The import has committed: a publishing fault must not undo its answer.
    try:
        bus.committed(news.events)
        await bus.movements_committed(read_sessions, news.ranges, actor)
    except Exception:
        log.exception("publishing a committed import failed")


def _importer(kind: ImportKind, document: Document | None, actor: str) -> _Importer:
    """`document` is None for a dry run: nothing will be recorded."""
    catalog = Catalog()
    if kind is ImportKind.OPENING_LOTS:
        return LotImport(catalog)
    return SerialImport(kind, catalog, document, actor)
