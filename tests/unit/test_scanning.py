"""Reading what a scanner sends: every format, with and without symbology identifiers."""

from datetime import date

import pytest

from services.errors import ErrorCode, Problem
from services.scanning import (
    GROUP_SEPARATOR as GS,
)
from services.scanning import (
    Label,
    NumberKind,
    ParsedScan,
    Reading,
    ScanElement,
    ScanErrorCode,
    ScanFormat,
    label_problems,
    parse_scan,
    read_label,
)

GTIN = "09506000134352"  # valid check digit
BAD_GTIN = "09506000134351"  # check digit should be 2
OTHER_GTIN = "09506000134369"
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


@pytest.mark.parametrize("value", ["21345", GTIN])
def test_unmarked_text_can_be_read_as_plain_text_only(value: str) -> None:
    # what read_label asks for: the GS1 reading of unmarked text is never its answer
    scan = parse_scan(value, unmarked_as_gs1=False)
    assert [(r.format, r.text) for r in scan.readings] == [(F.PLAIN, value)]
    marked = parse_scan(f"]C1{value}", unmarked_as_gs1=False)
    assert [r.format for r in marked.readings] == [F.GS1_ELEMENT_STRING, F.PLAIN]


def test_a_non_gs1_symbology_carries_plain_text() -> None:
    scan = parse_scan("]C0SN-1002")
    assert scan.symbology == "]C0"
    assert [(r.format, r.text) for r in scan.readings] == [(F.PLAIN, "SN-1002")]


def test_an_ean_symbology_reads_a_gtin_first() -> None:
    scan = parse_scan("]E09506000134352")
    assert [(r.format, r.gtin) for r in scan.readings] == [(F.GTIN, GTIN), (F.PLAIN, None)]


# ================================================================ read_label: data entry


def label_fields(label: Label) -> tuple[str | None, str | None, str | None, date | None]:
    return label.gtin, label.serial_number, label.lot_number, label.expiry_date


@pytest.mark.parametrize("separator", [GS, "|"])
def test_a_label_with_separators_is_gs1(separator: str) -> None:
    label = read_label(f"01{GTIN}17261231" + f"10LOT-2026A{separator}21SN-1002")
    assert label.is_gs1
    assert label.number_text is None
    assert label_fields(label) == (GTIN, "SN-1002", "LOT-2026A", date(2026, 12, 31))
    assert label.error is None


@pytest.mark.parametrize(
    "raw",
    [
        f"]C101{GTIN}10LOT-7{GS}21SN-1002{GS}",
        f"]C101{GTIN}10LOT-7|21SN-1002|",
        f"01{GTIN}10LOT-7|21SN-1002|",  # the trailing "|" alone marks it as GS1
        f"]C1|01{GTIN}10LOT-7|21SN-1002",  # the leading FNC1 sent as "|" too
        f"]C1{GS}01{GTIN}10LOT-7{GS}21SN-1002",
    ],
)
def test_leading_and_trailing_separators_are_ignored(raw: str) -> None:
    assert label_fields(read_label(raw)) == (GTIN, "SN-1002", "LOT-7", None)


@pytest.mark.parametrize("prefix", ["]C1", "]d2", "]Q3", "]e0"])
def test_a_gs1_symbology_identifier_makes_a_label_gs1(prefix: str) -> None:
    # without the identifier this would be the number typed (see below)
    label = read_label(f"{prefix}01{GTIN}21SN-1002")
    assert label_fields(label) == (GTIN, "SN-1002", None, None)
    assert label.number("serial") == "SN-1002"


def test_a_non_gs1_symbology_identifier_is_taken_off_the_number() -> None:
    assert read_label("]C0SN-1002") == Label(number_text="SN-1002")


def test_an_ean_symbology_gives_a_gtin_and_no_number() -> None:
    label = read_label("]E09506000134352")
    assert label_fields(label) == (GTIN, None, None, None)
    assert label.number("serial") is None
    assert label.number("lot") is None


def test_a_bracketed_label_is_gs1() -> None:
    label = read_label(f" (01){GTIN}(17)261200(10)LOT-2026A(21)SN-1002 ")
    assert label_fields(label) == (GTIN, "SN-1002", "LOT-2026A", date(2026, 12, 31))


@pytest.mark.parametrize("scheme", ["https", "http", "HTTPS"])
def test_a_digital_link_is_gs1(scheme: str) -> None:
    label = read_label(f"{scheme}://id.example.com/01/{GTIN}/10/LOT-2026A?17=310300")
    assert label_fields(label) == (GTIN, None, "LOT-2026A", date(2031, 3, 31))
    assert label.number("lot") == "LOT-2026A"


def test_a_web_address_that_is_no_digital_link_is_malformed_not_a_number() -> None:
    label = read_label("https://example.com/device?sn=1002")
    assert label.is_gs1
    assert label.error is not None
    assert label.error.code is ScanErrorCode.MALFORMED


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [("261200", date(2026, 12, 31)), ("280200", date(2028, 2, 29)), ("260415", date(2026, 4, 15))],
)
def test_a_label_expiry_on_day_00_is_the_last_day_of_the_month(yymmdd: str, expected: date) -> None:
    assert read_label(f"]d201{GTIN}17{yymmdd}10L-1").expiry_date == expected


def test_a_label_with_a_bad_check_digit_keeps_what_it_says() -> None:
    label = read_label(f"]C101{BAD_GTIN}21SN-1002")
    assert label.error is not None
    assert label.error.code is ScanErrorCode.INVALID_CHECK_DIGIT
    assert label_fields(label) == (BAD_GTIN, "SN-1002", None, None)


def test_a_label_with_an_impossible_date() -> None:
    label = read_label(f"(01){GTIN}(17)260231(10)LOT-1")
    assert label.error is not None
    assert label.error.code is ScanErrorCode.INVALID_DATE
    assert label_fields(label) == (GTIN, None, "LOT-1", None)


@pytest.mark.parametrize("raw", [f"]C101{GTIN}99", "SN|1002", "(A)1002", f"01{GTIN}21{'X' * 21}|"])
def test_a_malformed_label(raw: str) -> None:
    label = read_label(raw)
    assert label.is_gs1
    assert label.error is not None
    assert label.error.code is ScanErrorCode.MALFORMED


@pytest.mark.parametrize(
    "raw",
    [
        "21345",  # not AI (21) with serial 345
        "10LOT-1",  # not AI (10) with lot LOT-1
        f"01{GTIN}21SN-1",  # unmarked GS1 with one variable field: taken as typed
        GTIN,  # digits of a GTIN's length
        "SN-1002",
        "]",  # too short for a symbology identifier
        "]X",
    ],
)
def test_an_unmarked_entry_is_the_number_as_typed(raw: str) -> None:
    label = read_label(f"  {raw}\r\n")
    assert label == Label(number_text=raw)
    assert not label.is_gs1
    assert label.number("serial") == label.number("lot") == raw


def test_a_blank_entry_is_an_empty_number() -> None:
    assert read_label(" \t") == Label(number_text="")


# ================================================================ label_problems


def problem_codes(problems: list[Problem]) -> list[tuple[ErrorCode, str | None]]:
    return [(p.code, p.field) for p in problems]


def test_a_plain_number_has_no_label_problems() -> None:
    assert label_problems(read_label("SN-1"), "serial", sku="LAPTOP", gtin=GTIN) == []


def test_a_matching_label_has_no_problems() -> None:
    label = read_label(f"(01){GTIN}(17)310300(10)LOT-1")
    assert label_problems(label, "lot", sku="VITC", gtin=GTIN, expiry_date=date(2031, 3, 31)) == []
    # nothing entered or recorded to compare the expiry with
    assert label_problems(label, "lot", sku="VITC", gtin=GTIN) == []


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (f"]C101{BAD_GTIN}21SN-1", "check digit"),
        (f"]C101{GTIN}17260231" + "21SN-1", "impossible date"),
        (f"]C101{GTIN}99", "not valid GS1"),
    ],
)
def test_an_unreadable_label_is_an_invalid_scan(raw: str, words: str) -> None:
    problems = label_problems(read_label(raw), "serial", sku="LAPTOP", gtin=GTIN, field="f")
    assert problem_codes(problems) == [(ErrorCode.INVALID_SCAN, "f")]
    assert words in problems[0].message


@pytest.mark.parametrize(
    ("raw", "kind", "words"),
    [
        (f"(01){GTIN}(10)LOT-1", "serial", "lot LOT-1"),
        (f"(01){GTIN}(21)SN-1", "lot", "serial SN-1"),
        (f"]E0{GTIN[1:]}", "serial", f"only product GTIN {GTIN}"),
    ],
)
def test_a_label_without_the_number_wanted_is_the_wrong_label(
    raw: str, kind: NumberKind, words: str
) -> None:
    problems = label_problems(read_label(raw), kind, sku="X", gtin=GTIN)
    assert problem_codes(problems) == [(ErrorCode.WRONG_LABEL, None)]
    assert words in problems[0].message


def test_a_label_with_serial_and_lot_serves_either_field() -> None:
    label = read_label(f"(01){GTIN}(10)LOT-1(21)SN-1")
    assert label_problems(label, "serial", sku="X", gtin=GTIN) == []
    assert label_problems(label, "lot", sku="X", gtin=GTIN) == []


def test_a_label_of_another_gtin_is_a_gtin_mismatch() -> None:
    label = read_label(f"(01){OTHER_GTIN}(21)SN-1")
    problems = label_problems(label, "serial", sku="LAPTOP", gtin=GTIN, field="f")
    assert problem_codes(problems) == [(ErrorCode.GTIN_MISMATCH, "f")]
    assert problems[0].message == f"the label is GTIN {OTHER_GTIN}, but LAPTOP's GTIN is {GTIN}"


def test_a_product_without_gtin_refuses_only_labels_of_other_products() -> None:
    label = read_label(f"(01){OTHER_GTIN}(21)SN-1")
    owners = {OTHER_GTIN: "PHONE"}
    problems = label_problems(label, "serial", sku="LAPTOP", gtin=None, gtin_owners=owners)
    assert problem_codes(problems) == [(ErrorCode.GTIN_MISMATCH, None)]
    assert "of PHONE" in problems[0].message
    # a GTIN no product has cannot be told apart from this product's
    assert label_problems(label, "serial", sku="LAPTOP", gtin=None) == []


def test_a_lot_label_with_another_expiry_is_an_expiry_mismatch() -> None:
    label = read_label(f"(01){OTHER_GTIN}(17)310300(10)LOT-1")
    problems = label_problems(label, "lot", sku="VITC", gtin=GTIN, expiry_date=date(2031, 3, 30))
    assert problem_codes(problems) == [
        (ErrorCode.GTIN_MISMATCH, None),
        (ErrorCode.EXPIRY_MISMATCH, None),
    ]
    assert "the label says expiry 2031-03-31, but the lot's is 2031-03-30" in problems[1].message


def test_a_serial_label_expiry_is_not_compared() -> None:
    label = read_label(f"(01){GTIN}(17)310300(21)SN-1")
    assert label_problems(label, "serial", sku="X", gtin=GTIN, expiry_date=date(2030, 1, 1)) == []
