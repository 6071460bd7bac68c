"""Identifiers and times in EPCIS documents: Digital Link encoding, GS1 values, our URIs,
event ids, and the warehouse's offset from UTC."""

from datetime import UTC, datetime

import pytest

from services.epcis_events import event_time, time_zone_offset
from services.epcis_identifiers import (
    DEFAULT_URIS,
    UriScheme,
    is_gs1_value,
    lot_uri,
    product_uri,
    serial_uri,
)

GTIN = "09506000134352"


@pytest.mark.parametrize(
    ("serial", "encoded"),
    [
        ("SN-1002", "SN-1002"),
        ("A/B", "A%2FB"),
        ("50%", "50%25"),
        ("a!b(c)*d'e", "a%21b%28c%29%2Ad%27e"),
        ("x+y=z?&;:,", "x%2By%3Dz%3F%26%3B%3A%2C"),
        ('"<>', "%22%3C%3E"),
        ("dot.under_score-", "dot.under_score-"),
    ],
)
def test_digital_link_percent_encodes_what_a_uri_path_cannot_hold(
    serial: str, encoded: str
) -> None:
    assert serial_uri(GTIN, serial) == f"https://id.gs1.org/01/{GTIN}/21/{encoded}"


def test_lots_and_untracked_products_are_classes() -> None:
    assert lot_uri(GTIN, "LOT/7") == f"https://id.gs1.org/01/{GTIN}/10/LOT%2F7"
    assert product_uri(GTIN) == f"https://id.gs1.org/01/{GTIN}"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("SN-1002", True),
        ("!\"%&'()*+,-./:;<=>?_", True),
        ("X" * 20, True),
        ("X" * 21, False),
        ("SN 1", False),
        ("Größe", False),
        ("a~b", False),
        ("", True),
    ],
)
def test_gs1_values_are_20_characters_of_set_82(value: str, valid: bool) -> None:
    assert is_gs1_value(value) is valid


def test_our_uris_live_under_the_base() -> None:
    uris = UriScheme.under(" https://wms.example.com/epcis/ ")

    assert uris.base == "https://wms.example.com/epcis"
    assert (
        uris.location("MAIN", "A 01/2") == "https://wms.example.com/epcis/locations/MAIN/A%2001%2F2"
    )
    assert uris.document("RECEIVING_ORDER", "ASN-1") == (
        "https://wms.example.com/epcis/receiving-orders/ASN-1"
    )
    assert uris.document("ORDER", "SO-1") == "https://wms.example.com/epcis/orders/SO-1"
    assert uris.document("RECALL", "RC 1") == "https://wms.example.com/epcis/recalls/RC%201"
    assert uris.document("IMPORT", "2025/1") == (
        "https://wms.example.com/epcis/documents/IMPORT/2025%2F1"
    )
    assert uris.customer_order("SO-1", "PO 778") == (
        "https://wms.example.com/epcis/orders/SO-1/customer-po/PO%20778"
    )
    assert uris.shipment(7) == "https://wms.example.com/epcis/shipments/7"


@pytest.mark.parametrize(
    "base",
    [
        "",
        "wms.example.com",
        "ftp://wms.example.com",
        "https://",
        "https://x.com/?a=1",
        "https://x.com/#top",
    ],
)
def test_a_base_that_is_no_absolute_http_uri_is_refused(base: str) -> None:
    with pytest.raises(ValueError, match="EPCIS base URI"):
        UriScheme.under(base)


def test_an_event_id_is_the_same_for_a_movement_and_differs_between_installations() -> None:
    ours = UriScheme.under("https://wms.example.com/epcis")
    theirs = UriScheme.under("https://other.example.net/epcis")

    assert ours.event_id(42) == UriScheme.under("https://wms.example.com/epcis/").event_id(42)
    assert ours.event_id(42).startswith("urn:uuid:")
    assert len({ours.event_id(42), ours.event_id(43), theirs.event_id(42)}) == 3
    assert DEFAULT_URIS.base == "https://trackline.invalid/epcis"


@pytest.mark.parametrize(
    ("moment", "zone", "offset"),
    [
        (datetime(2026, 1, 15, 12, tzinfo=UTC), "Europe/Amsterdam", "+01:00"),
        (datetime(2026, 7, 15, 12, tzinfo=UTC), "Europe/Amsterdam", "+02:00"),
        # the instant summer time begins in Amsterdam (01:00 UTC on 29 March 2026)
        (datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), "Europe/Amsterdam", "+01:00"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "Europe/Amsterdam", "+02:00"),
        (datetime(2026, 1, 15, 12, tzinfo=UTC), "America/New_York", "-05:00"),
        (datetime(2026, 7, 15, 12, tzinfo=UTC), "America/St_Johns", "-02:30"),
        (datetime(2026, 7, 15, 12, tzinfo=UTC), "Asia/Kathmandu", "+05:45"),
        (datetime(2026, 7, 15, 12, tzinfo=UTC), "UTC", "+00:00"),
        (datetime(2026, 7, 15, 12, tzinfo=UTC), None, "+00:00"),
    ],
)
def test_the_offset_is_the_warehouses_at_that_instant(
    moment: datetime, zone: str | None, offset: str
) -> None:
    assert time_zone_offset(moment, zone) == offset


def test_event_times_are_utc_to_the_millisecond() -> None:
    moment = datetime(2026, 5, 4, 9, 12, 31, 402113, tzinfo=UTC)

    assert event_time(moment) == "2026-05-04T09:12:31.402Z"
