"""Vocabulary of the warehouse. Stored as strings so rows stay readable in any SQL shell."""

import enum


class Tracking(enum.StrEnum):
    """How a product's units are identified. A product is serial-tracked OR lot-tracked."""

    NONE = "NONE"
    SERIAL = "SERIAL"
    LOT = "LOT"


class AllocationStrategy(enum.StrEnum):
    FEFO = "FEFO"
    FIFO = "FIFO"


class LocationKind(enum.StrEnum):
    RECEIVING = "RECEIVING"
    STORAGE = "STORAGE"
    PACKING = "PACKING"
    SHIPPING = "SHIPPING"


class SerialStatus(enum.StrEnum):
    EXPECTED = "EXPECTED"
    RECEIVED = "RECEIVED"
    IN_INVENTORY = "IN_INVENTORY"
    ALLOCATED = "ALLOCATED"
    PICKED = "PICKED"
    SHIPPED = "SHIPPED"
    # An EXPECTED serial whose ASN was cancelled before the item arrived. The item never
    # existed here, so its number may be expected again; the row stays for the history.
    RELEASED = "RELEASED"


class SerialEvent(enum.StrEnum):
    RECEIVE = "RECEIVE"
    PUTAWAY = "PUTAWAY"
    ALLOCATE = "ALLOCATE"
    PICK = "PICK"
    SHIP = "SHIP"
    CANCEL = "CANCEL"
    RETURN = "RETURN"
    RELEASE = "RELEASE"


class MovementKind(enum.StrEnum):
    """Why a movement row was written: the serial events plus what happens to quantities."""

    EXPECT = "EXPECT"
    RECEIVE = "RECEIVE"
    PUTAWAY = "PUTAWAY"
    ALLOCATE = "ALLOCATE"
    PICK = "PICK"
    SHIP = "SHIP"
    CANCEL = "CANCEL"
    RETURN = "RETURN"
    RELEASE = "RELEASE"
    HOLD = "HOLD"
    RELEASE_HOLD = "RELEASE_HOLD"
    # Stock that was already in the warehouse when tracking began, loaded by an import.
    OPENING_STOCK = "OPENING_STOCK"


class ReceivingOrderStatus(enum.StrEnum):
    PLANNED = "PLANNED"
    RECEIVING = "RECEIVING"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class ReceivingLineStatus(enum.StrEnum):
    PLANNED = "PLANNED"
    RECEIVING = "RECEIVING"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class PutawayTaskStatus(enum.StrEnum):
    OPEN = "OPEN"
    DONE = "DONE"


class OutboundOrderStatus(enum.StrEnum):
    OPEN = "OPEN"
    ALLOCATED = "ALLOCATED"
    PICKING = "PICKING"
    PICKED = "PICKED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class AllocationStatus(enum.StrEnum):
    ALLOCATED = "ALLOCATED"
    PICKED = "PICKED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"
    RETURNED = "RETURNED"


class PickTaskStatus(enum.StrEnum):
    OPEN = "OPEN"
    DONE = "DONE"
    SHORT = "SHORT"
    CANCELLED = "CANCELLED"


class ShipmentStatus(enum.StrEnum):
    PACKED = "PACKED"
    DISPATCHED = "DISPATCHED"


class Role(enum.StrEnum):
    """What an API token may do; each role may do all that the roles before it may."""

    VIEWER = "VIEWER"
    OPERATOR = "OPERATOR"
    INTEGRATOR = "INTEGRATOR"
    ADMIN = "ADMIN"

    def includes(self, other: "Role") -> bool:
        return _ROLE_RANKS[self] >= _ROLE_RANKS[other]


_ROLE_RANKS = {role: rank for rank, role in enumerate(Role)}
