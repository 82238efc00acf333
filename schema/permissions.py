"""Strawberry permission classes that enforce the registry's role matrix.

`Requires[capability]` denies a field with a GraphQL error whose `extensions.code` is
FORBIDDEN (or UNAUTHENTICATED when nobody is calling). Personal-data fields use it with
`fail_silently`, so they read as null for roles that may not see them.

A mutation's root fields run one after another, each committing its own write, so a
refusal found only when its turn came would leave the writes before it committed and
their answers lost (`data` is null). `CheckMutationRoots` therefore checks every root
field of a mutation before any runs, and refuses the whole operation when one is denied.
"""

from collections.abc import Iterator
from functools import cache
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from registry.access import Capability
from schema import hooks


@cache
def requires(capability: Capability) -> type[BasePermission]:
    """The permission class demanding `capability` of the caller's role."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        caller = info.context.caller
        if caller is None:
            raise _unauthenticated()
        return caller.can(capability)

    # named per capability: the name is also the schema directive documenting the rule
    name = "Requires" + capability.name.title().replace("_", "")
    return type(name, (BasePermission,), {
        "capability": capability,
        "message": f"Your role may not {capability.value}.",
        "error_extensions": {"code": "FORBIDDEN"},
        "has_permission": has_permission,
    })


def deny(capability: Capability) -> list[FieldExtension]:
    """Field extensions enforcing `capability` with an error."""
    return [PermissionExtension(permissions=[requires(capability)()])]


def hide(capability: Capability) -> list[FieldExtension]:
    """Field extensions making a nullable field read null without `capability`."""
    return [PermissionExtension(permissions=[requires(capability)()], fail_silently=True)]


def _unauthenticated() -> GraphQLError:
    return GraphQLError("Authentication required: send Authorization: Bearer <token>.",
                        extensions={"code": "UNAUTHENTICATED"})


@cache
def mutation_capabilities(schema: GraphQLSchema) -> dict[str, tuple[Capability, ...]]:
    """What each root field of the schema's Mutation demands, from its permission extensions."""
    found: dict[str, tuple[Capability, ...]] = {}
    for name, field in (schema.mutation_type.fields if schema.mutation_type else {}).items():
        definition = hooks.strawberry_definition(field)
        found[name] = tuple(
            permission.capability
            for extension in getattr(definition, "extensions", ())
            if isinstance(extension, PermissionExtension) and not extension.fail_silently
            for permission in extension.permissions if hasattr(permission, "capability")
        )
    return found


class CheckMutationRoots(SchemaExtension):
    """Refuses a mutation whose caller may not run every one of its root fields, before any runs.

    Root fields are found through fragments and inline fragments; `@skip` and `@include`
    are not evaluated, so a denied field is refused even where a directive would skip it.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = _chosen_operation(document, context.operation_name) if document else None
        if operation is not None and operation.operation is OperationType.MUTATION and context.result is None:
            errors = self._denials(operation, document, context.context)
            if errors:
                context.result = ExecutionResult(data=None, errors=errors)
        yield

    def _denials(self, operation: OperationDefinitionNode, document, request_context: Any) -> list[GraphQLError]:
        caller = getattr(request_context, "caller", None)
        demands = mutation_capabilities(hooks.graphql_schema(self.execution_context.schema))
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        errors = []
        for node in _root_fields(operation.selection_set, fragments):
            for capability in demands.get(node.name.value, ()):
                if caller is None:
                    return [_unauthenticated()]
                if not caller.can(capability):
                    key = (node.alias or node.name).value
                    errors.append(GraphQLError(
                        f"Your role may not {capability.value}: nothing in this mutation was run.",
                        nodes=[node], path=[key], extensions={"code": "FORBIDDEN"},
                    ))
        return errors


def _chosen_operation(document, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _root_fields(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]) -> list[FieldNode]:
    fields, pending, seen = [], [selection_set], set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                fields.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                if selection.name.value in fragments:
                    pending.append(fragments[selection.name.value].selection_set)
    return fields
