"""Identifiers in EPCIS documents.

What moved is named by GS1 Digital Link URIs on id.gs1.org, as any trading partner can
read them. Where and why are named by URIs of ours under a configurable base (a domain the
warehouse operator controls): locations have no GLN here and documents no GS1 key, and
the CBV accepts any HTTP URI its owner keeps stable. Change the base and every location,
document and event id changes with it, so partners would see new places and new events.
"""

import string
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from services.recall import RECALL_DOCUMENT

DIGITAL_LINK = "https://id.gs1.org"
# A placeholder that can never resolve (RFC 2606): set TRACKLINE_EPCIS_BASE_URI before
# sending documents to anyone.
DEFAULT_BASE_URI = "https://trackline.invalid/epcis"

# GS1 General Specifications: a serial number (AI 21) and a lot number (AI 10) are up to
# 20 characters of character set 82.
GS1_CSET_82: frozenset[str] = frozenset(
    string.ascii_letters + string.digits + "!\"%&'()*+,-./:;<=>?_"
)
GS1_VALUE_MAX_LENGTH = 20


def _segment(value: str) -> str:
    """One path segment. GS1 Digital Link percent-encodes every character of set 82 that is
    not unreserved in a URI (`/`, `%`, `!`, `(` …), which is what `quote` with nothing safe
    does."""
    return quote(value, safe="")


def is_gs1_value(value: str) -> bool:
    return len(value) <= GS1_VALUE_MAX_LENGTH and all(ch in GS1_CSET_82 for ch in value)


def product_uri(gtin: str) -> str:
    return f"{DIGITAL_LINK}/01/{gtin}"


def serial_uri(gtin: str, serial_number: str) -> str:
    return f"{product_uri(gtin)}/21/{_segment(serial_number)}"


def lot_uri(gtin: str, lot_number: str) -> str:
    return f"{product_uri(gtin)}/10/{_segment(lot_number)}"


# Movement document types, as receiving and outbound write them.
RECEIVING_ORDER = "RECEIVING_ORDER"
ORDER = "ORDER"
# Where each document type's URIs live under the base; any other type (an import batch,
# say) goes under documents/<type>.
DOCUMENT_PATHS = {RECEIVING_ORDER: "receiving-orders", ORDER: "orders", RECALL_DOCUMENT: "recalls"}


@dataclass(frozen=True)
class UriScheme:
    """URIs of ours, all under `base`."""

    base: str

    @classmethod
    def under(cls, base: str) -> "UriScheme":
        """Check the base (an absolute http(s) URI, no query or fragment) and drop a
        trailing slash; ValueError otherwise, so a bad setting stops the server starting."""
        parts = urlsplit(base.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the EPCIS base URI {base!r} must be an absolute http(s) URI")
        if parts.query or parts.fragment:
            raise ValueError(f"the EPCIS base URI {base!r} must have no query or fragment")
        return cls(base.strip().rstrip("/"))

    def location(self, warehouse_code: str, location_code: str) -> str:
        return f"{self.base}/locations/{_segment(warehouse_code)}/{_segment(location_code)}"

    def document(self, document_type: str, number: str) -> str:
        path = DOCUMENT_PATHS.get(document_type) or f"documents/{_segment(document_type)}"
        return f"{self.base}/{path}/{_segment(number)}"

    def customer_order(self, order_number: str, customer_reference: str) -> str:
        """The customer's purchase order, under our order: two customers may well use the
        same number for their own orders."""
        order = self.document(ORDER, order_number)
        return f"{order}/customer-po/{_segment(customer_reference)}"

    def shipment(self, shipment_id: int) -> str:
        return f"{self.base}/shipments/{shipment_id}"

    def event_id(self, movement_id: int) -> str:
        """The same movement always gives the same id, so a partner importing a document
        twice (or overlapping exports) keeps one event. The base is part of the name, as
        another installation numbers its movements from 1 too."""
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.base}/movements/{movement_id}')}"


DEFAULT_URIS = UriScheme.under(DEFAULT_BASE_URI)
