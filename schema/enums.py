"""Domain enums registered with GraphQL under their own names and values.

`strawberry.enum` marks the classes in place, so the rest of schema/ uses the domain enums
themselves and mypy sees real types.
"""

import strawberry

from models.enums import (
    AllocationStatus,
    AllocationStrategy,
    LocationKind,
    MovementKind,
    OutboundOrderStatus,
    PickTaskStatus,
    PutawayTaskStatus,
    ReceivingLineStatus,
    ReceivingOrderStatus,
    SerialEvent,
    SerialStatus,
    ShipmentStatus,
    Tracking,
)
from services.errors import ErrorCode

strawberry.enum(Tracking, description="How a product's units are identified.")
strawberry.enum(
    AllocationStrategy,
    description="FEFO: first expired, first out (the default); FIFO: first received, first out.",
)
strawberry.enum(LocationKind)
strawberry.enum(
    SerialStatus,
    description="Where a serialized item is in its lifecycle. RELEASED: expected on an ASN "
    "that was cancelled or closed before it arrived; its number may be expected again.",
)
strawberry.enum(SerialEvent, description="What can happen to a serial.")
strawberry.enum(MovementKind)
strawberry.enum(ReceivingOrderStatus)
strawberry.enum(ReceivingLineStatus)
strawberry.enum(PutawayTaskStatus)
strawberry.enum(OutboundOrderStatus)
strawberry.enum(AllocationStatus)
strawberry.enum(PickTaskStatus)
strawberry.enum(ShipmentStatus)
strawberry.enum(ErrorCode, description="Why a mutation was refused; stable to branch on.")

__all__ = [
    "AllocationStatus",
    "AllocationStrategy",
    "ErrorCode",
    "LocationKind",
    "MovementKind",
    "OutboundOrderStatus",
    "PickTaskStatus",
    "PutawayTaskStatus",
    "ReceivingLineStatus",
    "ReceivingOrderStatus",
    "SerialEvent",
    "SerialStatus",
    "ShipmentStatus",
    "Tracking",
]
