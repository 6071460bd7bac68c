"""The warehouse's data: typed ORM tables, enums and the pure serial lifecycle table."""

from models.access import ApiToken
from models.base import Base
from models.catalog import Location, Product, Warehouse
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
from models.idempotency import IdempotencyKey
from models.inventory import Lot, Serial, StockBalance
from models.movement import Movement, MovementChain
from models.outbound import Allocation, OutboundLine, OutboundOrder, PickTask, Shipment
from models.receiving import PutawayTask, ReceivingLine, ReceivingOrder

__all__ = [
    "Allocation",
    "AllocationStatus",
    "AllocationStrategy",
    "ApiToken",
    "Base",
    "IdempotencyKey",
    "Location",
    "LocationKind",
    "Lot",
    "Movement",
    "MovementChain",
    "MovementKind",
    "OutboundLine",
    "OutboundOrder",
    "OutboundOrderStatus",
    "PickTask",
    "PickTaskStatus",
    "Product",
    "PutawayTask",
    "PutawayTaskStatus",
    "ReceivingLine",
    "ReceivingLineStatus",
    "ReceivingOrder",
    "ReceivingOrderStatus",
    "Serial",
    "SerialEvent",
    "SerialStatus",
    "Shipment",
    "ShipmentStatus",
    "StockBalance",
    "Tracking",
    "Warehouse",
]
