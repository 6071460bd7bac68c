"""Reading EPCIS exports in tests: run one, prove it valid against the GS1 schema, and boil
its events down to what a test compares."""

from datetime import UTC, datetime
from typing import Any

from services.epcis import EpcisExport, EpcisFilter, export_events
from services.epcis_identifiers import UriScheme
from tests.conftest import Database
from tests.standards.epcis_schema import schema_errors

URIS = UriScheme.under("https://wms.example.com/epcis/")
BASE = "https://wms.example.com/epcis"
CREATED = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SER = "https://id.gs1.org/01/09506000134352/21/"
VIT = "https://id.gs1.org/01/09506000134369/10/"
BOX = "https://id.gs1.org/01/09506000134376"


async def export_page(
    db: Database, where: EpcisFilter, *, per_page: int = 10_000, token: str | None = None
) -> EpcisExport:
    """One page, which must be a valid EPCIS 2.0 document."""
    async with db.read_sessions() as session:
        page = await export_events(
            session, where, uris=URIS, now=CREATED, per_page=per_page, page_token=token
        )
    assert schema_errors(page.document) == []
    assert page.event_count == len(page.document["epcisBody"]["eventList"])
    return page


async def exported(db: Database, **where: Any) -> list[dict[str, Any]]:
    """The events of a one-page export."""
    page = await export_page(db, EpcisFilter(**where))
    assert page.next_page_token is None
    events: list[dict[str, Any]] = page.document["epcisBody"]["eventList"]
    return events


def what(event: dict[str, Any]) -> str:
    """The serial's URI, or the class's URI with its quantity (`×?` when not counted)."""
    if "epcList" in event:
        [epc] = event["epcList"]
        return str(epc)
    [element] = event["quantityList"]
    return f"{element['epcClass']} ×{element.get('quantity', '?')}"


def steps(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(event["bizStep"], what(event)) for event in events]


def where(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """readPoint and bizLocation, as paths under our base."""

    def path(key: str) -> str | None:
        return str(event[key]["id"]).removeprefix(f"{BASE}/") if key in event else None

    return path("readPoint"), path("bizLocation")


def transactions(event: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [
        (t.get("type"), t["bizTransaction"].removeprefix(f"{BASE}/"))
        for t in event["bizTransactionList"]
    ]
