"""The GraphQL schema: Strawberry types only; every field calls into resolvers/."""

from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.access import AccessMutation, AccessQuery
from schema.catalog import CatalogMutation
from schema.epcis import EpcisQuery
from schema.execution import LeafFastPath
from schema.imports import ImportMutation
from schema.limits import HostileQueryGuard
from schema.loading import FreshLoadersPerOperation
from schema.lookup import LookupQuery
from schema.masking import ErrorHandlingSchema, MaskUnexpectedErrors
from schema.outbound import OutboundMutation, OutboundQuery
from schema.permissions import Authorization
from schema.query import CoreQuery
from schema.recall import RecallMutation, RecallQuery
from schema.receiving import ReceivingMutation
from schema.runner import ExtensionsRunner
from schema.subscriptions import Subscription

# Each domain module contributes its own root fields.
Query = merge_types(
    "Query",
    (
        CoreQuery,
        OutboundQuery,
        LookupQuery,
        RecallQuery,
        EpcisQuery,
        AccessQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        CatalogMutation,
        ReceivingMutation,
        OutboundMutation,
        RecallMutation,
        ImportMutation,
        AccessMutation,
    ),
)


class Schema(ErrorHandlingSchema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> ExtensionsRunner:
        """Extension hooks found once per operation, not once per streamed result."""
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)


schema = Schema(
    query=Query,
    execution_context_class=LeafFastPath,
    mutation=Mutation,
    subscription=Subscription,
    # Parsing and validating dominate small queries; identical documents repeat constantly.
    extensions=[
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        FreshLoadersPerOperation,
        # Limits and error codes before execution, masking after (docs/security.md).
        HostileQueryGuard,
        Authorization,
        MaskUnexpectedErrors,
    ],
)

__all__ = ["schema"]
