"""What an operation's document tells the dataloaders before execution starts."""

from collections.abc import Iterator, Sequence

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    Node,
    SelectionSetNode,
)
from strawberry import Info
from strawberry.extensions import SchemaExtension

from resolvers.context import Context

# id(document) -> (document, the names of the fields it selects): documents come from the
# parser's cache, so the same few are asked about again and again.
_shown: dict[int, tuple[DocumentNode, frozenset[str]]] = {}
_SHOWN_MAX = 512


def selected_names(document: DocumentNode) -> frozenset[str]:
    """The names of all fields the document selects anywhere, fragments included."""
    found = _shown.get(id(document))
    if found is not None and found[0] is document:
        return found[1]
    shown = frozenset(node.name.value for node in _nodes(document) if isinstance(node, FieldNode))
    if len(_shown) >= _SHOWN_MAX:
        _shown.clear()
    # Kept with the answer, so that the id cannot be reused while it is cached.
    _shown[id(document)] = (document, shown)
    return shown


def _nodes(document: DocumentNode) -> Iterator[Node]:
    stack: list[Node] = list(document.definitions)
    while stack:
        node = stack.pop()
        yield node
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)


def selects_below(info: Info, *paths: Sequence[str]) -> bool:
    """Whether the field being resolved selects any of `paths` under it, fragments
    included: e.g. `selects_below(info, ("nodes", "movements"))` on a connection of
    serials. Read from the document's nodes as they are, without converting the selection
    (Strawberry's `selected_fields` costs more than the read it would save on a look-up);
    `@skip` and `@include` are not evaluated, so a skipped field counts as selected, which
    costs at most a read nobody shows."""
    raw = info._raw_info
    nodes = [node.selection_set for node in raw.field_nodes]
    return any(_selects(nodes, path, raw.fragments) for path in paths)


def _selects(
    selection_sets: Sequence[SelectionSetNode | None],
    path: Sequence[str],
    fragments: dict[str, FragmentDefinitionNode],
) -> bool:
    for selection_set in selection_sets:
        if selection_set is None:
            continue
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                if node.name.value == path[0] and (
                    len(path) == 1 or _selects([node.selection_set], path[1:], fragments)
                ):
                    return True
            elif isinstance(node, InlineFragmentNode):  # its fields are this level's
                if _selects([node.selection_set], path, fragments):
                    return True
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments.get(node.name.value)
                if fragment is not None and _selects([fragment.selection_set], path, fragments):
                    return True
    return False


class FreshLoadersPerOperation(SchemaExtension):
    """Dataloaders cache rows for one operation only. Over HTTP every request has its own
    context anyway; a WebSocket keeps one context for the connection's whole life, and
    without this a second query on it would be answered from the first one's rows.

    Once the document is parsed, the loaders learn which fields it selects, so that the
    batches reading serials and movements read their locations too when the document shows
    them (resolvers/loaders.py)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.fresh_loaders()
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        if isinstance(context, Context) and document is not None:
            context.loaders.selected = selected_names(document)
        yield
