"""Coded refusals. A use case either does all it was asked or raises `Refused` before
committing anything, so a refusal never leaves a partial write behind."""

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class ErrorCode(enum.StrEnum):
    # generic input
    INVALID_VALUE = "INVALID_VALUE"
    NOT_FOUND = "NOT_FOUND"
    # another transaction changed the same rows first (a unique key raced): safe to retry
    CONFLICT = "CONFLICT"
    # API tokens: a token never grants more than its creator has
    ROLE_TOO_HIGH = "ROLE_TOO_HIGH"
    EXPIRY_TOO_LATE = "EXPIRY_TOO_LATE"
    # catalog
    DUPLICATE_CODE = "DUPLICATE_CODE"
    DUPLICATE_SKU = "DUPLICATE_SKU"
    DUPLICATE_GTIN = "DUPLICATE_GTIN"
    INVALID_GTIN = "INVALID_GTIN"
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    TRACKING_CONFLICT = "TRACKING_CONFLICT"
    TRACKING_LOCKED = "TRACKING_LOCKED"
    # lifecycle
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    # receiving
    DUPLICATE_ORDER_NUMBER = "DUPLICATE_ORDER_NUMBER"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"
    ORDER_NOT_CANCELLABLE = "ORDER_NOT_CANCELLABLE"
    NO_RECEIVING_LOCATION = "NO_RECEIVING_LOCATION"
    NOTHING_TO_RECEIVE = "NOTHING_TO_RECEIVE"
    DUPLICATE_LINE = "DUPLICATE_LINE"
    LINE_NOT_OPEN = "LINE_NOT_OPEN"
    OVER_RECEIPT = "OVER_RECEIPT"
    INVALID_SERIAL_NUMBER = "INVALID_SERIAL_NUMBER"
    INVALID_LOT_NUMBER = "INVALID_LOT_NUMBER"
    SERIALS_NOT_ALLOWED = "SERIALS_NOT_ALLOWED"
    SERIALS_REQUIRED = "SERIALS_REQUIRED"
    SERIAL_COUNT_MISMATCH = "SERIAL_COUNT_MISMATCH"
    DUPLICATE_SERIAL = "DUPLICATE_SERIAL"
    SERIAL_ALREADY_EXISTS = "SERIAL_ALREADY_EXISTS"
    SERIAL_NOT_EXPECTED = "SERIAL_NOT_EXPECTED"
    LOTS_NOT_ALLOWED = "LOTS_NOT_ALLOWED"
    LOT_REQUIRED = "LOT_REQUIRED"
    DUPLICATE_LOT = "DUPLICATE_LOT"
    LOT_QUANTITY_MISMATCH = "LOT_QUANTITY_MISMATCH"
    LOT_EXPIRY_CONFLICT = "LOT_EXPIRY_CONFLICT"
    LOT_EXPIRED = "LOT_EXPIRED"
    QUANTITY_NOT_POSITIVE = "QUANTITY_NOT_POSITIVE"
    # putaway
    TASK_NOT_OPEN = "TASK_NOT_OPEN"
    LOCATION_NOT_STORAGE = "LOCATION_NOT_STORAGE"
    PUTAWAY_QUANTITY_MISMATCH = "PUTAWAY_QUANTITY_MISMATCH"
    SERIAL_NOT_ON_TASK = "SERIAL_NOT_ON_TASK"
    # outbound
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    NOTHING_TO_ALLOCATE = "NOTHING_TO_ALLOCATE"
    SERIAL_NOT_AVAILABLE = "SERIAL_NOT_AVAILABLE"
    ALLOCATION_NOT_CANCELLABLE = "ALLOCATION_NOT_CANCELLABLE"
    ORDER_HAS_PICKED_ITEMS = "ORDER_HAS_PICKED_ITEMS"
    ORDER_NOT_PICKED = "ORDER_NOT_PICKED"
    UNKNOWN_SERIAL = "UNKNOWN_SERIAL"
    WRONG_PRODUCT = "WRONG_PRODUCT"
    WRONG_ORDER = "WRONG_ORDER"
    SERIAL_ON_OTHER_TASK = "SERIAL_ON_OTHER_TASK"
    WRONG_LOCATION = "WRONG_LOCATION"
    WRONG_LOT = "WRONG_LOT"
    ALREADY_PICKED = "ALREADY_PICKED"
    SCAN_REQUIRED = "SCAN_REQUIRED"
    NOT_RETURNABLE = "NOT_RETURNABLE"
    SHIPMENT_NOT_PACKED = "SHIPMENT_NOT_PACKED"
    # recall
    LOT_ALREADY_ON_HOLD = "LOT_ALREADY_ON_HOLD"
    LOT_NOT_ON_HOLD = "LOT_NOT_ON_HOLD"
    # EPCIS export: a product without a GTIN, a serial or lot number GS1 cannot carry
    GTIN_REQUIRED = "GTIN_REQUIRED"
    NOT_GS1_ENCODABLE = "NOT_GS1_ENCODABLE"
    # a scanned label in a serial or lot number field (with INVALID_SCAN and GTIN_MISMATCH)
    EXPIRY_MISMATCH = "EXPIRY_MISMATCH"
    WRONG_LABEL = "WRONG_LABEL"
    # bulk import (a file's header and rows)
    EMPTY_FILE = "EMPTY_FILE"
    MALFORMED_ROW = "MALFORMED_ROW"
    MISSING_COLUMN = "MISSING_COLUMN"
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
    DUPLICATE_COLUMN = "DUPLICATE_COLUMN"
    EMPTY_VALUE = "EMPTY_VALUE"
    VALUE_TOO_LONG = "VALUE_TOO_LONG"
    INVALID_DATE = "INVALID_DATE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    UNKNOWN_PRODUCT = "UNKNOWN_PRODUCT"
    UNKNOWN_LOCATION = "UNKNOWN_LOCATION"
    UNKNOWN_RECEIVING_LINE = "UNKNOWN_RECEIVING_LINE"
    EXPECTED_QUANTITY_EXCEEDED = "EXPECTED_QUANTITY_EXCEEDED"
    INVALID_SCAN = "INVALID_SCAN"
    GTIN_MISMATCH = "GTIN_MISMATCH"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input. `field` is the input path, e.g. `lines.0.lots.1`."""

    code: ErrorCode
    message: str
    field: str | None = None


class Refused(Exception):
    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        if not self.problems:
            raise ValueError("a refusal needs at least one problem")
        super().__init__("; ".join(p.message for p in self.problems))

    @classmethod
    def one(cls, code: ErrorCode, message: str, field: str | None = None) -> "Refused":
        return cls([Problem(code, message, field)])


class Problems:
    """Collects every problem of an input before refusing, so a caller fixes them in one go."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        self.items.append(Problem(code, message, field))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise Refused(self.items)
