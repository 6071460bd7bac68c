"""What an operation's document tells the dataloaders before execution starts."""

from collections.abc import Iterator, Sequence

from graphql import DocumentNode, FieldNode, Node
from strawberry import Info
from strawberry.extensions import SchemaExtension
from strawberry.types.nodes import SelectedField, Selection

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
    serials. The selection is read once, however many paths are asked about."""
    fields = info.selected_fields
    return any(_selects(field.selections, path) for path in paths for field in fields)


def _selects(selections: Sequence[Selection], path: Sequence[str]) -> bool:
    for selection in selections:
        if not isinstance(selection, SelectedField):  # a fragment: its fields are this level's
            if _selects(selection.selections, path):
                return True
        elif selection.name == path[0] and (
            len(path) == 1 or _selects(selection.selections, path[1:])
        ):
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
