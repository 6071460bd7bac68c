"""Reading an import file: a header row naming the columns, then one record per row.

Records are streamed one at a time, so a file of any size passes through in constant memory.
Every cell is checked here for what can be told without the database (empty, too long, not a
date, not a positive whole number); what needs the database is checked in bulk later.
"""

import csv
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import TextIO

from services.errors import ErrorCode
from services.imports.report import ImportReport
from services.scanning import GROUP_SEPARATOR

HEADER_ROW = 1
# csv refuses a field over 128 KiB by default; no legitimate cell comes near our limits.
csv.field_size_limit(1 << 16)


@dataclass(frozen=True)
class Column:
    name: str
    max_length: int = 64
    required: bool = True  # the column must be in the header
    optional_value: bool = False  # the column may be there with empty cells
    # The cell may hold a scanned GS1 label, whose group separators (GS) are not the
    # control characters refused elsewhere: the label's parser reads them.
    scannable: bool = False


@dataclass(frozen=True)
class Layout:
    """The columns a kind of import reads. `one_of` groups name alternatives of which at
    least one must be present (a product by `sku` or by `gtin`)."""

    columns: tuple[Column, ...]
    one_of: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        # read_records picks cells with itemgetter, which gives a tuple for two or more.
        if len(self.columns) < 2:
            raise ValueError("a layout reads at least two columns")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


Record = tuple[int, tuple[str, ...]]  # row number, the cells in layout order ("" where absent)


def read_records(stream: TextIO, layout: Layout, report: ImportReport) -> Iterator[Record]:
    """Yield each data row's cells in the layout's order. Header problems are reported on
    row 1 and stop the reading: without the right columns no row can be understood."""
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            report.add(HEADER_ROW, None, ErrorCode.EMPTY_FILE, "the file is empty")
            return
        positions = _positions(header, layout, report)
        if positions is None:
            return
        width = len(header)
        # A row's cells, stripped, with "" appended for the index -1 of an absent column.
        pick = itemgetter(*positions)
        row = HEADER_ROW
        for cells in reader:
            row += 1
            if not cells:  # a blank line
                continue
            if len(cells) != width:
                report.add(
                    row,
                    None,
                    ErrorCode.MALFORMED_ROW,
                    f"the row has {len(cells)} cells, the header names {width} columns",
                )
                continue
            yield row, pick([*map(str.strip, cells), ""])
    except csv.Error as exc:
        report.add(reader.line_num, None, ErrorCode.MALFORMED_ROW, f"not valid CSV: {exc}")
    except UnicodeDecodeError as exc:
        report.add(reader.line_num + 1, None, ErrorCode.MALFORMED_ROW, f"not UTF-8 text: {exc}")


def _positions(header: list[str], layout: Layout, report: ImportReport) -> list[int] | None:
    names = [_column_name(name) for name in header]
    ok = True
    for name in {n for n in names if names.count(n) > 1}:
        report.add(HEADER_ROW, name, ErrorCode.DUPLICATE_COLUMN, f"column {name} appears twice")
        ok = False
    known = set(layout.names)
    for name in names:
        if name not in known:
            report.add(
                HEADER_ROW,
                name or None,
                ErrorCode.UNKNOWN_COLUMN,
                f"unknown column {name!r}; the columns are {', '.join(layout.names)}",
            )
            ok = False
    for column in layout.columns:
        if column.required and column.name not in names:
            report.add(
                HEADER_ROW,
                column.name,
                ErrorCode.MISSING_COLUMN,
                f"column {column.name} is missing",
            )
            ok = False
    for group in layout.one_of:
        if not any(name in names for name in group):
            report.add(
                HEADER_ROW,
                group[0],
                ErrorCode.MISSING_COLUMN,
                f"the file needs one of the columns {' or '.join(group)}",
            )
            ok = False
    if not ok:
        return None
    return [names.index(c.name) if c.name in names else -1 for c in layout.columns]


def _column_name(raw: str) -> str:
    """Headers as people type them: "Serial Number", " serial_number" and "SERIAL-NUMBER"
    are one column. A byte-order mark from spreadsheet exports is dropped too."""
    return raw.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")


# ---------------------------------------------------------------- cells


def text(report: ImportReport, row: int, column: Column, value: str) -> str | None:
    """A required text cell, or None with the problem reported."""
    if not value:
        report.add(row, column.name, ErrorCode.EMPTY_VALUE, f"{column.name} is empty")
        return None
    if len(value) > column.max_length:
        report.add(
            row,
            column.name,
            ErrorCode.VALUE_TOO_LONG,
            f"{column.name} is longer than {column.max_length} characters",
        )
        return None
    # isprintable() is a fast test that holds for nearly every cell; the exact rule (no
    # control or format characters, which scanners and spreadsheets leak) runs only when
    # it fails, as it also fails for harmless characters such as a no-break space.
    if not value.isprintable() and any(
        unicodedata.category(c).startswith("C")
        for c in (value.replace(GROUP_SEPARATOR, "") if column.scannable else value)
    ):
        report.add(
            row,
            column.name,
            ErrorCode.INVALID_VALUE,
            f"{column.name} {value!r} contains control characters",
        )
        return None
    return value


def iso_date(report: ImportReport, row: int, column: Column, value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        report.add(
            row, column.name, ErrorCode.INVALID_DATE, f"{value!r} is not a date (YYYY-MM-DD)"
        )
        return None


def positive_quantity(report: ImportReport, row: int, column: Column, value: str) -> int | None:
    try:
        quantity = int(value)
    except ValueError:
        report.add(row, column.name, ErrorCode.INVALID_QUANTITY, f"{value!r} is not a whole number")
        return None
    if quantity <= 0:
        report.add(
            row,
            column.name,
            ErrorCode.QUANTITY_NOT_POSITIVE,
            f"the quantity must be positive, not {quantity}",
        )
        return None
    return quantity


def chunks(records: Iterator[Record], size: int) -> Iterator[Sequence[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
