"""What an import says back: how many rows it read and, row by row, what is wrong."""

import enum
from dataclasses import dataclass, field

from services.errors import ErrorCode

# A file with a systematic mistake has an error on every row; the first thousand are enough
# to fix it, and the count says how many there are in all.
MAX_REPORTED_ERRORS = 1000


class ImportKind(enum.StrEnum):
    EXPECTED_SERIALS = "EXPECTED_SERIALS"  # serials an ASN line will bring
    RECEIVED_SERIALS = "RECEIVED_SERIALS"  # serials that arrived on an ASN line
    OPENING_SERIALS = "OPENING_SERIALS"  # serials already in stock when tracking began
    OPENING_LOTS = "OPENING_LOTS"  # lot quantities already in stock when tracking began


@dataclass(frozen=True, order=True)
class RowError:
    """One thing wrong with one row. Rows are numbered as a spreadsheet shows them: the
    header is row 1, so the first data row is row 2. Row 1 errors are about the header."""

    row: int
    column: str | None
    code: ErrorCode
    message: str


@dataclass
class ImportReport:
    kind: ImportKind
    dry_run: bool
    rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    # What was (or, in a dry run, would be) written.
    serials: int = 0
    lots_created: int = 0
    quantity: int = 0
    committed: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, row: int, column: str | None, code: ErrorCode, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, column, code, message))

    def add_counted(self, found: list[RowError], total: int) -> None:
        """Errors a set-based check found: the first few rows, and how many in all."""
        self.error_count += total
        room = MAX_REPORTED_ERRORS - len(self.errors)
        self.errors.extend(found[: max(room, 0)])

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors)
