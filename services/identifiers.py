"""Rules for the identifiers people type or scan: serial and lot numbers, GTINs, codes."""

import unicodedata

from models.inventory import NUMBER_MAX_LENGTH
from services.errors import ErrorCode, Problems


def clean_number(raw: str, problems: Problems, field: str, *, kind: str) -> str | None:
    """Trim a serial or lot number and check it; `None` (with a problem added) if invalid.

    Surrounding blanks come from keyboards and scanners and are dropped; anything else is
    kept exactly, because serials match exactly.
    """
    code = ErrorCode.INVALID_SERIAL_NUMBER if kind == "serial" else ErrorCode.INVALID_LOT_NUMBER
    value = raw.strip()
    if not value:
        problems.add(code, f"the {kind} number is empty", field)
        return None
    if len(value) > NUMBER_MAX_LENGTH:
        problems.add(
            code, f"the {kind} number is longer than {NUMBER_MAX_LENGTH} characters", field
        )
        return None
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        problems.add(code, f"the {kind} number {value!r} contains control characters", field)
        return None
    return value


def lot_key(lot_number: str) -> str:
    """The case-insensitive identity of a lot number: "LOT-2025A" and "lot-2025a" match."""
    return lot_number.casefold()


def serial_key(serial_number: str) -> str:
    """What serial look-up compares: the number casefolded. Serials themselves still match
    exactly; this only lets people find "sn-1002" by typing it in any case."""
    return serial_number.casefold()


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of the digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalize_gtin(raw: str, problems: Problems, field: str) -> str | None:
    """Validate a GTIN-8/12/13/14 and return it as 14 digits (how scanners report it)."""
    value = raw.strip()
    if not value.isascii() or not value.isdigit() or len(value) not in (8, 12, 13, 14):
        problems.add(
            ErrorCode.INVALID_GTIN, f"{value!r} is not a GTIN of 8, 12, 13 or 14 digits", field
        )
        return None
    if gtin_check_digit(value[:-1]) != int(value[-1]):
        problems.add(
            ErrorCode.INVALID_GTIN,
            f"the check digit of GTIN {value} should be {gtin_check_digit(value[:-1])}",
            field,
        )
        return None
    return value.zfill(14)


def clean_code(
    raw: str, problems: Problems, field: str, *, what: str, max_length: int
) -> str | None:
    value = raw.strip()
    if not value or len(value) > max_length:
        problems.add(
            ErrorCode.INVALID_VALUE, f"the {what} must be 1 to {max_length} characters", field
        )
        return None
    return value
