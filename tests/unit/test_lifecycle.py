"""The serial lifecycle table, walked pair by pair against the product document."""

from itertools import product

import pytest

from models import SerialEvent, SerialStatus
from models.lifecycle import TRANSITIONS, IllegalTransition, allowed_events, next_status

S = SerialStatus
E = SerialEvent

# Written out from the product document's graph (plus RELEASE of a never-arrived item),
# deliberately not derived from TRANSITIONS, so a change to the table has to change this too.
DOCUMENTED: dict[tuple[SerialStatus, SerialEvent], SerialStatus] = {
    (S.EXPECTED, E.RECEIVE): S.RECEIVED,
    (S.EXPECTED, E.RELEASE): S.RELEASED,
    (S.RECEIVED, E.PUTAWAY): S.IN_INVENTORY,
    (S.IN_INVENTORY, E.ALLOCATE): S.ALLOCATED,
    (S.ALLOCATED, E.PICK): S.PICKED,
    (S.ALLOCATED, E.CANCEL): S.IN_INVENTORY,
    (S.PICKED, E.SHIP): S.SHIPPED,
    (S.PICKED, E.RETURN): S.IN_INVENTORY,
}

ALL_PAIRS = list(product(SerialStatus, SerialEvent))
ALLOWED_PAIRS = [pair for pair in ALL_PAIRS if pair in DOCUMENTED]
ILLEGAL_PAIRS = [pair for pair in ALL_PAIRS if pair not in DOCUMENTED]


def _id(pair: tuple[SerialStatus, SerialEvent]) -> str:
    return f"{pair[0]}-{pair[1]}"


def test_every_pair_is_walked() -> None:
    assert len(SerialStatus) == 7
    assert len(SerialEvent) == 8
    assert len(ALL_PAIRS) == 56
    assert len(ALLOWED_PAIRS) == 8
    assert len(ILLEGAL_PAIRS) == 48


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=_id)
def test_allowed_pair_gives_documented_next_status(
    pair: tuple[SerialStatus, SerialEvent],
) -> None:
    status, event = pair
    assert next_status(status, event) is DOCUMENTED[pair]


@pytest.mark.parametrize("pair", ILLEGAL_PAIRS, ids=_id)
def test_illegal_pair_raises_naming_status_and_event(
    pair: tuple[SerialStatus, SerialEvent],
) -> None:
    status, event = pair
    with pytest.raises(IllegalTransition) as caught:
        next_status(status, event)
    assert caught.value.status is status
    assert caught.value.event is event
    message = str(caught.value)
    assert f"status {status.value} " in message
    assert message.endswith(f"event {event.value}")


def test_table_is_exactly_the_documented_graph() -> None:
    assert dict(TRANSITIONS) == DOCUMENTED


@pytest.mark.parametrize("status", list(SerialStatus), ids=str)
def test_allowed_events_match_the_table(status: SerialStatus) -> None:
    expected = [event for (source, event) in DOCUMENTED if source is status]
    events = allowed_events(status)
    assert len(events) == len(set(events))
    assert set(events) == set(expected)
    for event in events:
        next_status(status, event)  # each advertised event really is accepted


def test_allowed_events_per_status() -> None:
    assert {status: set(allowed_events(status)) for status in SerialStatus} == {
        S.EXPECTED: {E.RECEIVE, E.RELEASE},
        S.RECEIVED: {E.PUTAWAY},
        S.IN_INVENTORY: {E.ALLOCATE},
        S.ALLOCATED: {E.PICK, E.CANCEL},
        S.PICKED: {E.SHIP, E.RETURN},
        S.SHIPPED: set(),
        S.RELEASED: set(),
    }


@pytest.mark.parametrize("status", [S.SHIPPED, S.RELEASED], ids=str)
def test_shipped_and_released_are_terminal(status: SerialStatus) -> None:
    assert allowed_events(status) == []
    for event in SerialEvent:
        with pytest.raises(IllegalTransition):
            next_status(status, event)


def test_only_shipped_and_released_are_terminal() -> None:
    terminal = {status for status in SerialStatus if not allowed_events(status)}
    assert terminal == {S.SHIPPED, S.RELEASED}


def test_happy_path_from_expected_to_shipped() -> None:
    status = S.EXPECTED
    visited = [status]
    for event in (E.RECEIVE, E.PUTAWAY, E.ALLOCATE, E.PICK, E.SHIP):
        status = next_status(status, event)
        visited.append(status)
    assert visited == [S.EXPECTED, S.RECEIVED, S.IN_INVENTORY, S.ALLOCATED, S.PICKED, S.SHIPPED]


def test_cancel_and_return_go_back_to_inventory() -> None:
    allocated = next_status(S.IN_INVENTORY, E.ALLOCATE)
    assert next_status(allocated, E.CANCEL) is S.IN_INVENTORY
    picked = next_status(allocated, E.PICK)
    assert next_status(picked, E.RETURN) is S.IN_INVENTORY


def test_every_status_is_reachable_from_expected() -> None:
    reached = {S.EXPECTED}
    frontier = [S.EXPECTED]
    while frontier:
        status = frontier.pop()
        for event in allowed_events(status):
            target = next_status(status, event)
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(SerialStatus)


def test_table_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[(S.SHIPPED, E.RETURN)] = S.IN_INVENTORY  # type: ignore[index]
