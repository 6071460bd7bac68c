"""Reading what a scanner sends: every format, with and without symbology identifiers."""

from datetime import date

import pytest

from services.scanning import (
    GROUP_SEPARATOR as GS,
)
from services.scanning import (
    ParsedScan,
    Reading,
    ScanElement,
    ScanErrorCode,
    ScanFormat,
    parse_scan,
)

GTIN = "09506000134352"  # valid check digit
BAD_GTIN = "09506000134351"  # check digit should be 2
F = ScanFormat


def only(scan: ParsedScan, format: ScanFormat) -> Reading:
    [reading] = [r for r in scan.readings if r.format is format]
    return reading


def fields(reading: Reading) -> tuple[str | None, str | None, str | None, date | None]:
    return reading.gtin, reading.serial_number, reading.lot_number, reading.expiry_date


def test_a_plain_serial_number_is_read_as_itself() -> None:
    scan = parse_scan("  SN-1002\r\n")
    assert [r.format for r in scan.readings] == [F.PLAIN]
    assert scan.readings[0].text == "SN-1002"
    assert scan.readings[0].error is None


@pytest.mark.parametrize("separator", [GS, "|"])
def test_gs1_element_string_with_separator(separator: str) -> None:
    raw = f"01{GTIN}17261231" + f"10LOT-2026A{separator}21SN-1002"
    scan = parse_scan(raw)
    reading = scan.readings[0]
    assert reading.format is F.GS1_ELEMENT_STRING
    assert fields(reading) == (GTIN, "SN-1002", "LOT-2026A", date(2026, 12, 31))
    assert reading.elements == (
        ScanElement("01", GTIN),
        ScanElement("17", "261231"),
        ScanElement("10", "LOT-2026A"),
        ScanElement("21", "SN-1002"),
    )
    assert reading.error is None
    assert scan.symbology is None


@pytest.mark.parametrize("prefix", ["]C1", "]d2", "]Q3"])
def test_symbology_identifier_is_taken_off_and_reported(prefix: str) -> None:
    scan = parse_scan(f"{prefix}01{GTIN}21SN-1002")
    assert scan.symbology == prefix
    assert [r.format for r in scan.readings] == [F.GS1_ELEMENT_STRING, F.PLAIN]
    assert fields(scan.readings[0]) == (GTIN, "SN-1002", None, None)
    assert scan.readings[1].text == f"01{GTIN}21SN-1002"


@pytest.mark.parametrize("ending", ["", GS, "\r\n"])
def test_a_last_variable_field_needs_no_separator(ending: str) -> None:
    scan = parse_scan(f"]C101{GTIN}10LOT-7{GS}21SN-1002{ending}")
    assert fields(scan.readings[0]) == (GTIN, "SN-1002", "LOT-7", None)


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [
        ("261200", date(2026, 12, 31)),
        ("260200", date(2026, 2, 28)),
        ("280200", date(2028, 2, 29)),  # leap year
        ("260415", date(2026, 4, 15)),
    ],
)
def test_expiry_day_00_is_the_last_day_of_the_month(yymmdd: str, expected: date) -> None:
    scan = parse_scan(f"]C101{GTIN}17{yymmdd}")
    assert scan.readings[0].expiry_date == expected


def test_human_readable_with_brackets() -> None:
    scan = parse_scan(f"(01){GTIN}(17)261200(10)LOT-2026A(21)SN-1002")
    reading = scan.readings[0]
    assert reading.format is F.GS1_HUMAN_READABLE
    assert fields(reading) == (GTIN, "SN-1002", "LOT-2026A", date(2026, 12, 31))


def test_gs1_digital_link_url() -> None:
    scan = parse_scan(f"https://id.example.com/01/{GTIN}/10/LOT-2026A/21/SN-1002?17=261200")
    reading = scan.readings[0]
    assert reading.format is F.GS1_DIGITAL_LINK
    assert fields(reading) == (GTIN, "SN-1002", "LOT-2026A", date(2026, 12, 31))


def test_a_bad_gtin_check_digit_is_reported_as_such() -> None:
    scan = parse_scan(f"]C101{BAD_GTIN}21SN-1002")
    reading = scan.readings[0]
    assert reading.error is not None
    assert reading.error.code is ScanErrorCode.INVALID_CHECK_DIGIT
    assert "check digit" in reading.error.message
    # the rest is still read, so a person can see what the label says
    assert fields(reading) == (BAD_GTIN, "SN-1002", None, None)
    assert not reading.gtin_valid


def test_a_bare_gtin_with_a_bad_check_digit() -> None:
    reading = only(parse_scan(BAD_GTIN), F.GTIN)
    assert reading.error is not None
    assert reading.error.code is ScanErrorCode.INVALID_CHECK_DIGIT
    assert reading.gtin == BAD_GTIN


def test_an_impossible_date_is_reported_and_the_rest_still_read() -> None:
    scan = parse_scan(f"]C101{GTIN}17260231" + "10LOT-1")
    reading = scan.readings[0]
    assert reading.error is not None
    assert reading.error.code is ScanErrorCode.INVALID_DATE
    assert fields(reading) == (GTIN, None, "LOT-1", None)


def test_broken_gs1_data_is_malformed_and_still_tried_as_text() -> None:
    scan = parse_scan(f"]C101{GTIN}99")
    assert scan.readings[0].error is not None
    assert scan.readings[0].error.code is ScanErrorCode.MALFORMED
    assert scan.readings[1].format is F.PLAIN


def test_nothing_scanned() -> None:
    [reading] = parse_scan(" \t").readings
    assert reading.error is not None
    assert reading.error.code is ScanErrorCode.EMPTY


@pytest.mark.parametrize("value", ["9506000134352", GTIN, "96385074"])
def test_bare_digits_of_gtin_length_are_text_first_then_a_gtin(value: str) -> None:
    scan = parse_scan(value)
    assert [r.format for r in scan.readings] == [F.PLAIN, F.GTIN]
    assert scan.readings[0].text == value


def test_bare_gtin13_is_given_as_14_digits() -> None:
    assert only(parse_scan("9506000134352"), F.GTIN).gtin == GTIN


def test_unmarked_text_that_is_also_gs1_has_both_readings() -> None:
    # "21345" may be serial 21345, or AI (21) serial 345 sent without an identifier
    scan = parse_scan("21345")
    assert [(r.format, r.text, r.serial_number) for r in scan.readings] == [
        (F.PLAIN, "21345", None),
        (F.GS1_ELEMENT_STRING, "21345", "345"),
    ]


def test_a_non_gs1_symbology_carries_plain_text() -> None:
    scan = parse_scan("]C0SN-1002")
    assert scan.symbology == "]C0"
    assert [(r.format, r.text) for r in scan.readings] == [(F.PLAIN, "SN-1002")]


def test_an_ean_symbology_reads_a_gtin_first() -> None:
    scan = parse_scan("]E09506000134352")
    assert [(r.format, r.gtin) for r in scan.readings] == [(F.GTIN, GTIN), (F.PLAIN, None)]
