"""The GraphQL schema: Strawberry types only; every field calls into resolvers/."""

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from schema.catalog import CatalogMutation
from schema.lookup import LookupQuery
from schema.outbound import OutboundMutation, OutboundQuery
from schema.query import CoreQuery
from schema.recall import RecallMutation, RecallQuery
from schema.receiving import ReceivingMutation
from schema.subscriptions import Subscription

# Each domain module contributes its own root fields.
Query = merge_types(
    "Query",
    (
        CoreQuery,
        OutboundQuery,
        LookupQuery,
        RecallQuery,
    ),
)
Mutation = merge_types(
    "Mutation", (CatalogMutation, ReceivingMutation, OutboundMutation, RecallMutation)
)

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    # Parsing and validating dominate small queries; identical documents repeat constantly.
    extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
)

__all__ = ["schema"]
