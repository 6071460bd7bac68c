"""The warehouse's data: typed ORM tables, enums and the pure serial lifecycle table."""

from models.base import Base
from models.catalog import Location, Product, Warehouse
from models.enums import (
    AllocationStrategy,
    LocationKind,
    MovementKind,
    PutawayTaskStatus,
    ReceivingLineStatus,
    ReceivingOrderStatus,
    SerialEvent,
    SerialStatus,
    Tracking,
)
from models.inventory import Lot, Serial, StockBalance
from models.movement import Movement
from models.receiving import PutawayTask, ReceivingLine, ReceivingOrder

__all__ = [
    "AllocationStrategy",
    "Base",
    "Location",
    "LocationKind",
    "Lot",
    "Movement",
    "MovementKind",
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
    "StockBalance",
    "Tracking",
    "Warehouse",
]
