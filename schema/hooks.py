"""The private parts of Strawberry and asyncio the gateway relies on, in one place.

Each hook below is something a public API does not offer (checked on strawberry-graphql
0.341.2, graphql-core 3.3.2, CPython 3.11): the fast executor (schema/execution/executor.py) builds on
them, and so do the document checks and the mutation permissions. tests/schema/test_hooks.py
fails, naming the hook, when an upgrade changes one; then mend it here, not at every use.
"""

import asyncio
import copy
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from graphql import GraphQLSchema
from strawberry.types.arguments import convert_arguments as _convert_arguments

DEFINITION = "strawberry-definition"  # the key of Strawberry's back-reference in a graphql-core type's extensions


def graphql_schema(schema: Any) -> GraphQLSchema:
    """The graphql-core schema Strawberry built (`Schema._schema`; no public accessor)."""
    return schema._schema


def scalar_registry(schema: Any) -> dict:
    """Strawberry's scalar definitions of the schema, with the gateway's overrides (Date)."""
    return schema.schema_converter.scalar_registry


def strawberry_definition(graphql_thing: Any) -> Any:
    """The Strawberry type or field behind a graphql-core type or field, or None."""
    return (graphql_thing.extensions or {}).get(DEFINITION)


def convert_arguments(arguments: dict, field: Any, schema: Any, info: Any) -> dict:
    """A field's arguments as its resolver takes them (Strawberry's own conversion: inputs to
    their classes, scalars parsed), as Strawberry does before calling a resolver."""
    return _convert_arguments(arguments, field.arguments, scalar_registry=scalar_registry(schema),
                              config=schema.config, info=info)


def provided_operation_name(execution_context: Any) -> str | None:
    """The operationName the client sent, before Strawberry infers one from the document."""
    return getattr(execution_context, "_provided_operation_name", None)


def wait_on(future: asyncio.Future) -> None:
    """Takes over a future a coroutine yielded, as a Task does before waiting on it: the
    coroutine is stepped by hand (schema/execution/executor.py `await_together`), and asyncio checks that
    whoever resumes it has cleared this flag."""
    future._asyncio_future_blocking = False


@contextmanager
def type_directives(extra: Mapping[type, Sequence[object]]) -> Iterator[None]:
    """While a schema is built, each type of `extra` carries those schema directives too.

    Strawberry reads an object type's directives from its definition, one per class and
    shared by every schema built from it; federation's `@key`s must reach the subgraph's
    schema and never the served one. Building a schema is synchronous, so no other build
    sees them; `keep_type_directives` then pins them on the built schema alone."""
    saved = {cls: cls.__strawberry_definition__.directives for cls in extra}
    try:
        for cls, directives in extra.items():
            cls.__strawberry_definition__.directives = [*(saved[cls] or ()), *directives]
        yield
    finally:
        for cls, directives in saved.items():
            cls.__strawberry_definition__.directives = directives


def keep_type_directives(schema: Any, extra: Mapping[type, Sequence[object]]) -> None:
    """The built `schema`'s types of `extra` keep those directives (its printed SDL shows
    them): each graphql-core type's back-reference becomes a copy of the shared definition
    with them, which nothing but this schema sees."""
    for graphql_type in graphql_schema(schema).type_map.values():
        definition = strawberry_definition(graphql_type)
        origin = getattr(definition, "origin", None)
        if origin in extra:
            copied = copy.copy(definition)
            copied.directives = [*(definition.directives or ()), *extra[origin]]
            graphql_type.extensions = {**graphql_type.extensions, DEFINITION: copied}
