"""`trackline import serials|lots FILE`: a CSV import from the command line, with a progress
bar while the file is read and a summary (and the rows at fault) at the end."""

import asyncio
import csv
import enum
import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.imports import ImportKind, ImportReport, Phase, import_csv
from trackline.db import create_engines
from trackline.events_pg import create_bus

# Shown on screen; --errors writes every listed error to a file.
ERRORS_SHOWN = 20


class SerialPurpose(enum.StrEnum):
    opening = "opening"  # serials already in stock at a location
    expected = "expected"  # serials an ASN line will bring
    received = "received"  # serials that arrived on an ASN line


PURPOSES = {
    SerialPurpose.opening: ImportKind.OPENING_SERIALS,
    SerialPurpose.expected: ImportKind.EXPECTED_SERIALS,
    SerialPurpose.received: ImportKind.RECEIVED_SERIALS,
}


class _CountingReader(io.RawIOBase):
    """Counts the bytes read from the file, for the progress bar."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def run_import(
    database_url: str,
    kind: ImportKind,
    path: Path,
    *,
    dry_run: bool,
    reference: str | None,
    actor: str,
    errors_path: Path | None,
    console: Console,
) -> ImportReport:
    with path.open("rb") as raw:
        counted = _CountingReader(raw)
        text = io.TextIOWrapper(io.BufferedReader(counted), encoding="utf-8-sig", newline="")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]:>10,} rows"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("reading", total=path.stat().st_size, rows=0)

            def progress(phase: Phase, rows: int) -> None:
                bar.update(task, completed=counted.count, rows=rows, description=phase.value)
                if not console.is_terminal:  # a log gets a line per chunk instead of a bar
                    console.print(f"{phase.value} {rows} rows")

            report = asyncio.run(
                _import(database_url, kind, text, dry_run, reference, actor, progress)
            )
    _summary(report, console)
    if errors_path is not None and report.errors:
        _write_errors(report, errors_path)
        console.print(f"The rows at fault are listed in {errors_path}")
    return report


async def _import(
    database_url: str,
    kind: ImportKind,
    text: io.TextIOWrapper,
    dry_run: bool,
    reference: str | None,
    actor: str,
    progress: Callable[[Phase, int], None],
) -> ImportReport:
    engines = create_engines(database_url)
    try:
        # Not started: this process only publishes. On PostgreSQL the servers' listeners
        # hear of the import; an SQLite server's subscribers cannot (docs/operations.md).
        bus = create_bus(database_url, engines.read_sessions())
        return await import_csv(
            engines.sessions(),
            kind,
            text,
            actor=actor,
            dry_run=dry_run,
            reference=reference,
            progress=progress,
            bus=bus,
            read_sessions=engines.read_sessions(),
        )
    finally:
        await engines.dispose()


def _summary(report: ImportReport, console: Console) -> None:
    if report.ok:
        verb = "would be imported (dry run: nothing written)" if report.dry_run else "imported"
        what = (
            f"{report.quantity:,} units in {report.rows:,} rows, {report.lots_created:,} new lots"
            if report.kind is ImportKind.OPENING_LOTS
            else f"{report.serials:,} serials"
        )
        console.print(f"[green]{what} {verb}.[/green]")
        return
    console.print(
        f"[red]Nothing imported:[/red] {report.error_count:,} problems in {report.rows:,} rows."
    )
    table = Table("row", "column", "code", "message")
    for error in report.sorted_errors()[:ERRORS_SHOWN]:
        table.add_row(str(error.row), error.column or "", error.code.value, error.message)
    console.print(table)
    if report.error_count > ERRORS_SHOWN:
        console.print(
            f"… and {report.error_count - ERRORS_SHOWN:,} more (--errors FILE lists them)"
        )


def _write_errors(report: ImportReport, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "column", "code", "message"])
        for e in report.sorted_errors():
            writer.writerow([e.row, e.column or "", e.code.value, e.message])
