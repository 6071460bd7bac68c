"""One execution per subscription event for all the subscribers who asked the same question.

A thousand dashboards subscribed with the same document receive the same event object
(resolvers/live.py shares it, and the payload built from it). Executing the document for
each of them gives a thousand equal answers, and a thousand answers' worth of objects for
the garbage collector to walk while they are delivered (docs/performance.md, B8). Here the
first subscriber to reach an event executes it; every other subscriber with the same
document, variables and role is handed that answer.

An answer depends on nothing else: the permission rule is applied when a subscription is
validated (schema/permissions.py), and no field under a subscription's root reads the
caller; the role is part of the key all the same, so that a field that one day does cannot
leak one role's answer to another. Answers with errors are not handed on: each subscriber
then executes the event itself, as it would have without this.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from inspect import isawaitable
from typing import Any, Final

from graphql import ExecutionResult

# Recent answers kept. A subscriber finds an event's answer when it reaches the event within
# this many (event, question) pairs of the first one.
REMEMBERED: Final = 256

Answer = ExecutionResult | Awaitable[ExecutionResult]
# (the payload, the operation, the answer or the task computing it), by key
_Entry = tuple[Any, Any, "ExecutionResult | asyncio.Future[ExecutionResult]"]


def frozen(value: Any) -> Hashable:
    """Variable values as a key: lists and objects become tuples (TypeError if a value
    cannot be hashed, and the event is then not shared)."""
    if isinstance(value, dict):
        return tuple(sorted((name, frozen(item)) for name, item in value.items()))
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    hash(value)
    return value  # type: ignore[no-any-return]


class SharedAnswers:
    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self.executed = 0  # executions run here (the rest were shared)

    def answer(
        self, key: Hashable, payload: Any, operation: Any, execute: Callable[[], Answer]
    ) -> Answer:
        """The answer to `key` (which names `payload` and `operation` by id, among other
        things) if another subscriber has it or is computing it, else `execute()`'s, kept
        for the others."""
        entry = self._entries.get(key)
        # The payload and the operation are kept with the entry, so their ids cannot be
        # reused while it is; compared all the same, as cheap insurance.
        if entry is not None and entry[0] is payload and entry[1] is operation:
            found = entry[2]
            if isinstance(found, ExecutionResult):
                return _own_copy(found)
            return _awaited(found)
        self.executed += 1
        answer = execute()
        if not isawaitable(answer):
            if not answer.errors:
                self._keep(key, (payload, operation, answer))
            return _own_copy(answer)
        # A task of its own: the subscriber who started it may leave before it ends, and
        # the others are waiting for it.
        task: asyncio.Future[ExecutionResult] = asyncio.ensure_future(answer)
        self._keep(key, (payload, operation, task))
        task.add_done_callback(lambda done: self._forget_failed(key, done))
        return _awaited(task)

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        self._entries[key] = entry
        while len(self._entries) > REMEMBERED:
            self._entries.popitem(last=False)

    def _forget_failed(self, key: Hashable, task: "asyncio.Future[ExecutionResult]") -> None:
        failed = task.cancelled() or task.exception() is not None or bool(task.result().errors)
        entry = self._entries.get(key)
        if failed and entry is not None and entry[2] is task:
            del self._entries[key]


def _own_copy(result: ExecutionResult) -> ExecutionResult:
    """Each subscriber gets a result object of its own: extensions may replace its errors.
    The data is shared; nothing changes it once it is complete."""
    errors = list(result.errors) if result.errors else None
    return ExecutionResult(result.data, errors, result.extensions)


async def _awaited(task: "asyncio.Future[ExecutionResult]") -> ExecutionResult:
    # Shielded: a subscriber leaving must not cancel the answer the others wait for.
    return _own_copy(await asyncio.shield(task))


shared_answers = SharedAnswers()
