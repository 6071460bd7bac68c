"""What did the scanner just read? Parse whatever a handheld sends, then find it.

A keyboard-wedge scanner types one of:

- a plain serial or lot number (Code 128, QR), or a bare GTIN (EAN/UPC on a box);
- a GS1 element string from GS1-128, GS1 DataMatrix or GS1 QR: application identifiers
  such as (01) GTIN, (17) expiry, (10) lot, (21) serial, variable-length fields ended by the
  GS character (0x1D) — some scanners are set to send "|" instead — optionally behind an
  AIM symbology identifier (]C1, ]d2, ]Q3, ...);
- the human-readable line printed under such a barcode, "(01)…(17)…(10)…(21)…", typed in;
- a GS1 Digital Link URL, https://example.com/01/<gtin>/21/<serial>?17=<yymmdd>.

Without a symbology identifier some of these are ambiguous ("21345" may be serial 21345 or
AI (21) with serial 345), so `parse_scan` returns every sensible reading in order of
preference and `match_scan` takes the first that finds something. Parsing is biip's.

Data entry cannot try readings against the database: a serial or lot number field takes
one. `read_label` reads a field as GS1 only when it is marked as such and otherwise as the
number typed; `label_problems` says what keeps a label from being that product's number.
"""

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from biip import ParseConfig, ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementStrings
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.symbology import GS1Symbology, SymbologyIdentifier
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Lot, Product, Serial, SerialStatus
from services.errors import ErrorCode, Problem, Problems
from services.identifiers import gtin_check_digit, lot_key
from services.queries import key_values

GROUP_SEPARATOR = "\x1d"
SEPARATORS = (GROUP_SEPARATOR, "|")
GTIN_LENGTHS = (8, 12, 13, 14)
SYMBOLOGY_IDENTIFIER_LENGTH = 3  # "]", the symbology, the modifier: ]C1

# Dates are verified: day 00 means the last day of the month (biip applies that rule), and
# anything else impossible is reported rather than guessed.
_CONFIG = ParseConfig(separator_chars=SEPARATORS)
_LENIENT_DATES = ParseConfig(separator_chars=SEPARATORS, gs1_element_strings_verify_date=False)


class ScanFormat(enum.StrEnum):
    PLAIN = "PLAIN"
    GTIN = "GTIN"
    GS1_ELEMENT_STRING = "GS1_ELEMENT_STRING"
    GS1_HUMAN_READABLE = "GS1_HUMAN_READABLE"
    GS1_DIGITAL_LINK = "GS1_DIGITAL_LINK"


class ScanErrorCode(enum.StrEnum):
    EMPTY = "EMPTY"
    INVALID_CHECK_DIGIT = "INVALID_CHECK_DIGIT"
    INVALID_DATE = "INVALID_DATE"
    MALFORMED = "MALFORMED"


@dataclass(frozen=True)
class ScanError:
    code: ScanErrorCode
    message: str


@dataclass(frozen=True)
class ScanElement:
    """One GS1 application identifier and its data, e.g. ("17", "261200")."""

    ai: str
    value: str


@dataclass(frozen=True)
class Reading:
    """One interpretation of the scanned characters."""

    format: ScanFormat
    text: str  # the data without symbology identifier or surrounding blanks
    gtin: str | None = None  # as 14 digits, even when its check digit is wrong
    serial_number: str | None = None
    lot_number: str | None = None
    expiry_date: date | None = None
    elements: tuple[ScanElement, ...] = ()
    error: ScanError | None = None

    @property
    def gtin_valid(self) -> bool:
        return self.gtin is not None and (
            self.error is None or self.error.code is not ScanErrorCode.INVALID_CHECK_DIGIT
        )


@dataclass(frozen=True)
class ParsedScan:
    raw: str
    symbology: str | None
    readings: tuple[Reading, ...]  # at least one, the likeliest first


def parse_scan(raw: str, *, unmarked_as_gs1: bool = True) -> ParsedScan:
    """Every sensible reading of one scan, the likeliest first. Never raises. Without
    `unmarked_as_gs1`, a scan with no GS1 marker has its plain reading only (what
    `read_label` takes: the GS1 reading would be parsed for nothing)."""
    # str.strip also drops a trailing GS (0x1D counts as white space): some scanners end
    # every variable-length field with one, the last included.
    value = raw.strip()
    if not value:
        empty = ScanError(ScanErrorCode.EMPTY, "nothing was scanned")
        return ParsedScan(raw, None, (Reading(ScanFormat.PLAIN, "", error=empty),))
    symbology: SymbologyIdentifier | None = None
    if value.startswith("]") and len(value) >= SYMBOLOGY_IDENTIFIER_LENGTH:
        try:
            symbology = SymbologyIdentifier.extract(value)
            value = value[len(symbology) :]
        except ParseError:
            symbology = None  # a number that happens to start with "]"
    plain = Reading(ScanFormat.PLAIN, value)
    return ParsedScan(
        raw,
        symbology.value if symbology else None,
        _readings(value, plain, symbology, unmarked_as_gs1=unmarked_as_gs1),
    )


def _readings(
    value: str, plain: Reading, symbology: SymbologyIdentifier | None, *, unmarked_as_gs1: bool
) -> tuple[Reading, ...]:
    gs1 = symbology.gs1_symbology if symbology else None
    if value.lower().startswith(("http://", "https://")):
        return (_digital_link(value), plain)
    if value.startswith("("):
        return (_element_strings(value, ScanFormat.GS1_HUMAN_READABLE), plain)
    if gs1 in GS1Symbology.with_gtin():
        return (_gtin(value), plain)
    if gs1 in GS1Symbology.with_gs1_messages() or any(s in value for s in SEPARATORS):
        return (_element_strings(value, ScanFormat.GS1_ELEMENT_STRING), plain)
    if symbology is not None or not unmarked_as_gs1:
        # A symbology that carries no GS1 data, or no marker and no GS1 reading wanted of an
        # unmarked scan: the text is the number.
        return (plain,)
    # No marker either way: the characters as printed first, then what GS1 would make of them.
    if value.isascii() and value.isdigit() and len(value) in GTIN_LENGTHS:
        return (plain, _gtin(value))
    reading = _element_strings(value, ScanFormat.GS1_ELEMENT_STRING)
    if reading.error is None or reading.error.code is not ScanErrorCode.MALFORMED:
        return (plain, reading)
    return (plain,)


def _gtin(value: str) -> Reading:
    try:
        gtin = Gtin.parse(value, config=_CONFIG)
    except ParseError as exc:
        error = _gtin_error(value, str(exc))
        digits = value.zfill(14) if error.code is ScanErrorCode.INVALID_CHECK_DIGIT else None
        return Reading(ScanFormat.GTIN, value, gtin=digits, error=error)
    return Reading(ScanFormat.GTIN, value, gtin=gtin.as_gtin_14())


def _gtin_error(digits: str, message: str) -> ScanError:
    well_formed = digits.isascii() and digits.isdigit() and len(digits) in GTIN_LENGTHS
    if well_formed and gtin_check_digit(digits[:-1]) != int(digits[-1]):
        return ScanError(ScanErrorCode.INVALID_CHECK_DIGIT, message)
    return ScanError(ScanErrorCode.MALFORMED, message)


def _element_strings(value: str, format: ScanFormat) -> Reading:
    def parse(config: ParseConfig) -> GS1ElementStrings:
        if format is ScanFormat.GS1_HUMAN_READABLE:
            return GS1Message.parse_hri(value, config=config).element_strings
        # A scanner set to send "|" for GS may send the leading FNC1 as one too; biip skips
        # a leading GS but not a leading "|".
        return GS1Message.parse(value.lstrip("|"), config=config).element_strings

    return _from_elements(value, format, parse)


def _digital_link(value: str) -> Reading:
    def parse(config: ParseConfig) -> GS1ElementStrings:
        return GS1DigitalLinkURI.parse(value, config=config).element_strings

    return _from_elements(value, ScanFormat.GS1_DIGITAL_LINK, parse)


def _from_elements(
    value: str, format: ScanFormat, parse: Callable[[ParseConfig], GS1ElementStrings]
) -> Reading:
    date_error: str | None = None
    try:
        elements = parse(_CONFIG)
    except ParseError as exc:
        # An impossible date (31 February) fails the whole message; read the rest anyway
        # and report the date.
        try:
            elements = parse(_LENIENT_DATES)
        except ParseError:
            return Reading(format, value, error=ScanError(ScanErrorCode.MALFORMED, str(exc)))
        date_error = str(exc)
    found = {element.ai.ai: element for element in elements}
    error: ScanError | None = None
    gtin: str | None = None
    if "01" in found:
        element = found["01"]
        gtin = element.gtin.as_gtin_14() if element.gtin else element.value.zfill(14)
        if element.gtin_error:
            error = _gtin_error(element.value, element.gtin_error)
    if error is None and date_error is not None:
        error = ScanError(ScanErrorCode.INVALID_DATE, date_error)
    expiry = found["17"].date if "17" in found else None
    return Reading(
        format,
        value,
        gtin=gtin,
        serial_number=found["21"].value if "21" in found else None,
        lot_number=found["10"].value if "10" in found else None,
        expiry_date=expiry,
        elements=tuple(ScanElement(e.ai.ai, e.value) for e in elements),
        error=error,
    )


# ---------------------------------------------------------------- labels for data entry

NumberKind = Literal["serial", "lot"]


@dataclass(frozen=True)
class Label:
    """One serial or lot number field as a person typed it or a scanner sent it.

    Either `number_text` is set (the entry is not GS1: the number as typed) and nothing
    else is, or it is None and the GS1 fields hold what the label carries.
    """

    number_text: str | None = None  # trimmed; "" when the field was blank
    gtin: str | None = None  # as 14 digits, even when its check digit is wrong
    serial_number: str | None = None  # AI (21)
    lot_number: str | None = None  # AI (10)
    expiry_date: date | None = None  # AI (17), day 00 read as the month's last day
    error: ScanError | None = None  # a wrong check digit, an impossible date, malformed data

    @property
    def is_gs1(self) -> bool:
        return self.number_text is None

    def number(self, kind: NumberKind) -> str | None:
        """The serial or lot number this entry gives; None when a GS1 label carries none."""
        if self.number_text is not None:
            return self.number_text
        return self.serial_number if kind == "serial" else self.lot_number


def read_label(raw: str) -> Label:
    """Read a serial or lot number field that may hold a raw scan. Pure; never raises.

    The entry is GS1 only when nothing else can be meant: an AIM symbology identifier of a
    GS1 symbology (]C1, ]e0, ]d2, ]Q3, or an EAN/UPC one such as ]E0), a leading "(", an
    http(s) URL (a GS1 Digital Link), or a GS or "|" separator. Anything else is the number
    as typed, trimmed, however much it looks like GS1 data: "21345" is serial 21345 and
    "0109506000134352" a number of sixteen digits. A non-GS1 symbology identifier (]C0) is
    taken off. A GS1 entry that cannot be read cleanly keeps what could be read, with
    `error`; an http(s) URL that is not a Digital Link is malformed rather than a number.
    Blank input is `number_text=""`: whether a blank is allowed is the caller's rule.
    """
    # Unmarked, the plain text is the likeliest reading, so the only one asked for.
    reading = parse_scan(raw, unmarked_as_gs1=False).readings[0]
    if reading.format is ScanFormat.PLAIN:
        return Label(number_text=reading.text)
    return Label(
        gtin=reading.gtin,
        serial_number=reading.serial_number,
        lot_number=reading.lot_number,
        expiry_date=reading.expiry_date,
        error=reading.error,
    )


def label_problems(
    label: Label,
    kind: NumberKind,
    *,
    sku: str,
    gtin: str | None,
    expiry_date: date | None = None,
    gtin_owners: Mapping[str, str] | None = None,
    field: str | None = None,
) -> list[Problem]:
    """What keeps `label` from being entered as a serial or lot number of product `sku`.

    `gtin` is the product's GTIN (14 digits), None when it has none on record; then
    `gtin_owners` (GTIN → SKU, from `gtin_owners()`) still refuses a label of another
    product. `expiry_date` is the lot's expiry as entered or recorded, None when there is
    none to compare with; it is compared for lots only, as serials carry no expiry here.
    A plain number has no problems here: its own rules (blank, length) are `clean_number`'s.

    Codes: INVALID_SCAN (wrong check digit, impossible date, malformed data), WRONG_LABEL
    (no number of that kind: a lot label in a serial field, a product barcode), and
    GTIN_MISMATCH and EXPIRY_MISMATCH, which may come together.
    """
    if not label.is_gs1:
        return []
    if label.error is not None:
        return [Problem(ErrorCode.INVALID_SCAN, _unreadable(label.error), field)]
    if label.number(kind) is None:
        return [Problem(ErrorCode.WRONG_LABEL, _wrong_label(label, kind), field)]
    problems = []
    mismatch = _gtin_mismatch(label, sku, gtin, gtin_owners or {})
    if mismatch is not None:
        problems.append(Problem(ErrorCode.GTIN_MISMATCH, mismatch, field))
    scanned = label.expiry_date
    if kind == "lot" and scanned and expiry_date and scanned != expiry_date:
        problems.append(
            Problem(
                ErrorCode.EXPIRY_MISMATCH,
                f"the label says expiry {scanned}, but the lot's is {expiry_date}",
                field,
            )
        )
    return problems


def _gtin_mismatch(
    label: Label, sku: str, gtin: str | None, owners: Mapping[str, str]
) -> str | None:
    if label.gtin is None:
        return None
    if gtin is not None and label.gtin != gtin:
        return f"the label is GTIN {label.gtin}, but {sku}'s GTIN is {gtin}"
    owner = owners.get(label.gtin)
    if owner is not None and owner != sku:
        return f"the label is GTIN {label.gtin} of {owner}, not {sku}"
    return None


def _unreadable(error: ScanError) -> str:
    if error.code is ScanErrorCode.INVALID_CHECK_DIGIT:
        return f"the GTIN on the label has a wrong check digit: {error.message}"
    if error.code is ScanErrorCode.INVALID_DATE:
        return f"the label has an impossible date: {error.message}"
    return f"the label is not valid GS1 data: {error.message}"


def _wrong_label(label: Label, kind: NumberKind) -> str:
    if label.lot_number is not None:
        carries = f"it is the label of lot {label.lot_number}"
    elif label.serial_number is not None:
        carries = f"it is the label of serial {label.serial_number}"
    elif label.gtin is not None:
        carries = f"it names only product GTIN {label.gtin}"
    else:
        carries = "it has no GTIN, lot or serial"
    return f"the label carries no {kind} number ({carries}): scan the {kind} label"


async def gtin_owners(
    session: AsyncSession, product: Product, labels: Iterable[Label]
) -> dict[str, str]:
    """GTIN → SKU for the labels' GTINs, for checking labels against a product that has no
    GTIN on record. A product with a GTIN needs no look-up (GTINs are unique) and gets {}."""
    if product.gtin is not None:
        return {}
    gtins = {label.gtin for label in labels if label.gtin is not None and label.error is None}
    if not gtins:
        return {}
    query = select(Product.gtin, Product.sku).where(Product.gtin.in_(gtins))
    owners = await key_values(session, query)
    return {gtin: sku for gtin, sku in owners.items() if gtin is not None}


async def scanned_serials(
    session: AsyncSession, product_id: int, entries: Sequence[str], problems: Problems, where: str
) -> list[str]:
    """The serial number of each entry of a list, typed or scanned, for one product.

    A refused label adds its problem at the entry, `{where}.{k}` (lines.0.serialNumbers.3:
    in a scanned list the person must know which one), and gives no number. Plain numbers
    come back trimmed, for the caller's own rules. The product is read only for GS1 labels.
    """
    labels = [read_label(entry) for entry in entries]
    if not any(label.is_gs1 for label in labels):
        return [label.number_text or "" for label in labels]
    product = await session.get(Product, product_id)
    assert product is not None
    owners = await gtin_owners(session, product, labels)
    numbers = []
    for k, label in enumerate(labels):
        refusals = label_problems(
            label,
            "serial",
            sku=product.sku,
            gtin=product.gtin,
            gtin_owners=owners,
            field=f"{where}.{k}",
        )
        problems.items += refusals
        number = label.number("serial")
        if not refusals and number is not None:
            numbers.append(number)
    return numbers


# ---------------------------------------------------------------- finding what was scanned


@dataclass
class ScanMatch:
    """What a scan found. `reading` is the interpretation that found it (or, when nothing
    matched, the most informative one); `found` is False when nothing matches."""

    scan: ParsedScan
    reading: Reading
    product: Product | None = None
    serials: list[Serial] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.product or self.serials or self.lots)

    @property
    def message(self) -> str:
        return "; ".join(self.notes)


async def match_scan(session: AsyncSession, scan: ParsedScan) -> ScanMatch:
    """Look each reading up in turn; the first that finds anything wins."""
    attempts = []
    for reading in scan.readings:
        match = await _match(session, scan, reading)
        if match.found:
            return match
        attempts.append(match)
    # Nothing anywhere: tell what a GS1 reading made of it, as that explains most misses
    # (a wrong check digit, an unknown GTIN), else what the plain text was.
    informative = [m for m in attempts if m.reading.format is not ScanFormat.PLAIN]
    return (informative or attempts)[0]


async def _match(session: AsyncSession, scan: ParsedScan, reading: Reading) -> ScanMatch:
    match = ScanMatch(scan, reading)
    if reading.error is not None:
        match.notes.append(reading.error.message)
    if reading.format is ScanFormat.PLAIN:
        if reading.text:
            await _match_plain(session, match, reading.text)
        return match

    if reading.gtin is not None and reading.gtin_valid:
        match.product = await session.scalar(select(Product).where(Product.gtin == reading.gtin))
        if match.product is None:
            match.notes.append(f"no product has GTIN {reading.gtin}")
    product_id = match.product.id if match.product else None
    if reading.serial_number is not None:
        match.serials = await _serials(session, reading.serial_number, product_id)
        if not match.serials:
            match.notes.append(f"no serial {reading.serial_number}{_of(match.product)}")
    if reading.lot_number is not None:
        match.lots = await _lots(session, reading.lot_number, product_id)
        if not match.lots:
            match.notes.append(f"no lot {reading.lot_number}{_of(match.product)}")
        for lot in match.lots:
            if reading.expiry_date is not None and lot.expiry_date != reading.expiry_date:
                match.notes.append(
                    f"the label says expiry {reading.expiry_date}, lot {lot.lot_number} "
                    f"is recorded with {lot.expiry_date or 'none'}"
                )
    if match.product is None:
        match.product = await _sole_product(session, match)
    _describe(match)
    return match


async def _match_plain(session: AsyncSession, match: ScanMatch, text: str) -> None:
    match.serials = await _serials(session, text, None)
    match.lots = await _lots(session, text, None)
    match.product = await _sole_product(session, match)
    if not match.found:
        match.notes.append(f"nothing matches {text!r}: no serial or lot has that number")
    _describe(match)


async def _serials(session: AsyncSession, number: str, product_id: int | None) -> list[Serial]:
    """Serials match exactly, as the number was given to the warehouse."""
    query = select(Serial).where(
        Serial.serial_number == number, Serial.status != SerialStatus.RELEASED
    )
    if product_id is not None:
        query = query.where(Serial.product_id == product_id)
    return list(await session.scalars(query.order_by(Serial.id)))


async def _lots(session: AsyncSession, number: str, product_id: int | None) -> list[Lot]:
    """Lots match whatever the case."""
    query = select(Lot).where(Lot.lot_key == lot_key(number))
    if product_id is not None:
        query = query.where(Lot.product_id == product_id)
    return list(await session.scalars(query.order_by(Lot.id)))


async def _sole_product(session: AsyncSession, match: ScanMatch) -> Product | None:
    """The product of what was found, when everything found is of one product."""
    ids = {s.product_id for s in match.serials} | {lot.product_id for lot in match.lots}
    if len(ids) != 1:
        return None
    return await session.get(Product, ids.pop())


def _of(product: Product | None) -> str:
    return f" of {product.sku}" if product else ""


def _describe(match: ScanMatch) -> None:
    found = [f"serial {s.serial_number} ({s.status})" for s in match.serials]
    found += [f"lot {lot.lot_number}" for lot in match.lots]
    if match.product is not None:
        found.append(f"product {match.product.sku}")
    if found:
        match.notes.insert(0, "found " + ", ".join(found))
    elif match.reading.format is not ScanFormat.PLAIN:
        match.notes.insert(0, "nothing matches this scan")
