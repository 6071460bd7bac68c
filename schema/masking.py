"""Unexpected errors reach the client as a code and nothing else.

A resolver that fails on a bug would otherwise hand its exception's message (a SQL
statement, a file path) to whoever asked. The original is logged with its traceback
before masking, while the request's id is current (the JSON log line carries it); the HTTP
view adds that id to the masked error so a report can be matched with the log. Errors
written for the client (refusals, validation) are not logged: a flood of hostile documents
must not become a flood of log lines, each with the whole document.
"""

import logging

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError, StrawberryInputCoercionError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext

from resolvers.context import request_id
from resolvers.lookup import ArgumentError
from schema.limits import code_before_execution, code_of, coded
from services.errors import Refused
from services.events import FellBehind

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
# Exceptions raised on purpose, whose message is written for the client.
EXPECTED = (GraphQLError, ArgumentError, Refused, FellBehind)
SUBSCRIBER_FELL_BEHIND = "SUBSCRIBER_FELL_BEHIND"
# What fails before execution (besides GraphQLError): the operation cannot be chosen.
BEFORE = (GraphQLError, CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError)
log = logging.getLogger("trackline.graphql")


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, EXPECTED) and code_of(error) is None


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Unexpected error.")

    def _process_result(self, result: object) -> None:
        """As Strawberry does, without its `isinstance` against a runtime-checkable
        protocol: that check cost more than the rest of this hook together, and it runs for
        every result of every subscription event."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = coded(super().anonymise_error(error), INTERNAL_SERVER_ERROR)
        # The id of the HTTP request or WebSocket connection, so that a subscription's
        # masked error can be matched with the log as an HTTP one is.
        rid = request_id.get()
        if rid is not None:
            masked.extensions = {**(masked.extensions or {}), "requestId": rid}
        return masked


class ErrorHandlingSchema(strawberry.Schema):
    """Every error passes here before it is masked, parse errors included (the parser
    cache raises them where no extension hook sees them)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if code_of(error) is not None:
                continue
            if isinstance(original, ArgumentError):
                coded(error, original.code)
            elif isinstance(original, Refused):  # raised by a query, which has no userErrors
                coded(error, original.problems[0].code.value)
            elif isinstance(original, StrawberryInputCoercionError):  # e.g. a malformed ID
                coded(error, ArgumentError.code)
            elif isinstance(original, FellBehind):  # ends a subscription, on purpose
                coded(error, SUBSCRIBER_FELL_BEHIND)
            elif error.path is None and (original is None or isinstance(original, BEFORE)):
                coded(error, code_before_execution(error))
            elif is_unexpected(error):
                # Also what a subscription's source raises: Strawberry reports it without a
                # path, like an error before execution, but it must be masked.
                log.error("unexpected error at %s", error.path, exc_info=error.original_error)
