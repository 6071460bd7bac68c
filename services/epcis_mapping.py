"""What each kind of movement says in GS1 EPCIS 2.0, in the words of the CBV 2.0.

Chosen against the CBV 2.0 definitions; docs/epcis.md has the table and the reasons.
Two CBV words look right and are not: `reserving` and `reserved` are about handing out
identifier numbers for later commissioning, not about stock set aside for an order.
And `sellable_accessible` means within a shopper's reach (a store shelf); goods in a
warehouse bin can be sold as they are but no customer can reach them, which the CBV
calls `sellable_not_accessible`.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from models import MovementKind


class Action(enum.StrEnum):
    # Goods seen as they are; the supplier who made them commissioned them, not us.
    OBSERVE = "OBSERVE"
    # Goods entering the traceable record here, with nothing before them anywhere we know.
    ADD = "ADD"


@dataclass(frozen=True)
class EventMeaning:
    action: Action
    biz_step: str
    disposition: str
    # Where the event is seen: where the goods arrive (a putaway is scanned at the bin it
    # fills), except for a pick, which is confirmed at the bin it empties.
    seen_at_source: bool = False
    # False for holds: a hold is on the whole lot wherever it is, and the quantity on the
    # movement row (what was on hand, or 1 when nothing was) would mislead.
    counted: bool = True


K = MovementKind
SELLABLE = "sellable_not_accessible"

MEANINGS: Final[Mapping[MovementKind, EventMeaning]] = MappingProxyType(
    {
        K.RECEIVE: EventMeaning(Action.OBSERVE, "receiving", SELLABLE),
        K.PUTAWAY: EventMeaning(Action.OBSERVE, "storing", SELLABLE),
        K.PICK: EventMeaning(Action.OBSERVE, "picking", "in_progress", seen_at_source=True),
        K.SHIP: EventMeaning(Action.OBSERVE, "shipping", "in_transit"),
        # A pick reversed: the goods go from packing back into a storage bin.
        K.RETURN: EventMeaning(Action.OBSERVE, "storing", SELLABLE),
        # A hold awaits the outcome of a recall and may be lifted (the CBV's "not sellable
        # pending further evaluation"); `recalled` would assert a public-safety recall in
        # force, which a lot released afterwards never was under.
        K.HOLD: EventMeaning(Action.OBSERVE, "holding", "non_sellable_other", counted=False),
        K.RELEASE_HOLD: EventMeaning(Action.OBSERVE, "holding", SELLABLE, counted=False),
        # Stock counted in when tracking began. ADD is the only action that may carry a
        # lot's number and expiry (ilmd), and no earlier event of ours exists.
        K.OPENING_STOCK: EventMeaning(Action.ADD, "stock_taking", SELLABLE),
    }
)

# Movements that change our books but not the goods: nothing happened to the objects that
# a trading partner could observe, and the CBV has no step for them.
NOT_EXPORTED: Final[Mapping[MovementKind, str]] = MappingProxyType(
    {
        K.EXPECT: "a plan (an ASN line names what should arrive); nothing was observed",
        K.ALLOCATE: "stock reserved for an order; the goods neither move nor change",
        K.CANCEL: "a reservation given up; the goods neither move nor change",
        K.RELEASE: "an expected item that never arrived: no object was ever here, and "
        "decommissioning would retire the supplier's identifier",
    }
)

EXPORTED_KINDS: Final = tuple(MEANINGS)
