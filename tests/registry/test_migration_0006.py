"""Migration 0006 (valid time) keeps every answer for today (DESIGN.md "Time": "Upgrading an
existing database keeps its answers for today"), on SQLite and PostgreSQL.

The demo, seeded at head with a history (a suspension, an ended entrustment, a withdrawn
phone, a scoped STOP_USE, a completed DELETION) and a few more writes, is taken down to
revision 0005, where it has the old shape, and up again: the periods are then derived from
what 0005 stores and from the audit trail, and every demo customer's handlings for today,
excluded parties included, must come out as they were.

The migration knows no business time zone, so its "today" is the UTC date: the registry
here runs on a UTC clock at the real instant, so that both mean the same day."""

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select

from registry import customers, migrate, provisions, requests
from registry.clock import Clock
from registry.db import Database
from registry.demo import BUSINESS, seed_demo
from registry.enums import LegalBasis, RequestKind, RequestStatus
from registry.handling import resolve_handlings
from registry.models import Customer, Provision

ACTOR = "migration-test"


def answer(handling) -> tuple:
    """A handling as comparable values: who, in which role, what, why, under what."""
    return (
        type(handling.party).__name__, handling.party.id, str(handling.role),
        tuple(i.code for i in handling.data_items), tuple(p.code for p in handling.purposes),
        handling.excluded, tuple(str(r) for r in handling.exclusion_reasons),
        handling.contract.id if handling.contract else None,
        handling.provision.id if handling.provision else None,
        tuple(s.id for s in handling.chain),
    )


async def answers_for(database: Database, today) -> dict[str, list[tuple]]:
    async with database.session() as session:
        found = (await session.exec(select(Customer).order_by(Customer.id))).all()
        return {c.external_ref: [answer(h) for h in await resolve_handlings(session, c.id, as_of=today,
                                                                            include_excluded=True)]
                for c in found}


async def more_writes(session, clock: Clock) -> None:
    """Beyond the demo: a DELETION of one item only, and a provision that ended ten days ago."""
    today = clock.today()
    first = await customers.find_customer_by_ref(session, BUSINESS, "LIJ-0001")
    request = await requests.submit_request(session, actor=ACTOR, customer_id=first.id, kind=RequestKind.DELETION,
                                            clock=clock, data_item_codes=["phone"])
    for status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
        await requests.transition_request(session, actor=ACTOR, id=request.id, to=status, clock=clock)
    agency = await provisions.create_recipient(session, actor=ACTOR, name="Collection agency (fictional)",
                                               country="JP", kind="debt collector")
    ended = await provisions.create_provision(
        session, actor=ACTOR, business_code=BUSINESS, recipient_id=agency.id, purpose_codes=["P5"],
        data_item_codes=["name", "amount"], legal_basis=LegalBasis.CONSENT, effective_from=today - timedelta(days=90))
    ended.effective_until = today - timedelta(days=10)  # the registry has no write for it yet: as it would
    session.add(ended)
    await session.commit()


async def columns(url: str) -> dict[str, set[str]]:
    engine = create_async_engine(url, poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: {
                table: {column["name"] for column in sa.inspect(c).get_columns(table)}
                for table in sa.inspect(c).get_table_names()})
    finally:
        await engine.dispose()


async def keep_items_as_0005_did(url: str, ref: str) -> None:
    """Revision 0005 kept the item rows of a customer whose DELETION completed (resolution
    read them as none held); the downgrade, which writes what holds today, has none: put
    them back, as a database that never saw 0006 has them."""
    engine = create_async_engine(url, poolclass=sa.pool.NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO customer_data_item (customer_id, data_item_id) "
                "SELECT c.id, i.id FROM customer c JOIN data_item i ON i.business_id = c.business_id "
                "WHERE c.external_ref = :ref AND i.code IN ('name', 'email')"), {"ref": ref})
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(timezone="UTC", fixed=datetime.now(timezone.utc))


async def test_down_to_0005_and_up_again_every_demo_customers_handlings_for_today_are_unchanged(database_url,
                                                                                                 clock):
    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    async with database.session(write=True) as session:
        assert await seed_demo(session, clock=clock)
        await more_writes(session, clock)
    today = clock.today()
    before = await answers_for(database, today)
    await database.dispose()
    assert len(before) == 8 and all(before.values())

    migrate.downgrade(database_url, "0005")
    old = await columns(database_url)
    assert {"status"} <= old["customer"] and "registered_on" not in old["customer"]
    assert old["customer_data_item"] == {"customer_id", "data_item_id"}
    assert "active" in old["provision"] and "effective_from" not in old["entrustment"]
    assert not {"contract_status_change", "request_target"} & set(old)
    await keep_items_as_0005_did(database_url, "LIJ-0006")

    migrate.upgrade(database_url)
    assert migrate.current(database_url) == migrate.head()
    database = Database.connect(database_url)
    try:
        after = await answers_for(database, today)
        async with database.session() as session:
            ended = (await session.exec(select(Provision).where(Provision.effective_until.is_not(None)))).all()
    finally:
        await database.dispose()
    for ref in before:
        assert after[ref] == before[ref], ref
    assert len(ended) == 1  # the ended provision is still ended
