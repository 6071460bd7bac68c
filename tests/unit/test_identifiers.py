"""Serial and lot numbers, lot keys and GTINs as people type or scan them."""

import pytest

from services.errors import ErrorCode, Problem, Problems
from services.identifiers import (
    clean_code,
    clean_number,
    gtin_check_digit,
    lot_key,
    normalize_gtin,
)

# ---------------------------------------------------------------- GTIN


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("4006381333931", "04006381333931"),  # EAN-13 (GTIN-13)
        ("5901234123457", "05901234123457"),  # EAN-13, GS1's own example
        ("036000291452", "00036000291452"),  # UPC-A (GTIN-12)
        ("73513537", "00000073513537"),  # EAN-8
        ("96385074", "00000096385074"),  # EAN-8
        ("14006381333938", "14006381333938"),  # GTIN-14 with packaging indicator 1
        ("04006381333931", "04006381333931"),  # already 14 digits
        ("  4006381333931\n", "04006381333931"),  # scanner whitespace
    ],
)
def test_valid_gtins_are_normalized_to_14_digits(raw: str, normalized: str) -> None:
    problems = Problems()
    assert normalize_gtin(raw, problems, "gtin") == normalized
    assert problems.items == []


def test_all_forms_of_one_gtin_normalize_alike() -> None:
    problems = Problems()
    forms = ["4006381333931", "04006381333931"]
    assert {normalize_gtin(f, problems, "gtin") for f in forms} == {"04006381333931"}
    upc = ["036000291452", "0036000291452", "00036000291452"]
    assert {normalize_gtin(f, problems, "gtin") for f in upc} == {"00036000291452"}
    assert not problems


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("400638133393", 1),
        ("03600029145", 2),
        ("7351353", 7),
        ("1400638133393", 8),
        ("000000000000", 0),
    ],
)
def test_check_digit(body: str, digit: int) -> None:
    assert gtin_check_digit(body) == digit


def test_check_digit_by_hand() -> None:
    # 4006381333931: from the right, weights 3,1,3,... over 400638133393
    # 3*3 + 9*1 + 3*3 + 3*1 + 3*3 + 1*1 + 8*3 + 3*1 + 6*3 + 0*1 + 0*3 + 4*1 = 99 -> 1
    assert gtin_check_digit("400638133393") == (10 - 99 % 10) % 10 == 1


@pytest.mark.parametrize(
    "raw", ["4006381333932", "4006381333930", "036000291453", "73513538", "14006381333931"]
)
def test_wrong_check_digit_is_refused(raw: str) -> None:
    problems = Problems()
    assert normalize_gtin(raw, problems, "lines.0.gtin") is None
    [problem] = problems.items
    assert problem.code is ErrorCode.INVALID_GTIN
    assert problem.field == "lines.0.gtin"
    assert f"should be {gtin_check_digit(raw[:-1])}" in problem.message


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "4006381",  # 7 digits
        "400638133",  # 9
        "4006381333",  # 10
        "40063813339",  # 11
        "400638133393100",  # 15
        "40063813339A1",
        "4006381-333931",
        "٤٠٠٦٣٨١٣٣٣٩٣١",  # Arabic-Indic digits: str.isdigit() but not a barcode
        "4006381 333931",
    ],
)
def test_malformed_gtin_is_refused(raw: str) -> None:
    problems = Problems()
    assert normalize_gtin(raw, problems, "gtin") is None
    assert [(p.code, p.field) for p in problems.items] == [(ErrorCode.INVALID_GTIN, "gtin")]


# ---------------------------------------------------------------- serial and lot numbers


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("SN-0001", "SN-0001"),
        ("  SN-0001  ", "SN-0001"),
        ("\tSN-0001\r\n", "SN-0001"),
        ("SN 0001", "SN 0001"),  # inner blanks are part of the number
        ("sn-0001", "sn-0001"),  # case is kept: serials match exactly
        ("Ünïcödé-1", "Ünïcödé-1"),
    ],
)
def test_clean_number_trims_only_surrounding_blanks(raw: str, clean: str) -> None:
    problems = Problems()
    assert clean_number(raw, problems, "serialNumbers", kind="serial") == clean
    assert not problems


@pytest.mark.parametrize(
    ("kind", "code"),
    [("serial", ErrorCode.INVALID_SERIAL_NUMBER), ("lot", ErrorCode.INVALID_LOT_NUMBER)],
)
@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_empty_number_is_refused(raw: str, kind: str, code: ErrorCode) -> None:
    problems = Problems()
    assert clean_number(raw, problems, "f", kind=kind) is None
    assert problems.items == [Problem(code, f"the {kind} number is empty", "f")]


@pytest.mark.parametrize(
    ("kind", "code"),
    [("serial", ErrorCode.INVALID_SERIAL_NUMBER), ("lot", ErrorCode.INVALID_LOT_NUMBER)],
)
def test_length_limit_is_64_after_trimming(kind: str, code: ErrorCode) -> None:
    problems = Problems()
    assert clean_number("X" * 64, problems, "f", kind=kind) == "X" * 64
    assert clean_number("  " + "X" * 64 + " ", problems, "f", kind=kind) == "X" * 64
    assert not problems
    assert clean_number("X" * 65, problems, "f", kind=kind) is None
    assert [(p.code, p.field) for p in problems.items] == [(code, "f")]
    assert "longer than 64" in problems.items[0].message


@pytest.mark.parametrize(
    ("kind", "code"),
    [("serial", ErrorCode.INVALID_SERIAL_NUMBER), ("lot", ErrorCode.INVALID_LOT_NUMBER)],
)
@pytest.mark.parametrize(
    "raw",
    ["SN\x001", "SN\t1", "SN\n1", "SN\x1b1", "SN\x7f", "SN\u200b1", "SN\u00ad1", "\x00"],
    ids=[
        "nul",
        "tab",
        "newline",
        "escape",
        "delete",
        "zero-width-space",
        "soft-hyphen",
        "lone-nul",
    ],
)
def test_control_characters_are_refused(raw: str, kind: str, code: ErrorCode) -> None:
    problems = Problems()
    assert clean_number(raw, problems, "f", kind=kind) is None
    [problem] = problems.items
    assert (problem.code, problem.field) == (code, "f")
    assert "control characters" in problem.message


def test_every_problem_is_collected() -> None:
    problems = Problems()
    clean_number("", problems, "a", kind="serial")
    clean_number("ok", problems, "b", kind="serial")
    clean_number("x" * 65, problems, "c", kind="lot")
    assert [(p.code, p.field) for p in problems.items] == [
        (ErrorCode.INVALID_SERIAL_NUMBER, "a"),
        (ErrorCode.INVALID_LOT_NUMBER, "c"),
    ]


# ---------------------------------------------------------------- lot keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("LOT-2025A", "lot-2025a"),
        ("LOT-2025A", "Lot-2025a"),
        ("STRASSE-1", "straße-1"),  # casefold, not lower()
        ("ΣΊΣΥΦΟΣ", "σίσυφος"),
    ],
)
def test_lot_key_ignores_case(a: str, b: str) -> None:
    assert lot_key(a) == lot_key(b)


@pytest.mark.parametrize(
    ("a", "b"), [("LOT-2025A", "LOT-2025B"), ("LOT-2025A", "LOT 2025A"), ("LOT1", "LOT-1")]
)
def test_lot_key_keeps_other_differences(a: str, b: str) -> None:
    assert lot_key(a) != lot_key(b)


def test_lot_key_does_not_change_the_display_number() -> None:
    number = "LOT-2025A"
    assert lot_key(number) == "lot-2025a"
    assert number == "LOT-2025A"


# ---------------------------------------------------------------- codes


def test_clean_code_trims_and_limits_length() -> None:
    problems = Problems()
    assert clean_code("  WH1 ", problems, "code", what="warehouse code", max_length=4) == "WH1"
    assert clean_code("WH123", problems, "code", what="warehouse code", max_length=4) is None
    assert clean_code("  ", problems, "name", what="name", max_length=4) is None
    assert [(p.code, p.field) for p in problems.items] == [
        (ErrorCode.INVALID_VALUE, "code"),
        (ErrorCode.INVALID_VALUE, "name"),
    ]
