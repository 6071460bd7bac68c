"""Runs the README's walk-through documents in order, so the README cannot drift from the
API. Variables written "@step.path.to.value" take that value from an earlier step."""

import json
import re
from pathlib import Path
from typing import Any

from tests.api.conftest import Gql

README = Path(__file__).resolve().parents[2] / "README.md"
STEP = re.compile(
    r"<!-- walkthrough: (?P<name>\w+) -->\s*```graphql\n(?P<doc>.*?)```"
    r"(?:\s*```json\n(?P<vars>.*?)```)?",
    re.S,
)


def readme_steps() -> list[tuple[str, str, dict[str, Any]]]:
    steps = []
    for match in STEP.finditer(README.read_text()):
        variables = json.loads(match["vars"]) if match["vars"] else {}
        steps.append((match["name"], match["doc"], variables))
    return steps


def _dig(data: Any, path: list[str]) -> Any:
    for part in path:
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def resolved(variables: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The variables with each "@step.path" replaced by that step's answer there."""
    return {
        key: _dig(answers, value[1:].split(".")) if str(value).startswith("@") else value
        for key, value in variables.items()
    }


async def walk_through(gql: Gql) -> dict[str, Any]:
    """Run every walk-through step; the answers by step name (later sections start here)."""
    answers: dict[str, Any] = {}
    for name, document, variables in readme_steps():
        answers[name] = await gql(document, resolved(variables, answers))
    return answers


def _user_errors(data: Any) -> list[Any]:
    """Every userErrors list anywhere in an answer."""
    if isinstance(data, dict):
        found = list(data.get("userErrors") or [])
        for value in data.values():
            found += _user_errors(value)
        return found
    if isinstance(data, list):
        return [e for item in data for e in _user_errors(item)]
    return []


async def test_readme_walkthrough_runs_as_written(gql: Gql) -> None:
    steps = readme_steps()
    assert [name for name, _, _ in steps] == [
        "setup",
        "plan",
        "receive",
        "putaway",
        "history",
        "order",
        "pick",
        "pack",
        "dispatch",
        "reverse",
        "returned",
        "stock",
    ]
    answers: dict[str, Any] = {}
    for name, document, variables in steps:
        answers[name] = await gql(document, resolved(variables, answers))
        assert _user_errors(answers[name]) == [], f"step {name} was refused"

    receipt = answers["receive"]["receiveItems"]
    assert receipt["receivingOrder"]["status"] == "RECEIVED"
    assert [t["quantity"] for t in receipt["putawayTasks"]] == [2, 60, 40, 20]

    serial = answers["history"]["serial"]
    assert serial["status"] == "IN_INVENTORY"
    assert serial["location"] == {"code": "A-02"}
    assert serial["allowedEvents"] == ["ALLOCATE"]
    trail = [(m["kind"], m["fromStatus"], m["toStatus"]) for m in serial["movements"]]
    assert trail == [
        ("EXPECT", None, "EXPECTED"),
        ("RECEIVE", "EXPECTED", "RECEIVED"),
        ("PUTAWAY", "RECEIVED", "IN_INVENTORY"),
    ]
    assert {m["documentNumber"] for m in serial["movements"]} == {"ASN-1001"}
    assert {m["actor"] for m in serial["movements"]} == {"tester"}

    lot = answers["history"]["lot"]
    assert lot["lotNumber"] == "LOT-2026A"  # typed as lot-2026a: the first case is kept
    assert [
        (m["kind"], m["quantity"], (m["toLocation"] or {}).get("code")) for m in lot["movements"]
    ] == [
        ("RECEIVE", 60, "DOCK"),
        ("PUTAWAY", 60, "A-01"),
    ]

    tasks = answers["order"]["allocateOrder"]["order"]["pickTasks"]
    assert [
        (
            t["location"]["code"],
            t["allocation"]["quantity"],
            (t["allocation"]["lot"] or {}).get("lotNumber"),
        )
        for t in tasks
    ] == [
        ("A-01", 1, None),
        ("A-01", 60, "LOT-2026A"),
        ("A-02", 10, "LOT-2026B"),
        ("A-02", 5, None),
    ]
    assert answers["pick"]["boxes"]["pickTask"]["order"]["status"] == "PICKED"
    assert answers["dispatch"]["dispatchShipment"]["shipment"]["order"]["status"] == "SHIPPED"
    returned = answers["returned"]
    assert returned["returnToStock"]["allocation"]["serial"] == {
        "status": "IN_INVENTORY",
        "location": {"code": "A-01"},
    }
    assert returned["cancelOrder"]["order"]["status"] == "CANCELLED"

    shipped = answers["stock"]["shipped"]
    assert shipped["status"] == "SHIPPED"
    assert shipped["location"] is None
    assert [m["kind"] for m in shipped["movements"]] == [
        "EXPECT",
        "RECEIVE",
        "PUTAWAY",
        "ALLOCATE",
        "PICK",
        "SHIP",
    ]
    stock = answers["stock"]["product"]["stock"]
    assert (stock["onHand"], stock["allocated"], stock["available"]) == (30, 0, 30)
    assert [
        (p["location"]["code"], p["lot"]["lotNumber"], p["onHand"]) for p in stock["byLocation"]
    ] == [("A-02", "LOT-2026B", 30)]
