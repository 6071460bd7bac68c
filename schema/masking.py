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
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from resolvers.lookup import ArgumentError
from schema.limits import code_before_execution, code_of, coded
from services.errors import Refused

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
# Exceptions raised on purpose, whose message is written for the client.
EXPECTED = (GraphQLError, ArgumentError, Refused)
log = logging.getLogger("trackline.graphql")


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, EXPECTED) and code_of(error) is None


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return coded(super().anonymise_error(error), INTERNAL_SERVER_ERROR)


class ErrorHandlingSchema(strawberry.Schema):
    """Every error passes here before it is masked, parse errors included (the parser
    cache raises them where no extension hook sees them)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if error.path is None and code_of(error) is None:
                coded(error, code_before_execution(error))
            elif is_unexpected(error):
                log.error("unexpected error at %s", error.path, exc_info=error.original_error)
