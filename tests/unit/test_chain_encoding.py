"""The hash chain's encoding is a published format (docs/audit.md): pinned here, so that a
change to it is a decision and not an accident."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from models import MovementKind, SerialStatus
from models.movement import GENESIS_HASH
from services import chain

COUNTED_IN = datetime(2026, 11, 27, 19, 25, 3, 48211, tzinfo=UTC)
FIRST: list[object] = [
    1,
    MovementKind.OPENING_STOCK,
    3,
    17,
    None,
    1,
    None,
    SerialStatus.IN_INVENTORY,
    None,
    5,
    "IMPORT",
    "OPEN-1",
    None,
    "import",
    COUNTED_IN,
]
CONTENT = (
    b'[1,"OPENING_STOCK",3,17,null,1,null,"IN_INVENTORY",null,5,"IMPORT","OPEN-1",null,'
    b'"import","2026-11-27T19:25:03.048211Z"]'
)


def test_the_documented_test_vector() -> None:
    assert chain.content(FIRST) == CONTENT
    expected = "22b04d0b7775fe6725c9004c4485d7a5383a8db96a9c974f5f28ff0b87404364"
    assert chain.link(GENESIS_HASH, FIRST) == expected
    assert hashlib.sha256(GENESIS_HASH.encode() + CONTENT).hexdigest() == expected


def test_enums_and_their_names_encode_alike_as_do_instants_in_any_zone() -> None:
    as_read = [*FIRST]
    as_read[1], as_read[7] = "OPENING_STOCK", "IN_INVENTORY"
    as_read[14] = COUNTED_IN.astimezone(timezone(timedelta(hours=1)))
    assert chain.content(as_read) == CONTENT


def test_text_is_utf8_not_escaped() -> None:
    row = [*FIRST]
    row[13] = "Zoë"
    assert '"Zoë"'.encode() in chain.content(row)
