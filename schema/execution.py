"""A quicker path through GraphQL execution for the commonest field of all.

Most fields of a large answer are leaves read straight off an object: `serialNumber`,
`status`, `occurredAt`. For each, graphql-core builds a resolve-info object, calls
Strawberry's attribute resolver, then completes the value through the general machinery.
When a field has no resolver of its own, no arguments, no middleware and a scalar or enum
type, the answer is simply the attribute, serialized: that is what this does, and every
other field (and every unusual value) takes the ordinary path, so results and errors are
the same either way.
"""

from functools import cached_property
from typing import Any, ClassVar

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

DEFINITION = "strawberry-definition"  # where Strawberry keeps its field on a GraphQLField
Plan = tuple[str, GraphQLLeafType, bool]  # attribute, leaf type, non-null


class LeafFastPath(StrawberryGraphQLCoreExecutionContext):
    # (schema, type, field) -> (attribute, leaf type, non-null), or None for the ordinary
    # path. Shared by all operations: a schema's fields do not change while it serves.
    _plans: ClassVar[dict[tuple[int, str, str], Plan | None]] = {}

    @cached_property
    def _wrapped(self) -> bool:
        """Whether an extension wraps every resolver (Strawberry always passes a middleware
        manager, often with nothing in it)."""
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any = None,
    ) -> Any:
        node = field_details_list[0].node
        key = (id(self.schema), parent_type.name, node.name.value)
        try:
            plan = self._plans[key]
        except KeyError:
            plan = self._plans[key] = self._plan(parent_type, node.name.value)
        if plan is not None and not node.arguments and not self._wrapped:
            attribute, leaf, non_null = plan
            value = getattr(source, attribute, Undefined)
            if value is None and not non_null:
                return None
            if value is not None and value is not Undefined:
                try:
                    serialized = leaf.serialize(value)
                except Exception:  # the ordinary path reports it properly
                    serialized = Undefined
                if serialized is not Undefined and serialized is not None:
                    return serialized
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _plan(self, parent_type: GraphQLObjectType, name: str) -> Plan | None:
        field_def = self.schema.get_field(parent_type, name)
        if field_def is None or not getattr(field_def.resolve, "_is_default", False):
            return None
        definition = (field_def.extensions or {}).get(DEFINITION)
        attribute = getattr(definition, "python_name", None)
        field_type: GraphQLOutputType = field_def.type
        non_null = isinstance(field_type, GraphQLNonNull)
        named = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if attribute is None or not is_leaf_type(named):
            return None
        return attribute, named, non_null
