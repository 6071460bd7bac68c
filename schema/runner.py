"""Strawberry's extension hooks around each result of a stream, found once per operation.

For every result a subscription yields, Strawberry looks through the extensions for an
`on_stream_result` hook, wraps each one anew, and awaits every extension's `get_results`,
even those that have none. With a thousand subscribers that is done a thousand times per
event, for answers that cannot change within an operation: here they are found once per
operation, and the hooks are still entered and left around each result as Strawberry does.
"""

import inspect
from functools import cached_property
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import StreamResultContextManager, WrappedHook
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.types.execution import StreamExecutionResult


class _AroundResult(StreamResultContextManager):
    """Strawberry's context manager around one result, with the hooks already found."""

    def __init__(self, hooks: list[WrappedHook], result: StreamExecutionResult) -> None:
        self.result = result
        self.hooks = hooks


class ExtensionsRunner(SchemaExtensionsRunner):
    @cached_property
    def _result_hooks(self) -> list[WrappedHook]:
        return StreamResultContextManager(self.extensions, None).hooks  # type: ignore[arg-type]

    @cached_property
    def _reporting(self) -> list[SchemaExtension]:
        """The extensions with results of their own to add to a response."""
        base = SchemaExtension.get_results
        return [e for e in self.extensions if type(e).get_results is not base]

    def on_stream_result(self, result: StreamExecutionResult) -> StreamResultContextManager:
        return _AroundResult(self._result_hooks, result)

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for extension in self._reporting:
            results = extension.get_results()
            data.update(await results if inspect.isawaitable(results) else results)
        data.update(ctx.extensions_results)
        return data
