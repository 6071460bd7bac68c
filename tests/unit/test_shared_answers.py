"""SharedAnswers: one execution per (event, question), handed to every subscriber asking it;
failures are never handed on."""

import asyncio

import pytest
from graphql import ExecutionResult, GraphQLError

from schema.sharing import SharedAnswers, frozen

PAYLOAD, OPERATION = object(), object()
KEY = (id(PAYLOAD), id(OPERATION))


def test_an_answer_at_once_is_executed_once_and_each_gets_a_copy() -> None:
    shared = SharedAnswers()
    runs: list[int] = []

    def execute() -> ExecutionResult:
        runs.append(1)
        return ExecutionResult({"n": 1}, None)

    first = shared.answer(KEY, PAYLOAD, OPERATION, execute)
    second = shared.answer(KEY, PAYLOAD, OPERATION, execute)
    assert isinstance(first, ExecutionResult)
    assert isinstance(second, ExecutionResult)
    assert (first.data, second.data, len(runs), shared.executed) == ({"n": 1}, {"n": 1}, 1, 1)
    assert first is not second


def test_an_answer_with_errors_is_not_handed_on() -> None:
    shared = SharedAnswers()
    runs: list[int] = []

    def execute() -> ExecutionResult:
        runs.append(1)
        return ExecutionResult(None, [GraphQLError("the serial could not be read")])

    shared.answer(KEY, PAYLOAD, OPERATION, execute)
    shared.answer(KEY, PAYLOAD, OPERATION, execute)
    assert len(runs) == 2


def test_another_payload_under_a_reused_key_is_not_answered_from_the_entry() -> None:
    shared = SharedAnswers()
    shared.answer(KEY, PAYLOAD, OPERATION, lambda: ExecutionResult({"n": 1}, None))
    other = shared.answer(KEY, object(), OPERATION, lambda: ExecutionResult({"n": 2}, None))
    assert isinstance(other, ExecutionResult)
    assert other.data == {"n": 2}


async def test_subscribers_wait_for_one_execution_which_outlives_a_subscriber_leaving() -> None:
    shared = SharedAnswers()
    release = asyncio.Event()
    runs: list[int] = []

    async def slow() -> ExecutionResult:
        runs.append(1)
        await release.wait()
        return ExecutionResult({"n": 1}, None)

    leaving = asyncio.ensure_future(shared.answer(KEY, PAYLOAD, OPERATION, slow))  # type: ignore[arg-type]
    staying = asyncio.ensure_future(shared.answer(KEY, PAYLOAD, OPERATION, slow))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    leaving.cancel()  # the subscriber who started the execution disconnects
    release.set()
    result = await staying
    assert (result.data, len(runs)) == ({"n": 1}, 1)
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_a_failed_execution_is_forgotten_so_the_next_subscriber_runs_its_own() -> None:
    shared = SharedAnswers()

    async def broken() -> ExecutionResult:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        await shared.answer(KEY, PAYLOAD, OPERATION, broken)  # type: ignore[misc]

    async def fine() -> ExecutionResult:
        return ExecutionResult({"n": 1}, None)

    result = await shared.answer(KEY, PAYLOAD, OPERATION, fine)  # type: ignore[misc]
    assert result.data == {"n": 1}
    assert shared.executed == 2


def test_variables_become_a_key_or_refuse_to() -> None:
    assert frozen({"b": [1, 2], "a": {"x": None}}) == frozen({"a": {"x": None}, "b": [1, 2]})
    assert frozen({"last": 1}) != frozen({"last": 0})
    with pytest.raises(TypeError):
        frozen({"odd": {1, 2}})
