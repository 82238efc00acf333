"""A breadth-first executor for read queries: the same answer as graphql-core, a fraction of the work.

graphql-core resolves a query field by field, object by object: for the data map (1,000
subcontractors with their contracts, entrustments, purposes and items) that is about
156,000 field executions, each building a resolve info, a path, an awaitable check and a
completion, about 1.2 s of CPU for a 1.5 MB answer. This executor walks the same
validated document level by level instead: for each field of a level it resolves every
object of that level in one loop (`getattr` for a plain field, one read for the whole
level for a field declared as a `Batch` (schema/execution/batching.py), the very Strawberry resolver
otherwise, all of a level's resolvers awaited together so the DataLoaders still batch them
into one query), serializes leaves with the schema's own scalars and enums,
and builds the answer dictionaries in document order.

It answers only when it can answer exactly as graphql-core would, and otherwise steps
aside (`Fallback`) and lets graphql-core run the operation from the start, which is safe
because it runs queries only, never mutations:
- any error: a resolver raising, a null in a non-null position, a permission refusing
  with an error, variables that do not coerce (graphql-core reports them properly);
- anything it does not model: introspection other than `__typename`, directives other
  than `@skip` and `@include`, fragment variables, field extensions other than the
  permission ones, list of lists, a value of a class the schema does not know.
`tests/schema/test_fast.py` holds the two executors to identical answers.
"""

import asyncio
import inspect
import json
import logging
import weakref
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Callable

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLIncludeDirective,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    is_abstract_type,
    is_leaf_type,
    visit,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values, get_variable_values
import orjson
from strawberry.extensions import SchemaExtension
from strawberry.permission import PermissionExtension
from strawberry.types.graphql import OperationType as StrawberryOperation

from schema import hooks

logger = logging.getLogger("pi_gateway.fast_path")


# Why the fast path steps aside, by code. The first group is by design: graphql-core reports
# errors with their paths and partial data, and answers introspection. The second means the
# fast path met something it does not model: the operation is slower than it should be, and
# the strict mode (the tests) fails on it.
BY_DESIGN = {
    "errors": "the operation has an error to report (a refusal, a null in a non-null position, bad variables)",
    "resolver-error": "a resolver raised; graphql-core reports the error at its path",
    "introspection": "introspection beyond __typename",
    "operation": "no single query operation to run",
}
UNPLANNED = {
    "field": "a field the planner could not plan (unplanned_fields)",
    "info": "a resolver asked its info for more than the context",
    "permission": "a permission that is not a plain boolean check",
    "directive": "a directive other than @skip and @include",
    "fragment-variables": "fragment variables",
    "list-of-lists": "a list of lists",
    "runtime-type": "a value whose GraphQL type is unknown",
}


class Fallback(Exception):
    """The fast path cannot give graphql-core's exact answer: graphql-core runs the operation.
    `reason` is a code of BY_DESIGN or UNPLANNED."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class StepAsideRefused(RuntimeError):
    """Strict mode: the fast path met something it does not model (a defect in a test run)."""


class FastPath:
    """The fast path of one app: whether it runs, whether stepping aside is an error (strict,
    for the tests), and how often it stepped aside, by reason (on /metrics). Each step aside
    is logged once per operation name and reason, with the reason's code and no query text.
    """

    LOGGED = 1_000  # (operation, reason) pairs remembered for the log-once rule

    def __init__(self, *, enabled: bool = True, strict: bool = False, shared_types: frozenset[str] = frozenset()) -> None:
        self.enabled = enabled
        self.strict = strict
        self.shared_types = shared_types  # GraphQL types whose answers are reused across operations
        self.fallbacks: dict[str, int] = {}
        self._logged: set[tuple[str, str]] = set()
        self.answers = _SharedAnswers()  # completed answers of shared objects, across operations
        self.variables_used: dict[tuple[int, ...], tuple[weakref.ref, list[str]]] = {}  # by selection
        self.unwinding: set[asyncio.Task] = set()  # cancelled reads finishing (`unwind`)

    def stepped_aside(self, reason: str, operation_name: str | None, detail: str) -> None:
        self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1
        key = ((operation_name or "")[:64], reason)
        if key not in self._logged and len(self._logged) < self.LOGGED:
            self._logged.add(key)
            logger.info(json.dumps({"event": "fast_path_step_aside", "operation_name": key[0] or None,
                                    "reason": reason, "detail": detail[:200]}))
        if self.strict and reason in UNPLANNED:
            raise StepAsideRefused(f"the fast path stepped aside: {reason} ({detail})")


class FastExecution(SchemaExtension):
    """Answers query operations with `execute_fast` when it can; graphql-core runs the rest.

    It sets the execution context's result before execution, which makes Strawberry skip
    graphql-core; a result already set (by the response cache) is left alone.
    """

    def __init__(self, fast_path: FastPath | None = None) -> None:
        self.fast_path = fast_path or FastPath()

    async def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if self.fast_path.enabled and context.result is None and context.operation_type is StrawberryOperation.QUERY:
            data = await execute_fast(
                context.schema, context.graphql_document, context.operation_name,
                context.variables or {}, context.context, context.root_value, fast_path=self.fast_path,
            )
            if data is not None:
                context.result = ExecutionResult(data=data, errors=None)
        yield


async def execute_fast(schema, document, operation_name: str | None, variables: dict[str, Any],
                       context: Any, root_value: Any = None, *, fast_path: FastPath | None = None
                       ) -> dict[str, Any] | None:
    """The `data` of a query operation, or None when graphql-core must run it (the reason
    counted on `fast_path`, and refused in its strict mode when it is not by design)."""
    fast_path = fast_path or FastPath()
    try:
        return await _Run(_planner(schema), document, operation_name, variables, context, fast_path).execute(root_value)
    except Fallback as step_aside:
        fast_path.stepped_aside(step_aside.reason, operation_name, str(step_aside))
        return None
    except Exception as error:
        if asyncio.current_task().cancelling():
            # cancelled (the execution timeout) inside a read: what the cancellation broke
            # must not be handed to graphql-core, and the timeout must see its cancellation
            raise asyncio.CancelledError() from error
        # a resolver's error: graphql-core runs the operation again and reports it at its path
        fast_path.stepped_aside("resolver-error", operation_name, type(error).__qualname__)
        return None


# --- Per-schema facts, computed once per field -------------------------------------------


@dataclass(frozen=True)
class _Field:
    """How to resolve one field of one object type."""

    definition: GraphQLField
    strawberry: Any
    attribute: Callable[[Any], Any] | None  # a plain field: its attribute
    permissions: tuple[PermissionExtension, ...]
    is_async: bool
    batch: Any = None  # a resolver marked by `batched`: the whole level in one call


class _Planner:
    """The facts of one schema: fields, leaf serializers and the classes of its object types."""

    def __init__(self, schema) -> None:
        self.strawberry_schema = schema
        self.graphql: GraphQLSchema = hooks.graphql_schema(schema)
        self._fields: dict[tuple[str, str], _Field] = {}
        self._serializers: dict[str, Callable[[Any], Any]] = {}
        self.object_types: dict[type, GraphQLObjectType] = {}
        self.unplanned: dict[str, str] = {}  # "Type.field" -> why the fast path cannot run it
        for graphql_type in self.graphql.type_map.values():
            definition = hooks.strawberry_definition(graphql_type)
            if isinstance(graphql_type, GraphQLObjectType) and definition is not None:
                self.object_types[definition.origin] = graphql_type
                self._plan_fields(graphql_type)

    def _plan_fields(self, parent: GraphQLObjectType) -> None:
        """Every field of the type, planned once, when the schema is built: the fields the fast
        path cannot run are known (and logged by the app) before any request meets them."""
        for name, definition in parent.fields.items():
            try:
                self._fields[parent.name, name] = self._plan(definition)
            except Fallback as cannot:
                self.unplanned[f"{parent.name}.{name}"] = str(cannot)

    def field(self, parent: GraphQLObjectType, name: str) -> _Field:
        found = self._fields.get((parent.name, name))
        if found is None:
            raise Fallback("field", f"{parent.name}.{name}: {self.unplanned.get(f'{parent.name}.{name}', 'unknown')}")
        return found

    @staticmethod
    def _plan(definition: GraphQLField) -> _Field:
        field = hooks.strawberry_definition(definition)
        if field is None:
            raise Fallback("field", "a field Strawberry did not define")
        permissions = tuple(e for e in field.extensions if isinstance(e, PermissionExtension))
        if len(permissions) != len(field.extensions):
            raise Fallback("field", "a field extension the fast path does not model")
        resolver = field.base_resolver
        if resolver is not None and (resolver.parent_parameter or resolver.root_parameter):
            raise Fallback("field", "a resolver asking for its parent by name")
        attribute = attrgetter(field.python_name) if resolver is None else None
        batch = getattr(resolver.wrapped_func, "batch", None) if resolver is not None else None
        if batch is not None and (permissions or (field.arguments and not batch.when_defaults)):
            batch = None
        return _Field(definition, field, attribute, permissions, resolver is not None and field.is_async, batch)

    def serializer(self, leaf) -> Callable[[Any], Any]:
        found = self._serializers.get(leaf.name)
        if found is None:
            found = self._serializers[leaf.name] = _serializer(leaf)
        return found


def _serializer(leaf) -> Callable[[Any], Any]:
    """The leaf's serialize, skipped for values already in their output form (built-in
    scalars of their own Python type) and remembered for enum members."""
    serialize = leaf.serialize
    if isinstance(leaf, GraphQLEnumType):
        return _memoized(serialize)
    exact = {GraphQLString.name: str, GraphQLID.name: str, GraphQLInt.name: int, GraphQLBoolean.name: bool}.get(leaf.name)
    if exact is None:
        return serialize
    return lambda value: value if type(value) is exact else serialize(value)


def _memoized(serialize: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An enum's serialize remembered per (class, value): an enum has a handful of members."""
    known: dict[tuple[type, Any], Any] = {}

    def serialize_member(value: Any) -> Any:
        key = type(value), value
        found = known.get(key, _MISSING)
        if found is _MISSING:
            if len(known) > 1_000:  # not enum members after all: start again
                known.clear()
            found = known[key] = serialize(value)
        return found

    return serialize_member


def unplanned_fields(schema) -> dict[str, str]:
    """The fields of `schema` the fast path cannot run, and why (empty for the served schema:
    tests/schema/test_fast.py holds it so)."""
    return dict(_planner(schema).unplanned)


def _planner(schema) -> _Planner:
    """The schema's planner, kept on the schema itself: the planner refers to the schema, so a
    table of planners keyed weakly by schema would keep every schema alive (a test process
    builds hundreds)."""
    found = getattr(schema, "_fast_planner", None)
    if found is None:
        found = schema._fast_planner = _Planner(schema)
    return found


class _Info:
    """What a resolver may ask of its `info` here: the context. Anything else falls back."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context

    def __getattr__(self, name: str) -> Any:
        raise Fallback("info", f"info.{name}")


# --- One operation -------------------------------------------------------------------------


class _Run:
    def __init__(self, planner: _Planner, document, operation_name: str | None, variables: dict[str, Any],
                 context: Any, fast_path: FastPath) -> None:
        self.planner = planner
        self.fast_path = fast_path
        self.document = document
        self.schema = planner.graphql
        self.info = _Info(context)
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        self.operation: OperationDefinitionNode | None = None
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions:
                    raise Fallback("fragment-variables")
                self.fragments[definition.name.value] = definition
            elif isinstance(definition, OperationDefinitionNode):
                if operation_name is None or (definition.name and definition.name.value == operation_name):
                    if self.operation is not None and operation_name is None:
                        raise Fallback("operation", "several operations and no name")
                    self.operation = definition
        if self.operation is None or self.operation.operation is not OperationType.QUERY:
            raise Fallback("operation", "no query operation to run")
        coerced = get_variable_values(self.schema, self.operation.variable_definitions or (), variables)
        if not isinstance(coerced, VariableValues):
            raise Fallback("errors", "variables that do not coerce")
        self.variables = coerced
        self.raw_variables = variables
        self.scope = _scope(context)

    async def execute(self, root_value: Any) -> dict[str, Any]:
        root_type = self.schema.query_type
        [data] = await self._objects(root_type, [root_value], [self.operation.selection_set])
        return data

    # --- selections ------------------------------------------------------------------

    def _collect(self, parent: GraphQLObjectType, selection_sets: list[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        """The fields to answer on `parent`, by response key, as the spec's CollectFields."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    if condition is None or self._applies(condition.name.value, parent):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name in visited or fragment is None:
                        continue
                    visited.add(name)
                    if self._applies(fragment.type_condition.name.value, parent):
                        walk(fragment.selection_set)

        for selection_set in selection_sets:
            if selection_set is not None:
                walk(selection_set)
        return fields

    def _included(self, node) -> bool:
        if not node.directives:
            return True
        for directive in node.directives:
            if directive.name.value not in (GraphQLSkipDirective.name, GraphQLIncludeDirective.name):
                raise Fallback("directive", f"@{directive.name.value}")
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip["if"] is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include["if"] is False)

    def _applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        condition_type = self.schema.get_type(condition)
        if condition_type is parent:
            return True
        return is_abstract_type(condition_type) and self.schema.is_sub_type(condition_type, parent)

    # --- objects, fields, values -------------------------------------------------------------

    async def _objects(self, parent: GraphQLObjectType, sources: list[Any],
                       selection_sets: list[SelectionSetNode]) -> list[dict[str, Any]]:
        """One answer dictionary per source object, its keys in document order; remembered
        for the objects of the types that many operations share."""
        if self.scope is None or parent.name not in self.fast_path.shared_types:
            return await self._build(parent, sources, selection_sets)
        selections = tuple(selection_sets)
        scope = self._scope_of(selections)
        if scope is None:
            return await self._build(parent, sources, selection_sets)
        answers = self.fast_path.answers.get_all(sources, self.document, selections, scope)
        missing = [n for n, answer in enumerate(answers) if answer is None]
        if missing:
            built = await self._build(parent, [sources[n] for n in missing], selection_sets)
            for n, answer in zip(missing, built):
                answers[n] = answer
            self.fast_path.answers.put_all([sources[n] for n in missing], self.document, selections, scope, built)
        return answers

    def _scope_of(self, selections: tuple) -> tuple | None:
        """The run's scope with the values of just the variables these selections use: the
        customer's id in `customer(id: $id) { handlings { ... } }` must not split the answers
        of handlings every customer shares."""
        try:
            values = orjson.dumps({name: self.raw_variables.get(name) for name in self._variables_of(selections)})
        except TypeError:
            return None
        return self.scope, values

    def _variables_of(self, selections: tuple) -> list[str]:
        """The variables the selections use, fragments included, in name order; remembered per
        selection (the parser cache hands every request of one query the same nodes)."""
        key = tuple(map(id, selections))
        remembered = self.fast_path.variables_used
        known = remembered.get(key)
        if known is not None and known[0]() is self.document:
            return known[1]
        used: set[str] = set()
        seen: set[str] = set()
        nodes = list(selections)
        while nodes:
            uses = _Uses()
            for node in nodes:
                visit(node, uses)
            used |= uses.variables
            spreads = [name for name in uses.spreads if name not in seen]
            seen.update(spreads)
            nodes = [self.fragments[name] for name in spreads if name in self.fragments]
        if len(remembered) >= 1_024:
            remembered.clear()
        remembered[key] = weakref.ref(self.document), sorted(used)
        return sorted(used)

    async def _build(self, parent: GraphQLObjectType, sources: list[Any],
                     selection_sets: list[SelectionSetNode]) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = [{} for _ in sources]
        for key, nodes in self._collect(parent, selection_sets).items():
            name = nodes[0].name.value
            if name == "__typename":
                for answer in answers:
                    answer[key] = parent.name
                continue
            if name.startswith("__"):
                raise Fallback("introspection")
            field = self.planner.field(parent, name)
            values = await self._resolve(field, sources, nodes[0])
            completed = await self._complete(field.definition.type, values, nodes)
            for answer, value in zip(answers, completed):
                answer[key] = value
        return answers

    async def _resolve(self, field: _Field, sources: list[Any], node: FieldNode) -> list[Any]:
        if field.attribute is not None and not field.permissions:
            return [field.attribute(source) for source in sources]
        if field.batch is not None and not node.arguments:
            return await field.batch.many(self.info.context, sources)
        arguments = get_argument_values(field.definition, node, self.variables)
        if field.batch is not None and all(value is None or value is False for value in arguments.values()):
            return await field.batch.many(self.info.context, sources)  # every argument null or false: the defaults
        results: list[Any] = []
        pending: list[int] = []
        call = self._caller(field, arguments)
        for source in sources:
            denied = self._denied(field, source, arguments)
            if denied is not _ALLOWED:
                results.append(denied)
                continue
            value = call(source)
            if field.is_async:
                pending.append(len(results))
            results.append(value)
        if pending:
            awaited = await await_together([results[n] for n in pending], self.fast_path.unwinding)
            for n, value in zip(pending, awaited):
                results[n] = value
        return results

    def _caller(self, field: _Field, arguments: dict[str, Any]) -> Callable[[Any], Any]:
        if field.attribute is not None:
            return field.attribute
        strawberry_field = field.strawberry
        resolver = strawberry_field.base_resolver
        kwargs = hooks.convert_arguments(arguments, strawberry_field, self.planner.strawberry_schema, self.info)
        if resolver.info_parameter:
            kwargs[resolver.info_parameter.name] = self.info
        if resolver.self_parameter:
            return lambda source: resolver(source, **kwargs)
        return lambda _source: resolver(**kwargs)

    def _denied(self, field: _Field, source: Any, arguments: dict[str, Any]) -> Any:
        """_ALLOWED, or what a silent refusal answers; a refusal with an error falls back."""
        for extension in field.permissions:
            for permission in extension.permissions:
                allowed = permission.has_permission(source, self.info, **arguments)
                if inspect.isawaitable(allowed) or not isinstance(allowed, bool):
                    raise Fallback("permission")
                if not allowed:
                    if not extension.fail_silently:
                        raise Fallback("errors", "a refusal reported as an error")
                    return [] if extension.return_empty_list else None
        return _ALLOWED

    async def _complete(self, type_, values: list[Any], nodes: list[FieldNode]) -> list[Any]:
        """The answers for `values` of GraphQL type `type_`, all at once."""
        if isinstance(type_, GraphQLNonNull):
            completed = await self._complete(type_.of_type, values, nodes)
            if None in completed:  # answers are dicts, lists and scalars: `in` meets None only as None
                raise Fallback("errors", "a null in a non-null position")
            return completed
        if isinstance(type_, GraphQLList):
            item_type = type_.of_type
            if isinstance(item_type, GraphQLNonNull):
                item_type = item_type.of_type
            if isinstance(item_type, GraphQLList):
                raise Fallback("list-of-lists")
            flat = [item for value in values if value is not None for item in value]
            done = await self._complete(type_.of_type, flat, nodes)
            out, start = [], 0
            for value in values:
                if value is None:
                    out.append(None)
                else:
                    end = start + len(value)
                    out.append(done[start:end])
                    start = end
            return out
        if is_leaf_type(type_):
            serialize = self.planner.serializer(type_)
            return [None if value is None else serialize(value) for value in values]
        present = [n for n, value in enumerate(values) if value is not None]
        out: list[Any] = [None] * len(values)
        selections = [node.selection_set for node in nodes]
        for object_type, positions in self._by_runtime_type(type_, values, present).items():
            answers = await self._objects(object_type, [values[n] for n in positions], selections)
            for n, answer in zip(positions, answers):
                out[n] = answer
        return out

    def _by_runtime_type(self, type_, values: list[Any], present: list[int]) -> dict[GraphQLObjectType, list[int]]:
        if isinstance(type_, GraphQLObjectType):
            return {type_: present} if present else {}
        groups: dict[GraphQLObjectType, list[int]] = {}
        for n in present:
            runtime = self.planner.object_types.get(type(values[n]))
            if runtime is None or not self.schema.is_sub_type(type_, runtime):
                raise Fallback("runtime-type")
            groups.setdefault(runtime, []).append(n)
        return groups


_ALLOWED = object()
_MISSING = object()


# --- Answers shared across operations --------------------------------------------------------


def _scope(context: Any) -> tuple | None:
    """What else than the object, the selection and its variables an answer may depend on: the
    caller's role (permissions) and the business date (contract statuses); None when unknown."""
    caller, clock = getattr(context, "caller", None), getattr(context, "clock", None)
    if clock is None:
        return None
    return (caller.role if caller else None), clock.today()


class _Uses(Visitor):
    """The variables and fragment spreads a piece of a document uses."""

    def __init__(self) -> None:
        super().__init__()
        self.variables: set[str] = set()
        self.spreads: set[str] = set()

    def enter_variable(self, node: VariableNode, *_args) -> None:
        self.variables.add(node.name.value)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args) -> None:
        self.spreads.add(node.name.value)


class _SharedAnswers:
    """The completed answers of objects many operations share, by object, selection and scope.

    `shared` builds one GraphQL object per row of the business context that
    registry/handling.py keeps per registry version (`shared`), and the handlings derived
    from it are shared by every customer in the same situation: a customer's ~400 handlings
    are then the same objects as the last customer's. Their answers are a function of the
    object, the selection, the scope (role, date and the variables the selection uses) and
    the registry version, and an object never outlives
    its version (a write makes the next reads load new rows and build new objects), so an
    answer is reused while its object lives. Entries hold weak references to their objects
    and the selection nodes themselves, so a recycled id never matches; the limit bounds
    the memory. The answers are shared: nothing may change them (nothing does; they are
    only encoded). An entry refers to its document weakly too: while the document lives, the
    ids of its selection nodes name them, and no entry keeps a document (a large one the
    document cache refused to keep, say) alive after its request.
    """

    LIMIT = 50_000

    def __init__(self) -> None:
        self._entries: dict[tuple, tuple[weakref.ref, tuple, dict[str, Any]]] = {}

    def get_all(self, objects: list[Any], document: Any, selections: tuple,
                scope: tuple) -> list[dict[str, Any] | None]:
        """Each object's answer, or None; the selections match by identity, within the very
        document they belong to."""
        where = (tuple(map(id, selections)), scope)
        found: list[dict[str, Any] | None] = []
        for obj in objects:
            entry = self._entries.get((id(obj), where))
            found.append(entry[2] if entry is not None and entry[0]() is obj and entry[1]() is document else None)
        return found

    def put_all(self, objects: list[Any], document: Any, selections: tuple, scope: tuple,
                answers: list[dict[str, Any]]) -> None:
        if len(self._entries) + len(objects) > self.LIMIT:
            self._entries.clear()
        where = (tuple(map(id, selections)), scope)
        of_document = weakref.ref(document)
        for obj, answer in zip(objects, answers):
            try:
                reference = weakref.ref(obj)
            except TypeError:
                return
            self._entries[(id(obj), where)] = (reference, of_document, answer)




def unwind(coroutine: Coroutine, awaited: Any, unwinding: set[asyncio.Task]) -> None:
    """Finishes, cancelled, a coroutine nobody will step on any more (the operation was
    cancelled by its timeout, or a sibling failed). Closing it would cut short what its
    await is inside, a query on a pooled connection among them, whose clean-up must itself
    await (SQLAlchemy closes an asyncpg connection gracefully) and which `close()` leaves
    with its socket open; CancelledError thrown in at that await lets every handler run.
    `unwinding` holds the task until it is done: the loop keeps tasks only weakly."""
    task = asyncio.get_running_loop().create_task(_cancelled(coroutine, awaited))
    unwinding.add(task)
    task.add_done_callback(unwinding.discard)


async def _cancelled(coroutine: Coroutine, awaited: Any) -> None:
    error: BaseException | None = asyncio.CancelledError()
    while True:
        try:
            awaited = coroutine.throw(error) if error is not None else coroutine.send(None)
        except BaseException:  # it ended, as it may: nobody reads what it answers
            return
        error = None
        if asyncio.isfuture(awaited):
            hooks.wait_on(awaited)
            await asyncio.wait({awaited})
        else:
            await asyncio.sleep(0)


async def await_together(coroutines: list[Coroutine], unwinding: set[asyncio.Task]) -> list[Any]:
    """The coroutines' results, run side by side inside the current task.

    `asyncio.gather` would wrap each coroutine in a task of its own, several microseconds
    apiece: for the data map's 7,000 resolvers that was a third of the fast path's time.
    Here each coroutine is stepped by hand up to the future it waits on (a DataLoader's
    answer, a lock, a query), and the current task waits until any of those futures is
    done, then steps on the coroutines whose futures are. A batch of DataLoader futures
    completes at once, so a level takes as many rounds as its resolvers have awaits.
    """
    results: list[Any] = [None] * len(coroutines)
    waiting: list[tuple[int, Coroutine, Any]] = []

    def step(n: int, coroutine: Coroutine) -> None:
        try:
            awaited = coroutine.send(None)
        except StopIteration as finished:
            results[n] = finished.value
            return
        if awaited is not None:
            if not asyncio.isfuture(awaited):
                raise RuntimeError(f"a resolver awaited {awaited!r}, not an asyncio future")
            hooks.wait_on(awaited)
        waiting.append((n, coroutine, awaited))

    try:
        for n, coroutine in enumerate(coroutines):
            step(n, coroutine)
        while waiting:
            if not any(future is None or future.done() for _, _, future in waiting):
                await asyncio.wait({future for _, _, future in waiting}, return_when=asyncio.FIRST_COMPLETED)
            elif any(future is None for _, _, future in waiting):
                await asyncio.sleep(0)  # a coroutine yielded to the loop: let it turn once
            ready = [entry for entry in waiting if entry[2] is None or entry[2].done()]
            waiting = [entry for entry in waiting if not (entry[2] is None or entry[2].done())]
            for index, (n, coroutine, _) in enumerate(ready):
                try:
                    step(n, coroutine)
                except BaseException:
                    waiting += ready[index + 1:]  # stopped, not yet stepped on: unwound below
                    raise
    finally:
        for _, coroutine, awaited in waiting:
            unwind(coroutine, awaited, unwinding)
        for coroutine in coroutines:
            if inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                coroutine.close()
    return results
