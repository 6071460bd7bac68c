"""Bulk import of serials and lots from CSV, all rows or none."""

import strawberry
from strawberry.file_uploads import Upload

from resolvers import imports
from schema.enums import ErrorCode
from schema.errors import UserError, user_errors
from schema.nodes import Info
from services.imports import ImportKind, ImportReport

strawberry.enum(
    ImportKind,
    description="What a file imports. OPENING_SERIALS (sku or gtin, serial_number, warehouse, "
    "location) and OPENING_LOTS (sku or gtin, lot_number, expiry_date, quantity, warehouse, "
    "location) load stock that was there before tracking began; EXPECTED_SERIALS and "
    "RECEIVED_SERIALS (asn, line, serial_number) list or receive the serials of ASN lines.",
)


@strawberry.type(description="One thing wrong with one row of the file.")
class ImportRowError:
    row: int = strawberry.field(
        description="As a spreadsheet numbers it: the header is row 1, the first data row 2."
    )
    column: str | None
    code: ErrorCode
    message: str


@strawberry.type(
    name="ImportReport",
    description="What an import read and what it wrote (or, in a dry run, would).",
)
class ImportReportType:
    kind: ImportKind
    dry_run: bool
    committed: bool = strawberry.field(description="True when the rows were written.")
    rows: int = strawberry.field(description="Data rows read.")
    error_count: int
    errors: list[ImportRowError] = strawberry.field(
        description="The first 1,000 problems, by row; errorCount counts them all."
    )
    serials: int = strawberry.field(description="Serials written (or to be written).")
    lots_created: int
    quantity: int = strawberry.field(description="Lot units written (or to be written).")

    @classmethod
    def from_report(cls, report: ImportReport) -> "ImportReportType":
        return cls(
            kind=report.kind,
            dry_run=report.dry_run,
            committed=report.committed,
            rows=report.rows,
            error_count=report.error_count,
            errors=[
                ImportRowError(row=e.row, column=e.column, code=e.code, message=e.message)
                for e in report.sorted_errors()
            ],
            serials=report.serials,
            lots_created=report.lots_created,
            quantity=report.quantity,
        )


@strawberry.input
class ImportCsvInput:
    kind: ImportKind
    csv: str | None = strawberry.field(default=None, description="The file's content as text.")
    file: Upload | None = strawberry.field(
        default=None,
        description="The file as a multipart upload (GraphQL multipart request spec); the "
        "request must carry a GraphQL-Preflight header.",
    )
    dry_run: bool = strawberry.field(default=False, description="Check every row, write nothing.")
    reference: str | None = strawberry.field(
        default=None,
        description="Names the import in the movement history of opening stock (document type "
        "IMPORT); default CSV-<date>-<time>.",
    )


@strawberry.type
class ImportCsvPayload:
    report: ImportReportType | None
    user_errors: list[UserError]


@strawberry.type
class ImportMutation:
    @strawberry.mutation(
        description="Import serials or lots from a CSV file: every row is checked first and "
        "the file is written whole or not at all. A file with problems answers a userError and "
        "the report listing each problem by row and column."
    )
    async def import_csv(self, info: Info, input: ImportCsvInput) -> ImportCsvPayload:
        outcome = await imports.import_file(
            info.context,
            input.kind,
            csv=input.csv,
            file=input.file,
            dry_run=input.dry_run,
            reference=input.reference,
        )
        report = outcome.report
        return ImportCsvPayload(
            report=ImportReportType.from_report(report) if report is not None else None,
            user_errors=user_errors(outcome.refusal) if outcome.refusal is not None else [],
        )
