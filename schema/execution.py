"""A quicker path through GraphQL execution for the commonest fields of all.

Most fields of a large answer are leaves read straight off an object: `serialNumber`,
`status`, `occurredAt`. For each, graphql-core makes a path, builds a resolve-info object,
calls Strawberry's attribute resolver, then completes the value through the general
machinery. When a field has no resolver of its own, no arguments, no middleware and a
scalar or enum type, the answer is simply the attribute, serialized: that is what this does.

The next commonest are references to an object the request has loaded already: a
movement's `toLocation`, a serial's `product`. A resolver marked `answered_at_once` says how
to find that object without waiting; when it is at hand, its selection is executed right
away, without the resolver call, the info object or the awaitable.

A list of objects that the request has loaded already (a serial's `movements`, read for a
whole page of serials in one statement) is answered the same way: a resolver marked
`listed_at_once` says how to find it from the object, the context and the field's
arguments (coerced once per operation), and the list goes straight to completion, without
Strawberry's resolver machinery.

A subscription's root field, executed for each event, is the event itself, and is answered
the same way. Each subscription plans its selection once, with its first event; the copy
graphql-core makes of the executor for each later event finds those plans.

Every other field, and every unusual value, takes the ordinary path, so results and errors
are the same either way (tests/api/test_execution_fast_path.py).
"""

from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar, Final, TypeVar, cast

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    is_leaf_type,
)
from graphql.execution.executor import to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.sharing import Answer, frozen, shared_answers

DEFINITION = "strawberry-definition"  # where Strawberry keeps its field on a GraphQLField
AT_ONCE = "__answered_at_once__"  # where a resolver keeps its way to answer at once
LISTED = "__listed_at_once__"  # where a list field's resolver keeps its way to answer at once

LEAF: Final = 0
REFERENCE: Final = 1
EVENT: Final = 2  # a subscription's root field, answered by the event
LIST: Final = 3  # a list of objects found at once, given the field's arguments
# (LEAF, attribute, serialize, non-null, the type of values that are their own output),
# (REFERENCE or EVENT, fetch, object type, field type, the type's Python class) or
# (LIST, fetch with arguments, the field's definition, None, None)
Plan = tuple[int, Any, Any, Any, Any]
Step = tuple[str, Any, Plan | None]  # response name, field details, plan

Fetch = Callable[[Any, Any], Any]  # (source, context) -> object, None, or Undefined
# (source, context, the field's arguments by their GraphQL names) -> list, or Undefined
FetchList = Callable[..., Any]
F = TypeVar("F", bound=Callable[..., Any])


def answered_at_once(fetch: Fetch) -> Callable[[F], F]:
    """Mark a resolver of an object field (no arguments) with `fetch(source, context)`,
    which answers its object, or None, when the request has it at hand already, and
    Undefined when only the resolver can tell. Apply it under `@strawberry.field`."""

    def mark(resolver: F) -> F:
        setattr(resolver, AT_ONCE, fetch)
        return resolver

    return mark


def listed_at_once(fetch: FetchList) -> Callable[[F], F]:
    """Mark a resolver of a list-of-objects field with `fetch(source, context, **args)`,
    which answers the list when the request has it at hand already, and Undefined when
    only the resolver can tell. `args` are the field's arguments as graphql-core coerces
    them, by their GraphQL names. `fetch` must not change anything: on Undefined or an
    exception the resolver runs, and reports what went wrong. Apply it under
    `@strawberry.field`."""

    def mark(resolver: F) -> F:
        setattr(resolver, LISTED, fetch)
        return resolver

    return mark


class LeafFastPath(StrawberryGraphQLCoreExecutionContext):
    # (schema, type, field) -> its plan, or None for the ordinary path. Shared by all
    # operations: a schema's fields do not change while it serves.
    _plans: ClassVar[dict[tuple[int, str, str], Plan | None]] = {}

    # Set on the copies graphql-core makes to execute one subscription event.
    _one_event: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Plans of this operation's selections, by the identity of the selection. A
        # subscription's event executors are shallow copies of its executor, so they share
        # these, as they share graphql-core's own memo of sub-selections.
        self._selections: dict[int, tuple[Any, list[Step]]] = {}
        self._item_plans: dict[int, tuple[Any, Any]] = {}
        # A list field's coerced arguments, by the identity of its field details.
        self._arguments: dict[int, tuple[Any, dict[str, Any] | None]] = {}
        # The root fields of a subscription's first event (`execute_root_grouped_field_set`).
        self._event_roots: list[Any] = []

    def build_per_event_executor(self, payload: Any) -> "LeafFastPath":
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, LeafFastPath)
        executor._one_event = True
        executor.__dict__.pop("_answered", None)  # answers are one event's own
        return executor

    def execute_root_grouped_field_set(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        position_context: Any,
    ) -> Any:
        """Every event of a subscription collects the same root fields anew. Executing the
        first event's instead lets the memos keyed by a selection's identity, ours and
        graphql-core's, find every later event's selections: otherwise each event planned
        them again and left its entries in those memos for the subscription's whole life."""
        if self._one_event:
            if not self._event_roots:
                self._event_roots.append(grouped_field_set)
            grouped_field_set = self._event_roots[0]
        return super().execute_root_grouped_field_set(
            root_type, root_value, grouped_field_set, serially, position_context
        )

    def execute_operation(self, serially: bool | None = None) -> Any:
        """A subscription event is executed once for every subscriber asking the same
        question of it (schema/sharing.py)."""
        if not self._one_event:
            return super().execute_operation(serially)
        execute = super().execute_operation
        principal = getattr(self.context_value, "principal", None)
        try:
            key = (
                id(self.root_value),
                id(self.operation),
                frozen(self.variable_values.coerced),
                getattr(principal, "role", None),
            )
        except TypeError:  # a variable value that cannot be a key: this one is not shared
            return execute(serially)
        return shared_answers.answer(
            key, self.root_value, self.operation, lambda: cast(Answer, execute(serially))
        )

    @cached_property
    def _wrapped(self) -> bool:
        """Whether an extension wraps every resolver (Strawberry always passes a middleware
        manager, often with nothing in it)."""
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any = None,
    ) -> Any:
        """graphql-core's loop over an object's fields, with the planned fields answered in
        place. A leaf whose value is missing, None or does not serialize, and a reference
        not at hand, go through `execute_field` like every unplanned field."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, plan in self._steps(
                parent_type, grouped_field_set
            ):
                result: Any = Undefined
                if plan is not None:
                    if plan[0] == LEAF:
                        # Written out here, not called: this runs for every leaf. A value
                        # missing, None where not allowed, or not serializable goes the
                        # ordinary way, which reports it.
                        value = getattr(source_value, plan[1], Undefined)
                        if type(value) is plan[4]:  # e.g. a str for a String: as it is
                            results[response_name] = value
                            continue
                        if value is None and not plan[3]:
                            results[response_name] = None
                            continue
                        if value is not None and value is not Undefined:
                            try:
                                result = plan[2](value)
                            except Exception:  # the ordinary path reports it properly
                                result = None
                            if result is not None:  # a scalar: never awaitable
                                results[response_name] = result
                                continue
                            result = Undefined
                    elif plan[0] == LIST:
                        result = self._listed(
                            plan, source_value, field_details_list, path, response_name,
                            parent_type, position_context,
                        )  # fmt: skip
                    else:
                        result = self._reference(
                            plan, source_value, field_details_list, path, response_name,
                            parent_type, position_context,
                        )  # fmt: skip
                if result is Undefined:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gathered(results, awaitable_fields)

    def complete_list_item_value(
        self,
        item: Any,
        complete_results: list[Any],
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: Any,
        item_path: Path,
        position_context: Any = None,
    ) -> bool:
        """An object of a list (ten movements of each of a thousand serials) goes straight
        to its fields, past the five calls that would find out it is an object."""
        plan = self._item_plan(item_type, field_details_list)
        if plan is None or not isinstance(item, plan[1]):
            return super().complete_list_item_value(
                item, complete_results, item_type, field_details_list, info, item_path,
                position_context,
            )  # fmt: skip
        try:
            completed = self.execute_fields(plan[0], item, item_path, plan[2], position_context)
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, field_details_list, item_path)
            complete_results.append(None)
            return False
        if self.is_awaitable(completed):
            complete_results.append(
                self._completed_later(completed, item_type, field_details_list, item_path)
            )
            return True
        complete_results.append(completed)
        return False

    def _item_plan(self, item_type: GraphQLOutputType, field_details_list: Any) -> Any:
        """(object type, its Python class, its grouped field set) for the items of a list
        of objects selected without @defer, else None; once per list field per operation."""
        found = self._item_plans.get(id(field_details_list))
        if found is not None and found[0] is field_details_list:
            return found[1]
        plan = None
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        origin = None
        if isinstance(named, GraphQLObjectType):
            origin = getattr((named.extensions or {}).get(DEFINITION), "origin", None)
        if isinstance(named, GraphQLObjectType) and isinstance(origin, type):
            grouped, defer_usages, *_ = self.collect_subfields(named, field_details_list)
            if not defer_usages:
                plan = (named, origin, grouped)
        # Kept with the list, so that its id cannot be reused while this operation runs.
        self._item_plans[id(field_details_list)] = (field_details_list, plan)
        return plan

    def _reference(
        self,
        plan: Plan,
        source: Any,
        field_details_list: Any,
        path: Path | None,
        response_name: str,
        parent_type: GraphQLObjectType,
        position_context: Any,
    ) -> Any:
        _, fetch, object_type, field_type, origin = plan
        try:
            found = fetch(source, self.context_value)
        except Exception:  # the resolver's own path reports it at the field
            return Undefined
        if found is None:
            return Undefined if isinstance(field_type, GraphQLNonNull) else None
        if not isinstance(found, origin):  # Undefined, or anything unexpected
            return Undefined
        answered = self._answered.get((id(found), id(field_details_list)))
        if answered is not None and answered[0] is found and answered[1] is field_details_list:
            return answered[2]
        grouped, defer_usages, *_ = self.collect_subfields(object_type, field_details_list)
        if defer_usages:  # incremental delivery is for the ordinary path
            return Undefined
        field_path = Path(path, response_name, parent_type.name)
        errors = len(self.collected_errors.errors)
        try:
            completed = self.execute_fields(
                object_type, found, field_path, grouped, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_type, field_details_list, field_path)
            return None
        if self.is_awaitable(completed):
            return self._completed_later(completed, field_type, field_details_list, field_path)
        if len(self.collected_errors.errors) == errors:
            # Kept with the object and the selection, so that their ids cannot be reused
            # while this operation runs.
            self._answered[(id(found), id(field_details_list))] = (
                found, field_details_list, completed
            )  # fmt: skip
        return completed

    def _listed(
        self,
        plan: Plan,
        source: Any,
        field_details_list: Any,
        path: Path | None,
        response_name: str,
        parent_type: GraphQLObjectType,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_field` for a list found at once: the resolver is not
        called, the arguments are coerced once for every object of a list."""
        _, fetch, field_def, *_ = plan
        arguments = self._arguments_of(field_def, field_details_list)
        if arguments is None:
            return Undefined
        try:
            found = fetch(source, self.context_value, **arguments)
        except Exception:  # the resolver's own path reports it at the field
            return Undefined
        if found is Undefined:
            return Undefined
        field_type = field_def.type
        field_path = Path(path, response_name, parent_type.name)
        info = self.build_resolve_info(
            field_def, to_nodes(field_details_list), parent_type, field_path
        )
        try:
            completed = self.complete_value(
                field_type, field_details_list, info, field_path, found, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_type, field_details_list, field_path)
            return None
        if self.is_awaitable(completed):
            return self._completed_later(completed, field_type, field_details_list, field_path)
        return completed

    def _arguments_of(self, field_def: Any, field_details_list: Any) -> dict[str, Any] | None:
        """The field's arguments, coerced as `execute_field` coerces them, once per
        selection; None when they do not coerce (the ordinary path reports why)."""
        found = self._arguments.get(id(field_details_list))
        if found is not None and found[0] is field_details_list:
            return found[1]
        first = field_details_list[0]
        arguments: dict[str, Any] | None
        try:
            arguments = get_argument_values(
                field_def,
                first.node,
                self.variable_values,
                first.fragment_variable_values,
                self.hide_suggestions,
            )
        except Exception:
            arguments = None
        # Kept with the selection, so that its id cannot be reused while this operation runs.
        self._arguments[id(field_details_list)] = (field_details_list, arguments)
        return arguments

    @cached_property
    def _answered(self) -> dict[tuple[int, int], tuple[Any, Any, Any]]:
        """The same object under the same selection has the same answer within one
        operation: ten thousand movements name a few locations, each answered once. Only
        answers completed at once and without errors are kept; JSON does not mind a
        dictionary that appears in several places."""
        return {}

    async def _completed_later(
        self, completed: Any, field_type: Any, field_details_list: Any, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_type, field_details_list, path)
            return None

    async def _gathered(self, results: dict[str, Any], awaitable_fields: list[str]) -> Any:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
            return results
        awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    def _steps(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[Step]:
        """Each field of a selection with its plan, worked out once per operation:
        graphql-core hands the same grouped field set for every object of a list."""
        found = self._selections.get(id(grouped_field_set))
        if found is not None and found[0] is grouped_field_set:
            return found[1]
        steps: list[Step] = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            key = (id(self.schema), parent_type.name, node.name.value)
            try:
                plan = self._plans[key]
            except KeyError:
                plan = self._plans[key] = self._plan(parent_type, node.name.value)
            # An event's root field ignores its arguments: they chose the events. A list
            # found at once is given them.
            if self._wrapped or (
                node.arguments and plan is not None and plan[0] not in (EVENT, LIST)
            ):
                plan = None
            steps.append((response_name, field_details_list, plan))
        # The set is kept with its steps, so its id cannot be reused while this operation runs.
        self._selections[id(grouped_field_set)] = (grouped_field_set, steps)
        return steps

    def _plan(self, parent_type: GraphQLObjectType, name: str) -> Plan | None:
        field_def = self.schema.get_field(parent_type, name)
        if field_def is None:
            return None
        definition = (field_def.extensions or {}).get(DEFINITION)
        field_type: GraphQLOutputType = field_def.type
        named = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if getattr(definition, "extensions", None) or getattr(
            definition, "permission_classes", None
        ):
            return None
        # An attribute, read by Strawberry's default resolver.
        attribute = (
            getattr(definition, "python_name", None)
            if getattr(field_def.resolve, "_is_default", False)
            and getattr(definition, "is_basic_field", False)
            else None
        )
        if attribute is not None and is_leaf_type(named):
            non_null = isinstance(field_type, GraphQLNonNull)
            return LEAF, attribute, _serializer(named), non_null, _SERIALIZED_AS_IS.get(named)
        listed = _listed_fetch(definition)
        if listed is not None and _is_list_of_objects(field_type):
            return LIST, listed, field_def, None, None
        kind, fetch = REFERENCE, None
        if attribute is not None:
            fetch = _attribute(attribute)
        elif getattr(definition, "is_subscription", False):
            # Strawberry resolves a subscription field, for each event, to the event.
            kind, fetch = EVENT, _the_event
        elif not field_def.args:
            resolver = getattr(getattr(definition, "base_resolver", None), "wrapped_func", None)
            fetch = getattr(resolver, AT_ONCE, None)
        if fetch is None or not isinstance(named, GraphQLObjectType):
            return None
        origin = getattr((named.extensions or {}).get(DEFINITION), "origin", None)
        if not isinstance(origin, type):
            return None
        return kind, fetch, named, field_type, origin


def _listed_fetch(definition: Any) -> FetchList | None:
    resolver = getattr(getattr(definition, "base_resolver", None), "wrapped_func", None)
    return getattr(resolver, LISTED, None)


def _is_list_of_objects(field_type: GraphQLOutputType) -> bool:
    listed = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not isinstance(listed, GraphQLList):
        return False
    item = listed.of_type
    item = item.of_type if isinstance(item, GraphQLNonNull) else item
    return isinstance(item, GraphQLObjectType)


def _attribute(name: str) -> Fetch:
    def fetch(source: Any, _context: Any) -> Any:
        return getattr(source, name, Undefined)

    return fetch


def _the_event(event: Any, _context: Any) -> Any:
    return event


# Scalars whose serialization returns a value of this exact type unchanged (graphql-core's
# `serialize_string` and `serialize_boolean`): a third of the leaves of a large answer skip
# the call. Not Int or Float, whose serialization checks the value's range.
_SERIALIZED_AS_IS: Final[dict[Any, type]] = {GraphQLString: str, GraphQLBoolean: bool}


def _serializer(leaf: Any) -> Callable[[Any], Any]:
    """`leaf.serialize`, except for Strawberry's enums, which look a member's name up by
    comparing it with every value in turn: here it is one dictionary look-up."""
    members = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or members is None:
        return leaf.serialize  # type: ignore[no-any-return]
    # By identity: members live as long as their class, so no other object has their id.
    names = {
        id(member): name
        for name, definition in leaf.values.items()
        for member in members
        if member.value == definition.value
    }
    slow = leaf.serialize

    def serialize(value: Any) -> Any:
        name = names.get(id(value))
        return slow(value) if name is None else name

    return serialize
