"""The fast path answers exactly as graphql-core does, or steps aside.

Each query runs twice on the same registry: through Strawberry and graphql-core with the
fast path off, and through `execute_fast`; the two answers must be the same JSON, keys in
the same order. Besides the dashboards' queries (bench/queries.py), a query selecting
every field reachable without required arguments is generated from the schema itself, so
a field added later is compared too.
"""

import json
from dataclasses import dataclass

import pytest
import strawberry
from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLUnionType,
    is_leaf_type,
    parse,
)

from bench.queries import Q_HANDLINGS, Q_MAP
from registry import migrate
from registry.db import Database
from registry.demo import seed_demo
from registry.enums import Role
from registry.scale import seed_scale
from schema import Limits, build_schema
from schema.context import Caller, Context
from registry.clock import Clock
from registry.handling import BusinessContexts
from schema.types import SHARED_TYPES
from schema.execution import FastPath, StepAsideRefused, execute_fast, unplanned_fields
from schema.execution.executor import await_together
from schema.ids import encode

LOOSE = Limits(max_depth=30, max_tokens=200_000, max_aliases=500)


@pytest.fixture(params=["demo", "scale"])
async def registry(request, database_url, clock):
    """A migrated registry holding the demo data or a small scale dataset."""
    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    if request.param == "demo":
        async with database.session(write=True) as session:
            await seed_demo(session, clock=clock)
    else:
        await seed_scale(database, customers=40, subcontractors=25, clock=clock)
    yield database
    await database.dispose()


@pytest.fixture(scope="module")
def schema():
    return build_schema(LOOSE, fast_path=False)


async def answers(schema, database, clock, query: str, variables: dict | None = None, *,
                  role: Role = Role.ADMIN, operation_name: str | None = None):
    """(graphql-core's result, the fast path's data) for one operation."""
    variables = variables or {}
    context = Context(database=database, clock=clock, caller=Caller(f"test-{role}", role))
    slow = await schema.execute(query, variable_values=variables, context_value=context,
                                operation_name=operation_name)
    context = Context(database=database, clock=clock, caller=Caller(f"test-{role}", role))
    try:
        fast = await execute_fast(schema, parse(query), operation_name, variables, context)
    finally:
        await context.finish()
    return slow, fast


async def assert_same(schema, database, clock, query: str, variables: dict | None = None, *,
                      role: Role = Role.ADMIN, operation_name: str | None = None) -> dict:
    slow, fast = await answers(schema, database, clock, query, variables, role=role, operation_name=operation_name)
    assert slow.errors is None, slow.errors
    assert fast is not None, "the fast path stepped aside"
    assert json.dumps(fast) == json.dumps(slow.data)
    return fast


def every_field(type_, depth: int) -> str:
    """A selection of every field of `type_` that takes no required argument, `depth` levels down."""
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    if is_leaf_type(type_):
        return ""
    if isinstance(type_, GraphQLUnionType):
        return "{ __typename " + " ".join(f"... on {t.name} {every_field(t, depth)}" for t in type_.types) + " }"
    parts = ["__typename"]
    for name, field in type_.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) and arg.default_value is None for arg in field.args.values()):
            continue
        inner = field.type
        while isinstance(inner, (GraphQLNonNull, GraphQLList)):
            inner = inner.of_type
        if is_leaf_type(inner):
            parts.append(name)
        elif depth > 0:
            parts.append(name + " " + every_field(inner, depth - 1))
    if isinstance(type_, GraphQLInterfaceType):
        parts.append("... on Subcontractor { corporateNumber } ... on ThirdPartyRecipient { kind }")
    return "{ " + " ".join(parts) + " }"


def root_query(schema, field: str, depth: int, arguments: str = "") -> str:
    selection = every_field(schema._schema.query_type.fields[field].type, depth)
    return f"{{ {field}{arguments} {selection} }}"


# --- The same answers ------------------------------------------------------------------------


async def test_the_dashboards_queries_are_answered_identically(schema, registry, clock):
    data = await assert_same(schema, registry, clock, Q_MAP, {"first": 1000}, operation_name="QMap")
    assert data["subcontractors"]["edges"], "a data map with nothing in it proves nothing"
    for include_excluded in (False, True):
        query = Q_HANDLINGS.replace("handlings {", f"handlings(includeExcluded: {json.dumps(include_excluded)}) {{")
        for key in range(1, 9):
            variables = {"id": encode("Customer", key)}
            await assert_same(schema, registry, clock, query, variables, operation_name="QHandlings")


async def test_every_field_reachable_is_answered_identically(schema, registry, clock):
    for field in ("businesses", "subcontractors", "customers", "thirdPartyRecipients", "provisionRecords",
                  "complianceFindings", "auditEvents", "viewer"):
        await assert_same(schema, registry, clock, root_query(schema, field, depth=3))
    for key in (1, 2, 3):
        arguments = f'(id: "{encode("Customer", key)}")'
        await assert_same(schema, registry, clock, root_query(schema, "customer", depth=3, arguments=arguments))
    await assert_same(schema, registry, clock, '{ customer(id: "not an id") { externalRef } }')  # null, no error


async def test_each_role_sees_what_graphql_core_shows_it(schema, registry, clock):
    """Personal data reads null for roles without READ_PERSONAL_DATA, on both paths."""
    query = "{ customers(first: 20) { edges { node { externalRef displayName email disclosure } } } }"
    for role in Role:
        slow, fast = await answers(schema, registry, clock, query, role=role)
        if slow.errors:  # a role that may not list customers at all: graphql-core reports it
            assert fast is None
        else:
            assert json.dumps(fast) == json.dumps(slow.data)


async def test_fragments_aliases_typenames_and_directives_follow_the_spec(schema, registry, clock):
    query = """
    query Shapes($withContracts: Boolean!, $skipName: Boolean!, $first: Int) {
      page: subcontractors(first: $first) {
        edges { node { ...Vendor  again: name name @skip(if: $skipName) } }
        edges { node { id contracts @include(if: $withContracts) { reference } } }
      }
      holder: customers(first: 5) {
        edges { node { handlings(includeExcluded: true) {
          party { __typename name ... on Subcontractor { corporateNumber parent { name } } ... on Business { code } }
          contract { ...Terms }
          exclusionReasons
        } } }
      }
    }
    fragment Vendor on Subcontractor { __typename id country ...Vendor2 }
    fragment Vendor2 on Party { name }
    fragment Terms on Contract { reference status clauses }
    """
    for with_contracts, skip_name in ((True, False), (False, True)):
        variables = {"withContracts": with_contracts, "skipName": skip_name, "first": 7}
        await assert_same(schema, registry, clock, query, variables, operation_name="Shapes")
    for type_name in ("Business", "Subcontractor", "Contract", "Customer", "Purpose", "DataItem", "Entrustment"):
        query = f'{{ node(id: "{encode(type_name, 1)}") {{ __typename id ... on Party {{ name }} }} }}'
        await assert_same(schema, registry, clock, query)


# --- Stepping aside --------------------------------------------------------------------------

STEP_ASIDE = [
    ("{ __schema { queryType { name } } }", {}),  # introspection
    ("query($n: Int) { subcontractors(first: $n) { totalCount } }", {"n": "many"}),  # variables that do not coerce
    ("{ subcontractors(first: 100000) { totalCount } }", {}),  # a refused argument: an error
    ('mutation { revokeToken(id: "x") { errors { code } } }', {}),  # never a mutation
]


async def test_it_steps_aside_when_graphql_core_must_answer_and_says_why(schema, registry, clock):
    fast_path = FastPath(strict=True)  # each of these is by design: strict mode lets them through
    for query, variables in STEP_ASIDE:
        context = Context(database=registry, clock=clock, caller=Caller("test", Role.ADMIN))
        try:
            assert await execute_fast(schema, parse(query), None, variables, context, fast_path=fast_path) is None, query
        finally:
            await context.finish()
    assert fast_path.fallbacks == {"introspection": 1, "errors": 1, "resolver-error": 1, "operation": 1}


def test_the_fast_path_plans_every_field_of_the_served_schema():
    assert unplanned_fields(build_schema()) == {}


@strawberry.type
class _Curious:
    @strawberry.field
    def named(self, info: strawberry.Info) -> str:
        return info.field_name  # more of `info` than the context: the fast path does not model it


@strawberry.type
class _CuriousQuery:
    @strawberry.field
    def curious(self) -> _Curious:
        return _Curious()


async def test_a_resolver_reading_its_info_steps_aside_counted_and_refused_in_strict_mode():
    """The issue's case: one harmless `info.field_name` made the data map 5.6x slower, silently."""
    curious = strawberry.Schema(query=_CuriousQuery)
    relaxed = FastPath()
    assert await execute_fast(curious, parse("{ curious { named } }"), None, {}, None, fast_path=relaxed) is None
    assert relaxed.fallbacks == {"info": 1}
    with pytest.raises(StepAsideRefused, match="info"):
        await execute_fast(curious, parse("{ curious { named } }"), None, {}, None, fast_path=FastPath(strict=True))


async def test_a_refusal_with_an_error_is_left_to_graphql_core(schema, registry, clock):
    """History needs READ_HISTORY: a VIEWER gets graphql-core's FORBIDDEN error, not a silent null."""
    query = "{ subcontractors(first: 2) { edges { node { history { totalCount } } } } }"
    slow, fast = await answers(schema, registry, clock, query, role=Role.VIEWER)
    assert fast is None
    assert slow.errors and slow.errors[0].extensions["code"] == "FORBIDDEN"


# --- The coroutine driver --------------------------------------------------------------------


async def test_await_together_returns_results_in_order_and_shares_a_lock():
    import asyncio

    lock = asyncio.Lock()
    order: list[int] = []

    async def work(n: int) -> int:
        async with lock:  # the second waits on the first's lock: no deadlock
            await asyncio.sleep(0)
            order.append(n)
        await asyncio.sleep(0.001 * (3 - n))
        return n * 10

    assert await await_together([work(n) for n in range(3)], set()) == [0, 10, 20]
    assert sorted(order) == [0, 1, 2]


async def test_await_together_raises_the_first_error_and_cancels_the_rest_through_their_clean_up():
    """The others are cancelled, not closed: a clean-up that itself awaits (SQLAlchemy closing
    an asyncpg connection whose query was cut off) runs to its end, or the socket stays open."""
    import asyncio

    cleaned: list[int] = []

    async def work(n: int) -> int:
        try:
            await asyncio.sleep(0.01 * n)
            if n == 1:
                raise ValueError("boom")
            return n
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)  # a clean-up that awaits
            cleaned.append(n)
            raise

    with pytest.raises(ValueError, match="boom"):
        await await_together([work(n) for n in range(3)], set())
    await asyncio.sleep(0.05)
    assert cleaned == [2]


async def test_a_cancelled_await_together_cancels_every_coroutine_through_its_clean_up():
    import asyncio

    cleaned: list[int] = []

    async def work(n: int) -> int:
        try:
            await asyncio.sleep(1)
            return n
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)
            cleaned.append(n)
            raise

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.02):
            await await_together([work(n) for n in range(3)], set())
    await asyncio.sleep(0.05)
    assert sorted(cleaned) == [0, 1, 2]


# --- Answers shared across operations ----------------------------------------------------------

SHARED_QUERY = """query($id: ID!) { customer(id: $id) { handlings { party { name } role contract { reference status } } } }"""
SHARED_DOCUMENT = parse(SHARED_QUERY)  # one parse, as the gateway's parser cache gives every request


@pytest.fixture
def app_reads():
    """What an app keeps across its operations: the fast path's shared answers and the business contexts."""
    return FastPath(strict=True, shared_types=SHARED_TYPES), BusinessContexts()


async def fast_answer(schema, database, clock, variables, reads, role=Role.ADMIN):
    fast_path, contexts = reads
    context = Context(database=database, clock=clock, caller=Caller("test", role), business_contexts=contexts)
    try:
        return await execute_fast(schema, SHARED_DOCUMENT, None, variables, context, fast_path=fast_path)
    finally:
        await context.finish()


async def test_handling_answers_are_shared_within_a_version_and_scope_and_rebuilt_after_a_write(
        schema, registry, clock, app_reads):
    from registry import subcontractors

    variables = {"id": encode("Customer", 1)}
    first = (await fast_answer(schema, registry, clock, variables, app_reads))["customer"]["handlings"]
    again = (await fast_answer(schema, registry, clock, variables, app_reads))["customer"]["handlings"]
    assert len(first) > 1 and all(a is b for a, b in zip(first, again))  # one answer per handling object
    viewer = (await fast_answer(schema, registry, clock, variables, app_reads, role=Role.VIEWER))["customer"]["handlings"]
    assert viewer == first and not any(a is b for a, b in zip(first, viewer))  # roles never share

    named = next(h for h in first if h["role"] == "SUBCONTRACTOR")
    async with registry.session(write=True) as session:
        rows = await subcontractors.subcontractors_by_ids(session, list(range(1, 200)))
        sub = next(s for s in rows.values() if s.name == named["party"]["name"])
        await subcontractors.update_subcontractor(session, actor="test", id=sub.id, expected_version=sub.version,
                                                  changes={"name": "Renamed after the answer was shared"},
                                                  today=clock.today())
    after = (await fast_answer(schema, registry, clock, variables, app_reads))["customer"]["handlings"]
    names = [h["party"]["name"] for h in after]
    assert "Renamed after the answer was shared" in names and named["party"]["name"] not in names
    slow, _ = await answers(schema, registry, clock, SHARED_QUERY, variables)
    assert json.dumps(slow.data["customer"]["handlings"]) == json.dumps(after)


@pytest.fixture
async def scale_registry(database_url, clock):
    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    await seed_scale(database, customers=60, subcontractors=10, clock=clock)
    yield database
    await database.dispose()


async def test_customers_in_the_same_situation_share_their_handling_answers(schema, scale_registry, clock, app_reads):
    """The customer's id is a variable of the query but not of the handlings' selection, so two
    customers holding the same items, active and with no request, get the very same answers."""
    import sqlalchemy as sa

    from registry.models import Customer, CustomerDataItem, DataSubjectRequest
    from registry.periods import in_effect

    registry = scale_registry
    today = clock.today()
    async with registry.session() as session:
        held = (await session.exec(sa.select(CustomerDataItem.customer_id, CustomerDataItem.data_item_id)
                                   .where(in_effect(CustomerDataItem, today)))).all()
        plain = set((await session.exec(sa.select(Customer.id).where(
            Customer.cancelled_on.is_(None), Customer.registered_on <= today,
            Customer.id.not_in(sa.select(DataSubjectRequest.customer_id))))).scalars())
    items: dict[int, set[int]] = {}
    for customer, item in held:
        items.setdefault(customer, set()).add(item)
    by_items: dict[frozenset, list[int]] = {}
    for customer in sorted(plain & items.keys()):
        by_items.setdefault(frozenset(items[customer]), []).append(customer)
    pair = next((ids[:2] for ids in by_items.values() if len(ids) > 1), None)
    assert pair is not None, "no two customers in the same situation: this registry proves nothing here"
    first, second = [(await fast_answer(schema, registry, clock, {"id": encode("Customer", key)}, app_reads))
                     ["customer"]["handlings"] for key in pair]
    assert first and all(a is b for a, b in zip(first, second, strict=True))


# --- The sharing rule ----------------------------------------------------------------------------


class _Refused:
    """Stands for what a shared answer may not depend on: any use of it fails the test."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str):
        raise AssertionError(f"a field under a shared type read {self._what}.{name}")


@dataclass(frozen=True)
class _RoleOnly:
    """A caller whose role may be read (answers are shared per role), not its name."""

    role: Role

    def can(self, capability) -> bool:
        return Caller("unused", self.role).can(capability)

    @property
    def name(self):
        raise AssertionError("a field under a shared type read the caller's name")


@dataclass(frozen=True)
class _DateOnly:
    """A clock whose date and zone may be read (answers are shared per business date), not its time."""

    clock: Clock

    @property
    def timezone(self) -> str:
        return self.clock.timezone

    def today(self):
        return self.clock.today()

    def now(self):
        raise AssertionError("a field under a shared type read the time of day")


async def test_fields_under_shared_types_read_only_role_date_and_variables(schema, registry, clock, app_reads):
    fast_path, contexts = app_reads
    assert SHARED_TYPES == {"Handling"}
    for shared_type in SHARED_TYPES:
        selection = every_field(schema._schema.type_map[shared_type], 3)
        query = f'query ($id: ID!) {{ customer(id: $id) {{ handlings(includeExcluded: true) {selection} }} }}'
        context = Context(database=registry, clock=_DateOnly(clock), caller=_RoleOnly(Role.ADMIN),
                          business_contexts=contexts, request=_Refused("the request"),
                          response=_Refused("the response"))
        try:
            data = await execute_fast(schema, parse(query), None, {"id": encode("Customer", 1)}, context,
                                      fast_path=fast_path)
        finally:
            await context.finish()
        assert data is not None and data["customer"]["handlings"], fast_path.fallbacks
