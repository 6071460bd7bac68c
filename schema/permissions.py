"""Who may run which root field, checked before anything executes.

Every root field of Query, Mutation and Subscription has a rule here: the least role that
may select it, or ANYONE. A root field without a rule is refused to everyone (and fails
tests/api/test_authorization_matrix.py), so a new field is closed until someone decides.
Rules sit on root fields because every other field is reached through one: what a root
field returns is readable by whoever may select it. Token records are reachable only
from the admin's root fields.

The check is a validation rule, so a refused operation never starts: nothing is read,
nothing is written. Strawberry's validation cache keys on the rules, and there is one rule
class per role, so a cached answer for one role is never served to another.
"""

from collections.abc import Iterator
from functools import cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension

from resolvers.context import Context
from services.access import Role

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
ANYONE = None

_READ = Role.VIEWER
_FLOOR = Role.OPERATOR
_INTEGRATION = Role.INTEGRATOR
_ADMIN = Role.ADMIN

RULES: dict[str, dict[str, Role | None]] = {
    "Query": {
        "me": ANYONE,
        "apiTokens": _ADMIN,
        **dict.fromkeys(
            (
                "epcisEvents",
                "expiringLots",
                "lot",
                "lotInventory",
                "lotMovements",
                "node",
                "nodes",
                "order",
                "orders",
                "product",
                "products",
                "putawayTasks",
                "recall",
                "receivingOrder",
                "receivingOrders",
                "scan",
                "serial",
                "serialInventory",
                "serialLocations",
                "serialLookup",
                "serials",
                "warehouse",
                "warehouses",
            ),
            _READ,
        ),
    },
    "Mutation": {
        # the floor: receive, put away, pick, pack and ship, cancel, return
        "receiveItems": _FLOOR,
        "completePutaway": _FLOOR,
        "closeReceivingOrder": _FLOOR,
        "allocateOrder": _FLOOR,
        "cancelAllocation": _FLOOR,
        "confirmPick": _FLOOR,
        "createShipment": _FLOOR,
        "dispatchShipment": _FLOOR,
        "cancelOrder": _FLOOR,
        "returnToStock": _FLOOR,
        # systems feeding the warehouse: plans, orders, files, quality holds
        "planReceivingOrder": _INTEGRATION,
        "cancelReceivingOrder": _INTEGRATION,
        "createOrder": _INTEGRATION,
        "importCsv": _INTEGRATION,
        "holdLots": _INTEGRATION,
        "releaseLots": _INTEGRATION,
        # the catalog and access
        "createWarehouse": _ADMIN,
        "createLocation": _ADMIN,
        "createProduct": _ADMIN,
        "updateProduct": _ADMIN,
        "createApiToken": _ADMIN,
        "revokeApiToken": _ADMIN,
    },
    "Subscription": {
        "lotStockChanged": _READ,
        "orderStatusChanged": _READ,
        "receivingOrderStatusChanged": _READ,
        "serialStatusChanged": _READ,
    },
}


def needed_role(root: str, field: str) -> tuple[bool, Role | None]:
    """(has a rule, least role). Meta fields (__typename, introspection) are open here;
    introspection has its own switch (schema/limits.py)."""
    if field.startswith("__"):
        return True, ANYONE
    rules = RULES.get(root, {})
    return field in rules, rules.get(field)


def root_fields(
    selection_set: SelectionSetNode, context: ValidationContext, seen: set[str]
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from root_fields(selection.selection_set, context, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = context.get_fragment(selection.name.value)
            if fragment is not None:
                yield from root_fields(fragment.selection_set, context, seen)


def _refusal(role: Role | None, root: str, node: FieldNode) -> GraphQLError | None:
    field = node.name.value
    known, needed = needed_role(root, field)
    if not known:
        message = f"{root}.{field} has no access rule and is open to no one"
        return GraphQLError(message, node, extensions={"code": FORBIDDEN})
    if needed is ANYONE:
        return None
    if role is None:
        message = f"{root}.{field} needs an API token (Authorization: Bearer …)"
        return GraphQLError(message, node, extensions={"code": UNAUTHENTICATED})
    if not role.includes(needed):
        message = f"{root}.{field} needs the {needed} role; this token is {role}"
        return GraphQLError(message, node, extensions={"code": FORBIDDEN})
    return None


@cache
def permission_rule(role: Role | None) -> type[ValidationRule]:
    class PermissionRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = node.operation.value.capitalize()  # "query" -> "Query"
            for field in root_fields(node.selection_set, self.context, set()):
                error = _refusal(role, root, field)
                if error is not None:
                    self.report_error(error)

    PermissionRule.__name__ = f"PermissionRule{role or 'Anonymous'}"
    return PermissionRule


class Authorization(SchemaExtension):
    """Adds the caller's permission rule to validation. No Context means no caller: the
    operation is run as anonymous."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        principal = context.principal if isinstance(context, Context) else None
        role = principal.role if principal is not None else None
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            permission_rule(role),
        )
        yield
