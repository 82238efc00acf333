"""The private hooks of schema/hooks.py still work: each test names the hook an upgrade of
Strawberry, graphql-core or CPython broke (they were checked on strawberry-graphql 0.341.2,
graphql-core 3.3.2 and CPython 3.11)."""

import asyncio

import pytest
import strawberry
from graphql import GraphQLSchema

from schema import build_schema, hooks


@strawberry.type
class _Query:
    @strawberry.field
    def greeting(self, name: str = "you") -> str:
        return f"hello {name}"


SCHEMA = strawberry.Schema(query=_Query)


def test_hook_graphql_schema_is_the_graphql_core_schema():
    assert isinstance(hooks.graphql_schema(SCHEMA), GraphQLSchema)


def test_hook_scalar_registry_holds_the_gateways_date_scalar():
    registry = hooks.scalar_registry(build_schema())
    assert any(getattr(definition, "name", None) == "Date" for definition in registry.values())


def test_hook_strawberry_definition_reaches_types_and_fields():
    query_type = hooks.graphql_schema(SCHEMA).query_type
    assert hooks.strawberry_definition(query_type).origin is _Query
    field = hooks.strawberry_definition(query_type.fields["greeting"])
    assert field.python_name == "greeting" and field.base_resolver is not None


def test_hook_convert_arguments_gives_a_resolver_its_arguments():
    field = hooks.strawberry_definition(hooks.graphql_schema(SCHEMA).query_type.fields["greeting"])
    assert hooks.convert_arguments({"name": "Hanako"}, field, SCHEMA, info=None) == {"name": "Hanako"}


async def test_hook_provided_operation_name_is_what_the_client_sent():
    seen = []

    class Note(strawberry.extensions.SchemaExtension):
        def on_validate(self):
            seen.append(hooks.provided_operation_name(self.execution_context))
            yield

    schema = strawberry.Schema(query=_Query, extensions=[Note])
    await schema.execute("query A { greeting } query B { greeting }", operation_name="B")
    await schema.execute("query Only { greeting }")
    assert seen == ["B", None]


async def test_hook_wait_on_lets_a_hand_stepped_coroutine_wait_on_a_future():
    future = asyncio.get_running_loop().create_future()

    async def waits() -> str:
        return await future

    coroutine = waits()
    yielded = coroutine.send(None)
    assert yielded is future and future._asyncio_future_blocking is True  # what a Task looks for
    hooks.wait_on(future)
    assert future._asyncio_future_blocking is False
    future.set_result("done")
    with pytest.raises(StopIteration) as finished:
        coroutine.send(None)
    assert finished.value.value == "done"


def test_hook_type_directives_reach_one_build_and_keep_type_directives_pins_them_on_it():
    from strawberry.federation.schema_directives import Key

    @strawberry.type
    class Thing:
        code: str

    @strawberry.type
    class Things:
        thing: Thing

    extra = {Thing: [Key(fields="code")]}
    with hooks.type_directives(extra):
        federated = strawberry.federation.Schema(query=Things)
    hooks.keep_type_directives(federated, extra)
    assert '@key(fields: "code"' in federated.as_str() and "_entities" in federated.as_str()
    assert not Thing.__strawberry_definition__.directives  # the shared definition is as it was
    assert "@key" not in strawberry.Schema(query=Things).as_str()
