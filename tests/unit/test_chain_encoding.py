"""The hash chain's encoding is a published format (docs/audit.md): pinned here, so that a
change to it is a decision and not an accident."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# Any value a movement column holds, and text that JSON and %-formatting treat specially.
_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["%s", "%%", '"', "\\", "\x1d", "é", MovementKind.PICK, SerialStatus.SHIPPED]),
)
_PLACES = st.sets(st.integers(min_value=1, max_value=len(chain.CONTENT) - 2)).map(
    lambda places: [0, *sorted(places)]
)


@given(
    template=st.lists(_VALUES, min_size=14, max_size=14),
    places=_PLACES,
    rows=st.lists(st.lists(_VALUES, min_size=15, max_size=15), min_size=1, max_size=3),
)
def test_shared_content_links_as_link_does(
    template: list[object], places: list[int], rows: list[list[object]]
) -> None:
    """Rows that differ only at `places` hash alike through `Shared` and through `link`."""
    shared = chain.Shared([*template, COUNTED_IN], places)
    previous = shared_previous = GENESIS_HASH
    for varying in rows:
        row = [*template, COUNTED_IN]
        for place, value in zip(places, varying, strict=False):
            row[place] = value
        previous = chain.link(previous, row)
        shared_previous = shared.link(shared_previous, [row[p] for p in places])
        assert shared_previous == previous


def test_shared_content_refuses_a_varying_time() -> None:
    with pytest.raises(ValueError, match="leave out the time"):
        chain.Shared(FIRST, [0, 14])
    with pytest.raises(ValueError, match="must ascend"):
        chain.Shared(FIRST, [2, 0])


@given(
    template=st.lists(_VALUES, min_size=14, max_size=14),
    places=_PLACES,
    ids=st.lists(st.integers(min_value=0, max_value=2**63 - 1), min_size=15, max_size=15),
)
def test_shared_content_links_ids_as_link_does(
    template: list[object], places: list[int], ids: list[int]
) -> None:
    shared = chain.Shared([*template, COUNTED_IN], places)
    row = [*template, COUNTED_IN]
    varying = tuple(ids[: len(places)])
    for place, value in zip(places, varying, strict=True):
        row[place] = value
    assert shared.link_ids(GENESIS_HASH, varying) == chain.link(GENESIS_HASH, row)
