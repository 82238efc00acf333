"""The registry version: every committed write raises it by one, in the write's transaction,
and the business contexts cached under it are never served once a write has moved it on."""

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from registry import migrate, subcontractors, version
from registry.db import Database
from registry.demo import seed_demo
from registry.errors import VersionConflict
from registry.handling import BusinessContexts, load_business_context, resolve_handlings
from registry.models import Business, RegistryVersion
from tests import factories as f
from tests.statements import Statements

TODAY = date(2026, 11, 25)


async def version_of(db: Database) -> int:
    async with db.session() as session:
        return await version.current(session)


# --- The version ------------------------------------------------------------------------


async def test_a_migrated_registry_starts_at_version_zero(database_url):
    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    try:
        assert await version_of(database) == 0
    finally:
        await database.dispose()


async def test_tables_created_from_the_models_hold_the_version_row_too(db):
    assert await version_of(db) == 0


async def test_every_committed_write_raises_the_version_by_one(db):
    async with db.session(write=True) as session:
        await f.subcontractor(session)
        await session.commit()
        assert await version_of(db) == 1
        await f.subcontractor(session)
        await f.subcontractor(session)
        await session.commit()
    assert await version_of(db) == 2


async def test_registry_services_bump_through_their_own_commit(db):
    async with db.session(write=True) as session:
        sub = await subcontractors.create_subcontractor(session, actor="test", name="Acme K.K.", country="JP")
        await subcontractors.update_subcontractor(session, actor="test", id=sub.id, expected_version=1,
                                                  changes={"name": "Acme Japan K.K."}, today=TODAY)
    assert await version_of(db) == 2


async def test_a_write_rolled_back_or_never_committed_leaves_the_version(db):
    async with db.session(write=True) as session:
        await f.subcontractor(session)
        await session.rollback()
    async with db.session(write=True) as session:
        await f.subcontractor(session)  # flushed, then the session closes without a commit
    assert await version_of(db) == 0


async def test_a_refused_write_leaves_the_version(db):
    async with db.session(write=True) as session:
        sub = await subcontractors.create_subcontractor(session, actor="test", name="Acme K.K.", country="JP")
    async with db.session(write=True) as session:
        with pytest.raises(VersionConflict):
            await subcontractors.update_subcontractor(session, actor="test", id=sub.id, expected_version=7,
                                                      changes={"name": "Stale K.K."}, today=TODAY)
    assert await version_of(db) == 1


async def test_a_commit_that_fails_takes_its_bump_with_it(db):
    async with db.session(write=True) as session:
        await f.business(session, code="twice")
        await session.commit()
    async with db.session(write=True) as session:
        session.add(Business(code="twice", name="Again", operator_name="Again", country="JP"))
        with pytest.raises(IntegrityError):
            await session.commit()  # the pending row is flushed by the commit, and refused
    assert await version_of(db) == 1


async def test_a_savepoint_is_part_of_its_transaction_and_bumps_with_it_once(db):
    async with db.session(write=True) as session:
        async with session.begin_nested():
            await f.subcontractor(session)
        await session.commit()
    assert await version_of(db) == 1


async def test_bulk_writes_on_a_bare_connection_bump_explicitly(db):
    async with db.writer.begin() as conn:
        await version.bump(conn)
    assert await version_of(db) == 1


async def test_the_demo_seed_bumps(db, clock):
    async with db.session(write=True) as session:
        assert await seed_demo(session, clock=clock)
    assert await version_of(db) > 0


async def test_a_registry_without_its_version_row_refuses_writes(db):
    async with db.writer.begin() as conn:
        await conn.execute(sa.delete(RegistryVersion))
    async with db.session(write=True) as session:
        await f.subcontractor(session)
        with pytest.raises(version.MissingVersionRow):
            await session.commit()
    async with db.session() as session:
        assert (await session.exec(sa.select(sa.func.count()).select_from(RegistryVersion))).one() == (0,)


async def test_a_read_session_reads_the_version_once_and_keeps_its_snapshot(db):
    async with db.session() as reader:
        with Statements(db.reader, db.writer) as statements:
            assert await version.current(reader) == 0
            assert await version.current(reader) == 0
        assert statements.count == 1
        async with db.session(write=True) as writer:
            await f.subcontractor(writer)
            await writer.commit()
        assert await version.current(reader) == 0  # one snapshot for the whole read, on both databases
    assert await version_of(db) == 1


async def test_a_writer_reads_the_version_afresh_after_each_commit(db):
    async with db.session(write=True) as session:
        assert await version.current(session) == 0
        await f.subcontractor(session)
        await session.commit()
        assert await version.current(session) == 1


# --- Business contexts cached under the version ----------------------------------------


@pytest.fixture
async def world(db):
    """A business, a customer holding their name, one contract entrusting it."""
    async with db.session(write=True) as session:
        biz = await f.business(session)
        items, purposes = await f.items(session, biz), await f.purposes(session, biz)
        customer = await f.customer(session, biz, [items["name"]])
        contract = await f.contract(session, biz, await f.subcontractor(session, name="First K.K."))
        await f.entrustment(session, contract, [purposes["P1"]], [items["name"]])
        await session.commit()
    return biz.id, customer.id


async def handlings_of(db: Database, customer_id: int, contexts: BusinessContexts | None = None) -> list[str]:
    async with db.session() as session:
        return [h.party.name for h in await resolve_handlings(session, customer_id, as_of=TODAY, contexts=contexts)]


async def test_a_new_contract_shows_in_handlings_at_once(db, world):
    biz_id, customer_id = world
    contexts = BusinessContexts()
    assert (await handlings_of(db, customer_id, contexts))[1:] == ["First K.K."]
    async with db.session(write=True) as session:
        biz = await session.get(Business, biz_id)
        contract = await f.contract(session, biz, await f.subcontractor(session, name="Second K.K."))
        await f.entrustment(session, contract, [(await f.purposes(session, biz))["P1"]],
                            [(await f.items(session, biz))["name"]])
        await session.commit()
    assert (await handlings_of(db, customer_id, contexts))[1:] == ["First K.K.", "Second K.K."]


async def test_a_context_read_at_the_same_version_is_not_read_again(db, world):
    biz_id, customer_id = world
    contexts = BusinessContexts()
    with Statements(db.reader) as first:
        await handlings_of(db, customer_id, contexts)
    with Statements(db.reader) as again:
        await handlings_of(db, customer_id, contexts)
    # the version, the customer with their business and the customer's state (held items,
    # stop requests): no contracts, no chains
    assert again.count == 4 < first.count


async def test_cached_rows_belong_to_no_session(db, world):
    biz_id, _ = world
    contexts = BusinessContexts()
    async with db.session() as session:
        ctx = await load_business_context(session, await session.get(Business, biz_id), contexts)
        rows = [ctx.business, *ctx.contracts, *ctx.subcontractors.values(), *ctx.purposes.values()]
        assert not any(row in session for row in rows)
    async with db.session() as session:
        assert await load_business_context(session, await session.get(Business, biz_id), contexts) is ctx


async def test_without_a_cache_every_resolution_reads_afresh(db, world):
    biz_id, customer_id = world
    with Statements(db.reader) as first:
        await handlings_of(db, customer_id)
    with Statements(db.reader) as again:
        await handlings_of(db, customer_id)
    assert again.count == first.count > 5


async def test_a_writer_reads_its_own_context_and_caches_nothing(db, world):
    biz_id, customer_id = world
    contexts = BusinessContexts()
    async with db.session(write=True) as session:
        biz = await session.get(Business, biz_id)
        contract = await f.contract(session, biz, await f.subcontractor(session, name="Uncommitted K.K."))
        await f.entrustment(session, contract, [(await f.purposes(session, biz))["P1"]],
                            [(await f.items(session, biz))["name"]])
        handlings = await resolve_handlings(session, customer_id, as_of=TODAY, contexts=contexts)
        assert "Uncommitted K.K." in [h.party.name for h in handlings]
        await session.rollback()
    assert "Uncommitted K.K." not in await handlings_of(db, customer_id, contexts)


async def test_customers_in_different_states_never_share_derived_handlings(db, world):
    biz_id, first_id = world
    async with db.session(write=True) as session:
        biz = await session.get(Business, biz_id)
        second = await f.customer(session, biz, [(await f.items(session, biz))["email"]])
        await session.commit()
    contexts = BusinessContexts()
    async with db.session() as session:
        for customer_id, held in [(first_id, ["name"]), (second.id, ["email"]), (first_id, ["name"])]:
            handlings = await resolve_handlings(session, customer_id, as_of=TODAY, include_excluded=True,
                                                contexts=contexts)
            assert [i.code for i in handlings[0].data_items] == held
            assert handlings[1].excluded == (held == ["email"])  # the contract entrusts the name only
            handlings.clear()  # the caller's list to change: the next answer is whole


async def test_scale_seeding_bumps_the_version_though_its_rows_bypass_the_writer_session(db, clock, monkeypatch):
    from registry import scale

    seen: list[int] = []
    write_customers = scale._World.write_customers

    async def watched(self, bulk, *args):
        seen.append(await version_of(db))  # another session: the bulk transaction is not committed yet
        return await write_customers(self, bulk, *args)

    monkeypatch.setattr(scale._World, "write_customers", watched)
    await scale.seed_scale(db, customers=5, subcontractors=3, clock=clock)
    assert await version_of(db) == seen[0] + 1
