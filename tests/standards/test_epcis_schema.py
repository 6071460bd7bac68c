"""The EPCIS schema validator itself: the official examples pass it and broken documents do
not, so that a document of ours passing it means something."""

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator  # type: ignore[import-untyped]

from tests.standards.epcis_schema import EXAMPLES, SCHEMA, epcis_validator, load, schema_errors

Breakage = Callable[[dict[str, Any]], None]


def test_the_validator_is_the_draft_the_schema_names() -> None:
    assert load(SCHEMA)["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert isinstance(epcis_validator(), Draft7Validator)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_the_official_examples_are_valid(example: Path) -> None:
    assert schema_errors(load(example)) == []


def _event(document: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = document["epcisBody"]["eventList"][0]
    return event


def _lot_data_on_an_observation(document: dict[str, Any]) -> None:
    _event(document)["ilmd"] = {"cbvmda:lotNumber": "L-1"}


def _no_time_zone_offset(document: dict[str, Any]) -> None:
    del _event(document)["eventTimeZoneOffset"]


def _made_up_business_step(document: dict[str, Any]) -> None:
    _event(document)["bizStep"] = "reserving_stock"


def _blank_in_an_epc(document: dict[str, Any]) -> None:
    _event(document)["epcList"] = ["https://id.gs1.org/01/70614141123451/21/SN 1"]


def _event_time_without_zone(document: dict[str, Any]) -> None:
    _event(document)["eventTime"] = "2005-04-03 20:33:31"


def _no_context(document: dict[str, Any]) -> None:
    del document["@context"]


def _unit_of_measure_in_words(document: dict[str, Any]) -> None:
    _event(document)["quantityList"] = [
        {"epcClass": "https://id.gs1.org/01/70614141123451", "quantity": 2, "uom": "each"}
    ]


@pytest.mark.parametrize(
    ("breakage", "error"),
    [
        (_lot_data_on_an_observation, "/epcisBody/eventList/0 [anyOf]"),
        (_no_time_zone_offset, "'eventTimeZoneOffset' is a required property"),
        (_made_up_business_step, "/epcisBody/eventList/0/bizStep [anyOf]"),
        (_blank_in_an_epc, "/epcisBody/eventList/0/epcList/0 [format]"),
        (_event_time_without_zone, "/epcisBody/eventList/0/eventTime [format]"),
        (_no_context, "'@context' is a required property"),
        (_unit_of_measure_in_words, "/epcisBody/eventList/0/quantityList/0/uom [pattern]"),
    ],
)
def test_a_broken_document_is_rejected(breakage: Breakage, error: str) -> None:
    document = copy.deepcopy(load(EXAMPLES[0]))
    breakage(document)

    errors = schema_errors(document)

    assert any(error in line for line in errors), errors
