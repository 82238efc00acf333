"""The response cache: reused only for the same query, variables, role and day, at the same
registry version; never for mutations, errors, or another token's `viewer`."""

from datetime import timedelta

import orjson
import pytest

from registry import version
from registry.clock import Clock
from registry.enums import Role
from schema import build_schema
from schema.cache import CacheResponses, Key, ResponseCache
from schema.context import Caller, Context
from schema.ids import encode
from tests import factories as f
from tests.conftest import FIXED_NOW
from tests.statements import Statements

CUSTOMER = "query Customer($id: ID!) { customer(id: $id) { externalRef displayName } }"
SUBCONTRACTORS = "{ subcontractors(first: 10) { totalCount edges { node { name } } } }"


@pytest.fixture
async def customer_id(db) -> str:
    async with db.session(write=True) as session:
        biz = await f.business(session)
        customer = await f.customer(session, biz, display_name="Hanako Yamada")
        await f.subcontractor(session, name="First K.K.")
        await session.commit()
    return encode("Customer", customer.id)


@pytest.fixture
def cache() -> ResponseCache:
    return ResponseCache(max_bytes=1 << 20)


@pytest.fixture
def schema(cache):
    return build_schema(cache=cache)


async def run(schema, db, clock, query, variables=None, *, role=Role.ADMIN, name="test"):
    context = Context(database=db, clock=clock, caller=Caller(name, role))
    return await schema.execute(query, variable_values=variables, context_value=context)


def data(result) -> dict:
    """The answer as the client reads it (a hit's data is the cached JSON itself)."""
    assert not result.errors, result.errors
    return orjson.loads(orjson.dumps(result.data))


# --- The cache itself -------------------------------------------------------------------


def key(n: int) -> Key:
    return Key(query=f"{{ q{n} }}", operation_name=None, variables=b"{}", role="ADMIN", today="2026-11-25",
               caller_name=None)


def test_the_size_bound_evicts_the_least_recently_used():
    answer = {"x": "y" * 80}
    entry = len(orjson.dumps(answer)) + len(key(1).query) + len(key(1).variables)
    cache = ResponseCache(max_bytes=2 * entry)
    cache.put(1, key(1), answer)
    cache.put(1, key(2), answer)
    assert cache.get(1, key(1)) is not None  # key 2 is now the least recently used
    cache.put(1, key(3), answer)
    assert cache.get(1, key(2)) is None
    assert cache.get(1, key(1)) is not None and cache.get(1, key(3)) is not None
    assert cache.stats().bytes == 2 * entry <= cache.max_bytes


def test_an_answer_larger_than_the_whole_bound_is_not_kept():
    cache = ResponseCache(max_bytes=50)
    cache.put(1, key(1), {"x": "y" * 100})
    assert cache.get(1, key(1)) is None
    assert cache.stats().entries == 0


def test_a_newer_version_drops_every_entry_and_an_older_one_is_ignored():
    cache = ResponseCache(max_bytes=10_000)
    cache.put(1, key(1), {"v": 1})
    assert cache.get(2, key(1)) is None  # version 2 seen: version 1's answers are gone
    cache.put(1, key(1), {"v": 1})  # a reader still at version 1 stores nothing
    assert cache.get(1, key(1)) is None
    assert cache.stats().entries == 0
    cache.put(2, key(1), {"v": 2})
    assert orjson.loads(cache.get(2, key(1))) == {"v": 2}


def test_the_bare_schema_and_a_zero_byte_cache_cache_nothing():
    def caching(schema) -> bool:
        return any(getattr(e, "func", e) is CacheResponses for e in schema.extensions)

    assert not caching(build_schema())
    assert not caching(build_schema(cache=ResponseCache(max_bytes=0)))
    assert caching(build_schema(cache=ResponseCache(max_bytes=1)))


# --- Through the schema -------------------------------------------------------------------


async def test_a_hit_answers_identically_without_a_session(schema, db, clock, customer_id, cache):
    first = data(await run(schema, db, clock, CUSTOMER, {"id": customer_id}))
    with Statements(db.reader, db.writer) as statements:
        again = data(await run(schema, db, clock, CUSTOMER, {"id": customer_id}))
    assert again == first == {"customer": {"externalRef": first["customer"]["externalRef"],
                                           "displayName": "Hanako Yamada"}}
    assert statements.count == 0  # the version is read outside the engines' sessions
    assert (cache.stats().hits, cache.stats().misses) == (1, 1)


async def test_variables_are_part_of_the_key_in_any_order(schema, db, clock, customer_id, cache):
    query = "query($id: ID!, $n: Int) { customer(id: $id) { externalRef } subcontractors(first: $n) { totalCount } }"
    await run(schema, db, clock, query, {"id": customer_id, "n": 5})
    await run(schema, db, clock, query, {"n": 5, "id": customer_id})
    assert cache.stats().hits == 1
    assert data(await run(schema, db, clock, query, {"id": encode("Customer", 999), "n": 5}))["customer"] is None


async def test_roles_never_share_an_answer(schema, db, clock, customer_id):
    admin = data(await run(schema, db, clock, CUSTOMER, {"id": customer_id}, role=Role.ADMIN))
    viewer = data(await run(schema, db, clock, CUSTOMER, {"id": customer_id}, role=Role.VIEWER))
    assert admin["customer"]["displayName"] == "Hanako Yamada"
    assert viewer["customer"]["displayName"] is None


async def test_viewer_answers_are_per_token_name(schema, db, clock):
    query = "query Who { viewer { name role } }"
    assert data(await run(schema, db, clock, query, name="alice"))["viewer"]["name"] == "alice"
    assert data(await run(schema, db, clock, query, name="bob"))["viewer"]["name"] == "bob"
    assert data(await run(schema, db, clock, query, name="alice"))["viewer"]["name"] == "alice"


async def test_a_new_business_day_is_a_new_answer(schema, db, cache):
    today = Clock(timezone="Asia/Tokyo", fixed=FIXED_NOW)
    tomorrow = Clock(timezone="Asia/Tokyo", fixed=FIXED_NOW + timedelta(days=1))
    await run(schema, db, today, SUBCONTRACTORS)
    await run(schema, db, tomorrow, SUBCONTRACTORS)
    assert cache.stats().hits == 0


async def test_answers_with_errors_are_not_cached(schema, db, clock, cache):
    query = "{ subcontractors(first: 100000) { totalCount } }"  # a refused page size
    for _ in range(2):
        assert (await run(schema, db, clock, query)).errors
    assert cache.stats().entries == 0 and cache.stats().hits == 0


async def test_mutations_are_not_cached_and_the_next_query_sees_them(schema, db, clock, cache):
    mutation = """mutation { createSubcontractor(input: {name: "Second K.K.", country: "JP"}) {
        subcontractor { name } errors { code } } }"""
    before = data(await run(schema, db, clock, SUBCONTRACTORS))["subcontractors"]["totalCount"]
    for _ in range(2):
        assert data(await run(schema, db, clock, mutation))["createSubcontractor"]["errors"] == []
    assert (cache.stats().hits, cache.stats().misses) == (0, 1)  # mutations are never looked up
    assert data(await run(schema, db, clock, SUBCONTRACTORS))["subcontractors"]["totalCount"] == before + 2
    assert (cache.stats().hits, cache.stats().entries) == (0, 1)  # the older version's answer is gone


async def test_without_a_latest_version_the_context_reads_the_one_its_session_sees(db, clock, monkeypatch):
    async def unreadable() -> None:
        return None

    monkeypatch.setattr(db, "latest_version", unreadable)
    context = Context(database=db, clock=clock, caller=Caller("test", Role.ADMIN))
    with Statements(db.reader) as statements:
        assert await context.registry_version() == 0
    assert statements.count == 1
    await context.finish()


async def test_once_the_read_session_is_open_the_version_is_the_one_it_sees(db, clock):
    context = Context(database=db, clock=clock, caller=Caller("test", Role.ADMIN))
    assert await context.run(version.current) == 0  # the read session's snapshot is taken
    async with db.session(write=True) as session:
        await f.subcontractor(session)
        await session.commit()
    assert await db.latest_version() == 1
    assert await context.registry_version() == 0  # what the operation reads is of version 0
    await context.finish()


async def test_a_mutation_payload_reads_after_its_write(db, clock):
    context = Context(database=db, clock=clock, caller=Caller("test", Role.ADMIN))
    assert await context.registry_version() == 0
    async with context.writing() as session:
        await f.subcontractor(session)
        await session.commit()
    assert await context.registry_version() == 1
    await context.finish()
