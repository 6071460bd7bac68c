"""The serial lifecycle as data: (status, event) -> next status.

EXPECTED -receive-> RECEIVED -putaway-> IN_INVENTORY -allocate-> ALLOCATED -pick-> PICKED
-ship-> SHIPPED, with the two reversals ALLOCATED -cancel-> IN_INVENTORY and
PICKED -return-> IN_INVENTORY. RELEASE frees the number of an item that never arrived.
Anything not in the table is an illegal transition.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from models.enums import SerialEvent, SerialStatus

S = SerialStatus
E = SerialEvent

TRANSITIONS: Final[Mapping[tuple[SerialStatus, SerialEvent], SerialStatus]] = MappingProxyType(
    {
        (S.EXPECTED, E.RECEIVE): S.RECEIVED,
        (S.EXPECTED, E.RELEASE): S.RELEASED,
        (S.RECEIVED, E.PUTAWAY): S.IN_INVENTORY,
        (S.IN_INVENTORY, E.ALLOCATE): S.ALLOCATED,
        (S.ALLOCATED, E.PICK): S.PICKED,
        (S.ALLOCATED, E.CANCEL): S.IN_INVENTORY,
        (S.PICKED, E.SHIP): S.SHIPPED,
        (S.PICKED, E.RETURN): S.IN_INVENTORY,
    }
)


class IllegalTransition(Exception):
    def __init__(self, status: SerialStatus, event: SerialEvent) -> None:
        super().__init__(f"a serial in status {status} cannot take the event {event}")
        self.status = status
        self.event = event


def next_status(status: SerialStatus, event: SerialEvent) -> SerialStatus:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(status, event) from None


def allowed_events(status: SerialStatus) -> list[SerialEvent]:
    return [event for (source, event) in TRANSITIONS if source == status]
