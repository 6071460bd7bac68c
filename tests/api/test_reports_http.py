"""The CSV downloads under /reports, through the real application, on the known data set."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from models.base import utc_now
from services.receiving import LineReceipt, LotEntry
from tests.conftest import Database
from tests.services.builders import expect, plan_asn, receive_lines
from tests.services.report_data import ReportData, build_report_data


def today_in(time_zone: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(time_zone)).date()


@pytest.fixture
async def data(db: Database) -> ReportData:
    return await build_report_data(
        db, today=today_in("Europe/Amsterdam"), received_at=utc_now() - timedelta(days=10)
    )


async def download(client: httpx.AsyncClient, path: str) -> list[dict[str, str]]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    name = path.split("?")[0].rsplit("/", 1)[-1]
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.mark.usefixtures("data")
async def test_lot_inventory_csv(client: httpx.AsyncClient) -> None:
    rows = await download(client, "/reports/lot-inventory.csv")

    expiry = today_in("Europe/Amsterdam") - timedelta(days=1)
    assert list(rows[0]) == [
        "sku",
        "product_name",
        "warehouse",
        "location",
        "location_kind",
        "lot_number",
        "expiry_date",
        "days_to_expiry",
        "expired",
        "on_hold",
        "hold_reason",
        "quantity",
        "allocated_quantity",
        "available_quantity",
        "lot_received_at",
    ]
    assert [
        (r["warehouse"], r["lot_number"], r["location"], r["quantity"], r["days_to_expiry"])
        for r in rows[:7]
    ] == [
        ("WH1", "L-EXPIRED", "A-01", "3", "-1"),
        ("WH1", "L-TODAY", "DOCK", "2", "0"),
        ("WH1", "L-SOON", "A-02", "5", "4"),
        ("WH1", "L-SOON-B", "A-01", "4", "4"),
        ("WH1", "L-LATER", "A-01", "6", "14"),
        ("WH1", "L-LATER", "A-02", "4", "14"),
        ("WH1", "L-UNDATED", "A-01", "7", ""),
    ]
    first = rows[0]
    assert (first["expiry_date"], first["expired"], first["on_hold"]) == (
        expiry.isoformat(),
        "true",
        "false",
    )
    assert (first["allocated_quantity"], first["available_quantity"]) == ("0", "0")  # expired
    assert first["location_kind"] == "STORAGE"
    assert datetime.fromisoformat(first["lot_received_at"]).tzinfo is not None
    assert rows[1]["expired"] == "false"
    assert len(rows) == 8


async def test_lot_inventory_csv_of_one_product_and_warehouse(
    client: httpx.AsyncClient, data: ReportData
) -> None:
    rows = await download(client, "/reports/lot-inventory.csv?sku=VIT&warehouse=WH2")

    assert [(r["warehouse"], r["lot_number"], r["quantity"]) for r in rows] == [
        ("WH2", "L-EXPIRED", "1")
    ]


@pytest.mark.usefixtures("data")
async def test_expiring_lots_csv(client: httpx.AsyncClient) -> None:
    default = await download(client, "/reports/expiring-lots.csv")
    within_4 = await download(client, "/reports/expiring-lots.csv?days=4&warehouse=WH1")

    assert list(within_4[0])[:3] == ["expiry_date", "days_to_expiry", "expired"]
    assert [
        (r["lot_number"], r["days_to_expiry"], r["expired"], r["quantity"], r["locations"])
        for r in within_4
    ] == [
        ("L-EXPIRED", "-1", "true", "3", "A-01"),
        ("L-TODAY", "0", "false", "2", "DOCK"),
        ("L-SOON", "4", "false", "5", "A-02"),
        ("L-SOON-B", "4", "false", "4", "A-01"),
    ]
    # 30 days by default: L-LATER too, both its locations in one row
    later = [r for r in default if r["lot_number"] == "L-LATER"]
    assert [(r["quantity"], r["locations"]) for r in later] == [("10", "A-01 A-02")]
    assert {r["warehouse"] for r in default} == {"WH1", "WH2"}


@pytest.mark.usefixtures("data")
async def test_serial_inventory_csvs(client: httpx.AsyncClient) -> None:
    by_warehouse = await download(client, "/reports/serial-inventory.csv")
    by_location = await download(client, "/reports/serial-inventory-by-location.csv?warehouse=WH1")
    where = await download(client, "/reports/serial-locations.csv?sku=SER")

    assert [(r["sku"], r["warehouse"], r["status"], r["count"]) for r in by_warehouse] == [
        ("SER", "WH1", "EXPECTED", "1"),
        ("SER", "WH1", "RECEIVED", "1"),
        ("SER", "WH1", "IN_INVENTORY", "2"),
        ("SER", "WH2", "IN_INVENTORY", "1"),
    ]
    assert [(r["location"], r["location_kind"], r["status"], r["count"]) for r in by_location] == [
        ("A-01", "STORAGE", "IN_INVENTORY", "1"),
        ("A-02", "STORAGE", "IN_INVENTORY", "1"),
        ("DOCK", "RECEIVING", "RECEIVED", "1"),
    ]
    assert [(r["warehouse"], r["location"], r["serial_number"], r["status"]) for r in where] == [
        ("WH1", "A-01", "S-1", "IN_INVENTORY"),
        ("WH1", "A-02", "S-2", "IN_INVENTORY"),
        ("WH1", "DOCK", "S-3", "RECEIVED"),
        ("WH2", "A-01", "S-20", "IN_INVENTORY"),
    ]
    one_bin = await download(client, "/reports/serial-locations.csv?warehouse=WH1&location=A-02")
    assert [r["serial_number"] for r in one_bin] == ["S-2"]


@pytest.mark.usefixtures("data")
async def test_lot_movements_csv(client: httpx.AsyncClient) -> None:
    rows = await download(client, "/reports/lot-movements.csv?sku=VIT&lot=l-later")
    everything = await download(client, "/reports/lot-movements.csv")
    none_yet = await download(client, "/reports/lot-movements.csv?since=2999-01-01T00:00:00Z")

    assert [
        (r["kind"], r["quantity"], r["from_location"], r["to_location"], r["document_number"])
        for r in rows
    ] == [
        ("RECEIVE", "10", "", "DOCK", "ASN-LOTS-1"),
        ("PUTAWAY", "6", "DOCK", "A-01", "ASN-LOTS-1"),
        ("PUTAWAY", "4", "DOCK", "A-02", "ASN-LOTS-1"),
    ]
    assert {r["lot_number"] for r in rows} == {"L-LATER"}
    assert len(everything) == 14
    assert none_yet == []


async def test_a_cell_a_spreadsheet_would_run_is_defused(
    client: httpx.AsyncClient, db: Database, data: ReportData
) -> None:
    asn = await plan_asn(db, data.wh1, "ASN-EVIL", expect(data.vit, 1))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], lots=[LotEntry("=1+2", 1)]))

    rows = await download(client, "/reports/lot-inventory.csv?warehouse=WH1")

    assert "'=1+2" in [r["lot_number"] for r in rows]


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/reports/lot-inventory.csv?sku=NOPE", 404, "no product 'NOPE'"),
        ("/reports/serial-inventory.csv?warehouse=WH9", 404, "no warehouse 'WH9'"),
        ("/reports/serial-locations.csv?location=A-01", 400, "name the location's warehouse"),
        ("/reports/lot-movements.csv?lot=L-1", 400, "name the lot's product (sku)"),
        ("/reports/lot-movements.csv?sku=VIT&lot=L-404", 404, "no lot 'L-404' of VIT"),
        ("/reports/expiring-lots.csv?days=soon", 400, "days must be a whole number"),
        ("/reports/expiring-lots.csv?days=-3", 400, "days must be between 0 and 3660"),
        ("/reports/lot-movements.csv?since=yesterday", 400, "since must be an ISO 8601 instant"),
        (
            "/reports/lot-movements.csv?until=2026-01-01T00:00:00",
            400,
            "until needs a time zone offset, e.g. 2026-01-31T00:00:00Z",
        ),
    ],
)
async def test_a_bad_request_gets_a_clear_answer_and_no_csv(
    client: httpx.AsyncClient, path: str, status: int, message: str
) -> None:
    response = await client.get(path)

    assert response.status_code == status
    assert response.text == message
    assert response.headers["content-type"].startswith("text/plain")
