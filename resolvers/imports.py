"""CSV import as the API offers it: the file as text or as a multipart upload."""

import io
from dataclasses import dataclass
from typing import Any, TextIO

from resolvers.context import Context
from resolvers.outcome import Refusal
from services.errors import ErrorCode, Problem
from services.imports import ImportKind, ImportReport, import_csv

ENCODING = "utf-8-sig"  # spreadsheet exports often begin with a byte-order mark


@dataclass(frozen=True)
class ImportOutcome:
    """The report when the file was read, and the refusal when anything was wrong: a file
    with problems has both, so the caller sees each problem by row."""

    report: ImportReport | None
    refusal: Refusal | None


async def import_file(
    ctx: Context,
    kind: ImportKind,
    *,
    csv: str | None,
    file: Any,  # None when not sent
    dry_run: bool,
    reference: str | None,
) -> ImportOutcome:
    """`file` is the upload as the web framework hands it over (a file object kept on disk
    once it is large), read as a stream; `csv` is the same content sent as a string."""
    if (csv is None) == (file is None):
        problem = Problem(ErrorCode.INVALID_VALUE, "send the file as csv or as file", "csv")
        return ImportOutcome(None, Refusal([problem]))
    stream: TextIO = (
        io.StringIO(csv)
        if csv is not None
        else io.TextIOWrapper(file.file, encoding=ENCODING, newline="")
    )
    report = await import_csv(
        ctx.sessions,
        kind,
        stream,
        actor=ctx.actor,
        dry_run=dry_run,
        reference=reference,
        bus=ctx.bus,
        read_sessions=ctx.read_sessions,
    )
    if report.ok:
        return ImportOutcome(report, None)
    problem = Problem(
        ErrorCode.INVALID_VALUE,
        f"{report.error_count} problems in the file; nothing was imported (see report.errors)",
        "csv" if csv is not None else "file",
    )
    return ImportOutcome(report, Refusal([problem]))
