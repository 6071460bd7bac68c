"""How deep, how aliased and how costly an operation is, read from the document alone.

Cost follows Shopify's and GitHub's model: every field costs 1, and a list or connection
field multiplies what it selects by the number of items it may return, its `first` or
`last` argument (a variable without a default counts as the largest page) or else a
default list size. Introspection fields are free: what they return is bounded by the
schema, not by data, and they are refused in production anyway.

Each fragment is measured once per operation. Walking spreads naively takes exponential
time on a document whose fragments each spread the previous one twice: a few hundred
bytes would then hold a server thread for minutes.
"""

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

from services.queries import MAX_PAGE_SIZE

# Items a list without a `first` or `last` argument is assumed to hold. Such lists are the
# parts of one thing (an order's lines, a lot's stock by location), far shorter than a page;
# counting them as full pages would price an ordinary recall trace in the hundreds of
# thousands.
DEFAULT_LIST_SIZE = 10
PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def __add__(self, other: "Measure") -> "Measure":
        return Measure(
            max(self.depth, other.depth), self.aliases + other.aliases, self.cost + other.cost
        )


class OperationMeasurer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variable_defaults = {
            v.variable.name.value: v.default_value for v in operation.variable_definitions or ()
        }
        self.measured: dict[str, Measure] = {}
        self.open: set[str] = set()  # fragments being measured: a cycle, refused elsewhere

    def selection_set(self, parent: GraphQLNamedType | None, nodes: SelectionSetNode) -> Measure:
        total = Measure()
        for selection in nodes.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(inner, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> Measure:
        if name in self.measured:
            return self.measured[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.open:
            return Measure()
        self.open.add(name)
        measure = self.selection_set(
            self.schema.get_type(fragment.type_condition.name.value), fragment.selection_set
        )
        self.open.discard(name)
        self.measured[name] = measure
        return measure

    def field(self, parent: GraphQLNamedType | None, node: FieldNode) -> Measure:
        definition = _field_definition(parent, node.name.value)
        child_type = get_named_type(definition.type) if definition else None
        inner = self.selection_set(child_type, node.selection_set) if node.selection_set else None
        alias = 1 if node.alias else 0
        if node.name.value.startswith("__"):
            inner = inner or Measure()
            return Measure(1 + inner.depth, alias + inner.aliases)
        if inner is None:
            return Measure(1, alias, 1)
        items = self.items(parent, definition, node) if definition else 1
        return Measure(1 + inner.depth, alias + inner.aliases, 1 + items * inner.cost)

    def items(
        self, parent: GraphQLNamedType | None, definition: GraphQLField, node: FieldNode
    ) -> int:
        """How many times a field's selection may be resolved for one parent."""
        returns_list = isinstance(get_nullable_type(definition.type), GraphQLList)
        if _is_connection(parent):
            return 1  # a connection's edges and nodes: the connection field counted them
        if not (returns_list or _is_connection(get_named_type(definition.type))):
            return 1
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in PAGE_ARGUMENTS:
            if name in given:
                size = self.page_size(given[name])
            elif name in definition.args:
                default = definition.args[name].default_value
                size = default if isinstance(default, int) else None
            else:
                continue
            if size is not None:
                return max(size, 0)
        return DEFAULT_LIST_SIZE

    def page_size(self, value: ValueNode | None) -> int | None:
        if isinstance(value, VariableNode):
            default = self.variable_defaults.get(value.name.value)
            return self.page_size(default) if default is not None else MAX_PAGE_SIZE
        if isinstance(value, IntValueNode):
            return int(value.value)
        return None


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    fields = getattr(parent, "fields", None)
    return fields.get(name) if fields else None


def _is_connection(named: GraphQLNamedType | None) -> bool:
    return isinstance(named, GraphQLObjectType) and "pageInfo" in named.fields


def measure_operation(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    operation: OperationDefinitionNode,
) -> Measure:
    root = schema.get_root_type(operation.operation)
    return OperationMeasurer(schema, fragments, operation).selection_set(
        root, operation.selection_set
    )
