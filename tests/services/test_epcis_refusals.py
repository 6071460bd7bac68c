"""EPCIS export refusals: each coded, each naming what is wrong, none changing anything.
Both engines."""

from datetime import UTC, datetime, timedelta

import pytest

from models import Tracking
from services.epcis import MAX_EVENTS, EpcisFilter, export_events
from services.errors import ErrorCode, Problem
from services.receiving import LineReceipt
from tests.conftest import Database
from tests.services.builders import (
    codes,
    expect,
    make_product,
    plan_asn,
    receive_lines,
    refused,
)
from tests.services.epcis_checks import CREATED, URIS, exported
from tests.services.epcis_data import EpcisData, build_epcis_data

MIDNIGHT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def data(db: Database) -> EpcisData:
    return await build_epcis_data(db)


async def refusal(
    db: Database, where: EpcisFilter, *, per_page: int = MAX_EVENTS, token: str | None = None
) -> list[Problem]:
    return await refused(
        db,
        lambda session: export_events(
            session, where, uris=URIS, now=CREATED, per_page=per_page, page_token=token
        ),
    )


@pytest.mark.usefixtures("data")
async def test_an_export_must_name_what_to_export(db: Database) -> None:
    problems = await refusal(db, EpcisFilter(sku=" ", serial_number=""))

    assert codes(problems) == [(ErrorCode.INVALID_VALUE, None)]
    assert problems[0].message.startswith("name what to export")


@pytest.mark.usefixtures("data")
async def test_everything_named_that_does_not_exist_is_listed_at_once(db: Database) -> None:
    problems = await refusal(
        db,
        EpcisFilter(
            sku="NOPE",
            serial_number="S-404",
            lot_number="L-404",
            order_number="SO-404",
            receiving_order_number="ASN-404",
            shipment_id=404,
        ),
    )

    assert codes(problems) == [
        (ErrorCode.NOT_FOUND, "product"),
        (ErrorCode.NOT_FOUND, "serial"),
        (ErrorCode.NOT_FOUND, "lot"),
        (ErrorCode.NOT_FOUND, "order"),
        (ErrorCode.NOT_FOUND, "receivingOrder"),
        (ErrorCode.NOT_FOUND, "shipment"),
    ]
    assert [p.message for p in problems][:3] == [
        "no product 'NOPE'",
        "no serial 'S-404' of NOPE",
        "no lot 'L-404' of NOPE",
    ]


@pytest.mark.usefixtures("data")
async def test_a_serial_or_lot_of_another_product_is_not_found(db: Database) -> None:
    problems = await refusal(db, EpcisFilter(sku="VIT", serial_number="S-1", lot_number="x"))

    assert [(p.code, p.field, p.message) for p in problems] == [
        (ErrorCode.NOT_FOUND, "serial", "no serial 'S-1' of VIT"),
        (ErrorCode.NOT_FOUND, "lot", "no lot 'x' of VIT"),
    ]


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (MIDNIGHT, MIDNIGHT - timedelta(seconds=1), "to", "the time range ends"),
        (MIDNIGHT, MIDNIGHT, "to", "the time range ends"),
        (datetime(2026, 1, 1), None, "from", "from needs a time zone offset"),
        (None, datetime(2026, 1, 1), "to", "to needs a time zone offset"),
    ],
)
async def test_a_time_range_must_end_after_it_starts_at_known_instants(
    db: Database, start: datetime | None, end: datetime | None, field: str, message: str
) -> None:
    problems = await refusal(db, EpcisFilter(start=start, end=end))

    assert codes(problems) == [(ErrorCode.INVALID_VALUE, field)]
    assert problems[0].message.startswith(message)


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize(
    ("per_page", "token", "field"),
    [
        (0, None, "perPage"),
        (MAX_EVENTS + 1, None, "perPage"),
        (10, "not-a-token", "nextPageToken"),
        (10, "MjAyNi0wMS0wMXwx", "nextPageToken"),  # "2026-01-01|1": no time zone
    ],
)
async def test_a_page_size_or_token_out_of_bounds(
    db: Database, per_page: int, token: str, field: str
) -> None:
    problems = await refusal(db, EpcisFilter(sku="SER"), per_page=per_page, token=token)

    assert codes(problems) == [(ErrorCode.INVALID_VALUE, field)]


async def test_products_without_a_gtin_refuse_the_whole_export(
    db: Database, data: EpcisData
) -> None:
    # given two products without a GTIN, received after everything else
    glue = await make_product(db, "GLUE", Tracking.NONE)
    tape = await make_product(db, "TAPE", Tracking.NONE)
    asn = await plan_asn(db, data.site, "ASN-2", expect(tape, 2), expect(glue, 3))
    await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], quantity=2), LineReceipt(asn.line_ids[1], quantity=3)
    )
    since = datetime(2025, 6, 1, tzinfo=UTC)

    # when an export selects them, even on a later page only
    problems = await refusal(db, EpcisFilter(start=since), per_page=1)

    # then it is refused, naming them all; an export that leaves them out is fine
    assert codes(problems) == [(ErrorCode.GTIN_REQUIRED, None)]
    assert "GLUE, TAPE" in problems[0].message
    assert len(await exported(db, start=since, sku="SER")) > 0


async def test_numbers_gs1_cannot_carry_refuse_the_page(db: Database, data: EpcisData) -> None:
    # given serials too long or with a blank, which GS1 AI (21) does not allow
    product = await make_product(db, "SER-2", Tracking.SERIAL, gtin="09506000134383")
    numbers = ["OK-1", "SN 1", "X" * 21]
    asn = await plan_asn(db, data.site, "ASN-3", expect(product, 3))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=numbers))

    problems = await refusal(db, EpcisFilter(sku="SER-2"))

    assert codes(problems) == [(ErrorCode.NOT_GS1_ENCODABLE, None)]
    assert problems[0].message.endswith(f"serial 'SN 1' of SER-2, serial '{'X' * 21}' of SER-2")
    assert len(await exported(db, sku="SER-2", serial_number="OK-1")) == 1
