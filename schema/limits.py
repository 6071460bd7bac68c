"""Limits on the documents a client may send, checked before anything executes.

The HTTP view sets the limits of its application in `active_limits` for each request; a
document executed outside a request (tests, the command line) is not limited. Every
refusal carries a stable `extensions.code` (the table in docs/security.md).
"""

from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    ValidationContext,
    ValidationRule,
)
from graphql.validation import (
    LoneAnonymousOperationRule,
    NoFragmentCyclesRule,
    NoSchemaIntrospectionCustomRule,
)
from strawberry.extensions import SchemaExtension

from schema.measure import Measure, measure_operation

MAX_DEPTH_EXCEEDED = "MAX_DEPTH_EXCEEDED"
MAX_ALIASES_EXCEEDED = "MAX_ALIASES_EXCEEDED"
MAX_TOKENS_EXCEEDED = "MAX_TOKENS_EXCEEDED"
MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
CIRCULAR_FRAGMENT = "CIRCULAR_FRAGMENT"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INVALID_VARIABLES = "INVALID_VARIABLES"
OPERATION_NAME_REQUIRED = "OPERATION_NAME_REQUIRED"


@dataclass(frozen=True)
class DocumentLimits:
    max_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 5000
    max_cost: int = 1_000_000
    introspection: bool = True


active_limits: ContextVar[DocumentLimits | None] = ContextVar("active_limits", default=None)


def coded(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


def code_of(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None


class CircularFragmentRule(NoFragmentCyclesRule):
    def report_error(self, error: GraphQLError) -> None:
        super().report_error(coded(error, CIRCULAR_FRAGMENT))


class NoIntrospectionRule(NoSchemaIntrospectionCustomRule):
    def report_error(self, error: GraphQLError) -> None:
        super().report_error(coded(error, INTROSPECTION_DISABLED))


class LoneAnonymousRule(LoneAnonymousOperationRule):
    """An anonymous operation next to others cannot be named either: the same code."""

    def report_error(self, error: GraphQLError) -> None:
        super().report_error(coded(error, OPERATION_NAME_REQUIRED))


class OperationNameRequiredRule(ValidationRule):
    """Added when the request names no operation: a document of several (named) operations
    is refused, where Strawberry would quietly run the first. Several anonymous operations
    are refused by the standard rule already."""

    def enter_document(self, node: DocumentNode, *_: object) -> None:
        operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1 and all(op.name is not None for op in operations):
            message = "the document holds several operations: name one with operationName"
            self.report_error(coded(GraphQLError(message, operations), OPERATION_NAME_REQUIRED))


@lru_cache(maxsize=16)
def limit_rules(limits: DocumentLimits) -> tuple[type[ASTValidationRule], ...]:
    """The rules for one set of limits: the same classes each time, so the validation cache
    (keyed by the rules) keeps serving documents validated under these limits."""

    class DocumentLimitsRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            for operation in document.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    self.check(measure_operation(context.schema, fragments, operation), operation)

        def check(self, measure: Measure, operation: OperationDefinitionNode) -> None:
            name = operation.name.value if operation.name else "anonymous"
            for value, limit, code, what in (
                (measure.depth, limits.max_depth, MAX_DEPTH_EXCEEDED, "depth"),
                (measure.aliases, limits.max_aliases, MAX_ALIASES_EXCEEDED, "aliases"),
                (measure.cost, limits.max_cost, MAX_COST_EXCEEDED, "cost"),
            ):
                if value > limit:
                    message = f"operation {name!r}: {what} {value} exceeds the maximum of {limit}"
                    self.report_error(coded(GraphQLError(message, operation), code))

    rules: tuple[type[ASTValidationRule], ...] = (DocumentLimitsRule,)
    return rules if limits.introspection else (*rules, NoIntrospectionRule)


class HostileQueryGuard(SchemaExtension):
    """Applies the request's limits and codes validation errors (other errors before execution
    are coded in ErrorHandlingSchema.process_errors)."""

    def on_operation(self) -> Iterator[None]:
        limits = active_limits.get()
        context = self.execution_context
        replaced: dict[type[ASTValidationRule], type[ASTValidationRule]] = {
            NoFragmentCyclesRule: CircularFragmentRule,
            LoneAnonymousOperationRule: LoneAnonymousRule,
        }
        context.validation_rules = tuple(
            replaced.get(rule, rule) for rule in context.validation_rules
        )
        if limits is not None:
            context.parse_options["max_tokens"] = limits.max_tokens
            context.validation_rules += limit_rules(limits)
        if getattr(context, "_provided_operation_name", None) is None:
            context.validation_rules += (OperationNameRequiredRule,)
        yield

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if code_of(error) is None:
                coded(error, GRAPHQL_VALIDATION_FAILED)


def code_before_execution(error: GraphQLError) -> str:
    """The code of an error without a path that validation did not code: the document did
    not parse, or a variable was refused while the operation was being prepared."""
    if not isinstance(error, GraphQLSyntaxError):
        return INVALID_VARIABLES
    if "tokens. Parsing aborted" in error.message:
        return MAX_TOKENS_EXCEEDED
    if "nested too deeply" in error.message:
        return MAX_DEPTH_EXCEEDED
    return GRAPHQL_PARSE_FAILED
