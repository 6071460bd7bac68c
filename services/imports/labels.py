"""A cell that holds a scanned GS1 label instead of a typed number.

People fill import files with a scanner as often as by hand; a cell such as
"(01)09506000134352(21)SN-1" or a Digital Link URL gives the serial (or lot and expiry)
and, through its GTIN, a check that the label belongs to the product of the row. The rules
are the scanner's everywhere else (services.scanning.read_label and label_problems).
"""

from dataclasses import dataclass
from datetime import date

from services.errors import ErrorCode
from services.scanning import NumberKind, label_problems, read_label

# Cheap signs that a cell may be GS1 (read_label's own rule starts from them). Millions of
# typed numbers skip the parser this way.
GS1_MARKERS = ("]", "(", "http://", "https://", "HTTP://", "HTTPS://")


@dataclass(frozen=True)
class CellLabel:
    number: str | None  # None when the cell cannot be used; `problem` says why
    expiry_date: date | None = None
    problem: tuple[ErrorCode, str] | None = None


def read_cell(
    cell: str,
    kind: NumberKind,
    *,
    sku: str,
    gtin: str | None,
    expiry_date: date | None = None,
) -> CellLabel:
    """The number in a cell of product `sku`: the cell itself, unless it is a GS1 scan."""
    if not may_be_label(cell):
        return CellLabel(cell)
    label = read_label(cell)
    if not label.is_gs1:
        return CellLabel(label.number_text)
    problems = label_problems(label, kind, sku=sku, gtin=gtin, expiry_date=expiry_date)
    if problems:
        return CellLabel(None, problem=(problems[0].code, problems[0].message))
    return CellLabel(label.number(kind), label.expiry_date)


def may_be_label(cell: str) -> bool:
    """Whether a cell shows a sign of a GS1 label; a typed number shows none."""
    return cell.startswith(GS1_MARKERS) or "\x1d" in cell or "|" in cell
