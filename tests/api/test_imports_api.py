"""CSV import over GraphQL: as text in the document, and as a multipart file upload."""

import json

import httpx

from tests.api.conftest import Gql
from tests.conftest import Database
from tests.services.builders import all_serials, make_site, serial_product, snapshot

IMPORT = """
mutation Import($input: ImportCsvInput!) {
  importCsv(input: $input) {
    report { kind dryRun committed rows errorCount serials errors { row column code message } }
    userErrors { code field message }
  }
}
"""
HEADER = "sku,serial_number,warehouse,location\n"


async def test_import_as_text_dry_run_then_for_real(db: Database, gql: Gql) -> None:
    await make_site(db)
    product = await serial_product(db, "SCANNER")
    text = HEADER + "SCANNER,SN-1,WH1,A-01\nSCANNER,SN-2,WH1,A-02\n"
    before = await snapshot(db)
    dry = await gql(IMPORT, {"input": {"kind": "OPENING_SERIALS", "csv": text, "dryRun": True}})
    assert dry["importCsv"] == {
        "report": {
            "kind": "OPENING_SERIALS",
            "dryRun": True,
            "committed": False,
            "rows": 2,
            "errorCount": 0,
            "serials": 2,
            "errors": [],
        },
        "userErrors": [],
    }
    assert await snapshot(db) == before
    real = await gql(IMPORT, {"input": {"kind": "OPENING_SERIALS", "csv": text}})
    assert real["importCsv"]["report"]["committed"] is True
    assert sorted(s.serial_number for s in await all_serials(db, product)) == ["SN-1", "SN-2"]


async def test_a_file_with_problems_is_refused_whole_with_each_problem_by_row(
    db: Database, gql: Gql
) -> None:
    await make_site(db)
    await serial_product(db, "SCANNER")
    before = await snapshot(db)
    text = HEADER + "SCANNER,SN-1,WH1,A-01\nNOPE,SN-2,WH1,A-01\nSCANNER,SN-1,WH1,A-01\n"
    answer = (await gql(IMPORT, {"input": {"kind": "OPENING_SERIALS", "csv": text}}))["importCsv"]
    assert answer["userErrors"] == [
        {
            "code": "INVALID_VALUE",
            "field": "csv",
            "message": "2 problems in the file; nothing was imported (see report.errors)",
        }
    ]
    assert [(e["row"], e["column"], e["code"]) for e in answer["report"]["errors"]] == [
        (3, "sku", "UNKNOWN_PRODUCT"),
        (4, "serial_number", "DUPLICATE_SERIAL"),
    ]
    assert answer["report"]["committed"] is False
    assert await snapshot(db) == before


async def test_the_file_is_sent_as_csv_or_as_file_not_both(db: Database, gql: Gql) -> None:
    before = await snapshot(db)
    answer = (await gql(IMPORT, {"input": {"kind": "OPENING_SERIALS"}}))["importCsv"]
    assert answer == {
        "report": None,
        "userErrors": [
            {"code": "INVALID_VALUE", "field": "csv", "message": "send the file as csv or as file"}
        ],
    }
    assert await snapshot(db) == before


def upload_form(text: str) -> dict[str, object]:
    """A GraphQL multipart request: the operation, the map, and the file."""
    operations = {
        "query": IMPORT,
        "variables": {"input": {"kind": "OPENING_SERIALS", "file": None}},
    }
    return {
        "data": {
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        "files": {"0": ("stock.csv", text.encode("utf-8-sig"), "text/csv")},
    }


async def test_a_file_uploaded_as_multipart_is_imported(
    db: Database, client: httpx.AsyncClient
) -> None:
    await make_site(db)
    product = await serial_product(db, "SCANNER")
    response = await client.post(
        "/graphql",
        headers={"GraphQL-Preflight": "1"},
        **upload_form(HEADER + "SCANNER,SN-7,WH1,A-01\n"),  # type: ignore[arg-type]
    )
    assert response.status_code == 200, response.text
    answer = response.json()["data"]["importCsv"]
    assert answer["userErrors"] == []
    assert answer["report"]["serials"] == 1
    assert [s.serial_number for s in await all_serials(db, product)] == ["SN-7"]


async def test_an_upload_without_the_preflight_header_is_refused(
    db: Database, client: httpx.AsyncClient
) -> None:
    await make_site(db)
    await serial_product(db, "SCANNER")
    before = await snapshot(db)
    response = await client.post(
        "/graphql",
        **upload_form(HEADER + "SCANNER,SN-7,WH1,A-01\n"),  # type: ignore[arg-type]
    )
    assert response.status_code == 400
    assert "GraphQL-Preflight" in response.text
    assert await snapshot(db) == before
