"""Runs every example operation of the GraphQL console (graphiql/examples/) on the demo data,
so the examples cannot drift from the API.

The examples run in the order of examples/index.json, the order the console lists them in;
a variable written "@Operation.path.to.value" takes that value from the answer of an
earlier example, as the console does. The subscriptions are started first, and each must
hear of at least one change made by the others."""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resolvers.context import Context
from schema import schema
from services.events import InProcessBus
from tests.api.test_readme_walkthrough import _dig, _user_errors
from tests.conftest import TRUSTED, Database
from trackline.demo import seed_demo

EXAMPLES = Path(__file__).resolve().parents[2] / "graphiql" / "examples"
OPERATION = re.compile(r"^(query|mutation|subscription)\s+(\w+)", re.M)
REFERENCE = re.compile(r"^@(\w+)\.(.+)$")
# The product's workflows, each by a root field some example must use.
WORKFLOWS = {
    "catalog set-up": ["createWarehouse", "createLocation", "createProduct", "updateProduct"],
    "ASN planning": ["planReceivingOrder", "closeReceivingOrder", "cancelReceivingOrder"],
    "receiving": ["receiveItems"],
    "putaway": ["putawayTasks", "completePutaway"],
    "order creation and allocation": ["createOrder", "allocateOrder"],
    "picking": ["confirmPick"],
    "packing and dispatch": ["createShipment", "dispatchShipment"],
    "cancel and return": ["cancelAllocation", "cancelOrder", "returnToStock"],
    "look-up": ["serialLookup", "serial", "scan"],
    "reports": ["serialInventory", "lotInventory", "expiringLots", "lotMovements"],
    "recall": ["holdLots", "recall", "releaseLots"],
    "subscriptions": [
        "serialStatusChanged",
        "lotStockChanged",
        "orderStatusChanged",
        "receivingOrderStatusChanged",
    ],
}


@dataclass(frozen=True)
class Example:
    file: str
    title: str
    variables: dict[str, Any]
    document: str
    kind: str
    name: str


def load_examples() -> list[Example]:
    index = json.loads((EXAMPLES / "index.json").read_text())
    return [_parse(entry["file"]) for entry in index]


def _parse(file: str) -> Example:
    """As the console reads a file: leading comment lines give the title, and from the line
    starting "Variables:" on, the variables as JSON."""
    lines = (EXAMPLES / file).read_text().split("\n")
    comments = []
    while lines and lines[0].startswith("#"):
        comments.append(re.sub(r"^#\s?", "", lines.pop(0)))
    starts = [i for i, line in enumerate(comments) if line.startswith("Variables:")]
    variables = (
        json.loads(
            "\n".join([comments[starts[0]].removeprefix("Variables:"), *comments[starts[0] + 1 :]])
        )
        if starts
        else {}
    )
    document = "\n".join(lines).strip()
    operations = OPERATION.findall(document)
    assert len(operations) == 1, f"{file} must hold one named operation: {operations}"
    ((kind, name),) = operations
    return Example(file, comments[0] if comments else "", variables, document, kind, name)


def _resolve(value: Any, answers: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {key: _resolve(item, answers) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, answers) for item in value]
    reference = REFERENCE.match(value) if isinstance(value, str) else None
    if reference is None:
        return value
    return _dig(answers[reference[1]], reference[2].split("."))


def test_the_index_lists_every_example_once_each_with_a_title_and_its_own_name() -> None:
    listed = [entry["file"] for entry in json.loads((EXAMPLES / "index.json").read_text())]
    assert sorted(listed) == sorted(p.name for p in EXAMPLES.glob("*.graphql"))
    assert len(set(listed)) == len(listed)
    examples = load_examples()
    assert all(example.title for example in examples)
    names = [example.name for example in examples]
    assert len(set(names)) == len(names), names


def test_every_workflow_has_an_example() -> None:
    text = "\n".join(example.document for example in load_examples())
    missing = {
        workflow: [field for field in fields if not re.search(rf"\b{field}\s*[({{]", text)]
        for workflow, fields in WORKFLOWS.items()
    }
    assert {workflow: fields for workflow, fields in missing.items() if fields} == {}


async def _follow(stream: AsyncIterator[Any], messages: list[dict[str, Any]]) -> None:
    async for result in stream:
        assert result.errors is None, result.errors
        messages.append(result.data)


async def test_every_example_runs_on_the_demo_data(db: Database) -> None:
    # given the demo data and, as in the console, every subscription example running
    assert await seed_demo(db.sessions)
    examples = load_examples()
    bus = InProcessBus()
    heard: dict[str, list[dict[str, Any]]] = {}
    followers = []
    for example in [e for e in examples if e.kind == "subscription"]:
        stream = await schema.subscribe(
            example.document,
            variable_values=example.variables,
            operation_name=example.name,
            context_value=Context(
                db.sessions, db.read_sessions, principal=TRUSTED, actor="console", bus=bus
            ),
        )
        assert isinstance(stream, AsyncIterator), f"{example.file}: {stream}"
        heard[example.name] = []
        followers.append(asyncio.create_task(_follow(stream, heard[example.name])))
    for _ in range(100):
        if bus.subscriber_count == len(followers):
            break
        await asyncio.sleep(0.01)
    assert bus.subscriber_count == len(followers)

    # when every other example runs in the listed order, each in its own request
    answers: dict[str, Any] = {}
    try:
        for example in [e for e in examples if e.kind != "subscription"]:
            result = await schema.execute(
                example.document,
                variable_values=_resolve(example.variables, answers),
                operation_name=example.name,
                context_value=Context(
                    db.sessions, db.read_sessions, principal=TRUSTED, actor="console", bus=bus
                ),
            )
            assert result.errors is None, (example.file, result.errors)
            assert _user_errors(result.data) == [], f"{example.file} was refused"
            answers[example.name] = result.data
        for _ in range(200):
            if all(heard.values()):
                break
            await asyncio.sleep(0.02)
    finally:
        for follower in followers:
            follower.cancel()

    # then every subscription heard of a change, and the journey ended where it should
    assert {name: bool(messages) for name, messages in heard.items()} == dict.fromkeys(heard, True)
    dispatched = answers["DispatchShipment"]["dispatchShipment"]["shipment"]
    assert dispatched["status"] == "DISPATCHED"
    assert dispatched["order"]["status"] == "SHIPPED"
    scans = answers["ScanLookup"]
    assert [scans[alias]["found"] for alias in ("serial", "lot", "printed")] == [True] * 3
    assert scans["lot"]["lotNumber"] == "LOT-2031A"
    trace = {lot["lotNumber"]: lot for lot in answers["RecallTrace"]["recall"]}
    assert trace["LOT-2031A"]["onHold"] is True
    assert trace["LOT-2026B"]["shippedQuantity"] == 30
    assert answers["ReleaseLots"]["releaseLots"]["lots"] == [
        {"lotNumber": "LOT-2031A", "onHold": False}
    ]
