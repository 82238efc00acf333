"""Migration 0009 (the parties' jurisdiction history), on SQLite and PostgreSQL: down to 0008
drops party_jurisdiction and leaves the parties' current values; up again gives each party
the history its writes recorded in the audit trail, or, for a party without one or changed
while downgraded, one period from 1900-01-01 with its current values, which is what every
answer read at 0008. Either way every answer for any day is the one the database gave before."""

from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import select

from registry import migrate, provisions, subcontractors
from registry.db import Database
from registry.demo import seed_demo
from registry.enums import ForeignTransferBasis
from registry.handling import resolve_handlings
from registry.models import Customer, PartyJurisdiction, Subcontractor, ThirdPartyRecipient
from tests.registry.test_migration_0006 import answer
from tests.registry.test_migration_0007 import columns

ACTOR = "migration-test"
TODAY = date(2026, 11, 25)  # the tests' clock
DAYS = [date(1999, 1, 1), TODAY - timedelta(days=400), TODAY - timedelta(days=31), TODAY - timedelta(days=5), TODAY]


async def answers(database: Database, *, as_at_0008: bool = False) -> dict[tuple[str, date], list[tuple]]:
    """Every customer's handlings on each of DAYS; `as_at_0008`: each party's current values on
    every day, as the registry answered before 0009 (with `today` on the day asked, resolution
    reads the parties' columns and never the history)."""
    async with database.session() as session:
        found = (await session.exec(select(Customer).order_by(Customer.id))).all()
        return {(c.external_ref, day): [answer(h) for h in await resolve_handlings(
            session, c.id, as_of=day, today=day if as_at_0008 else TODAY, include_excluded=True)]
            for c in found for day in DAYS}


async def periods(database: Database) -> list[tuple]:
    async with database.session() as session:
        rows = await session.exec(select(PartyJurisdiction).order_by(PartyJurisdiction.id))
        return [(p.id, p.subcontractor_id, p.recipient_id, p.country, p.foreign_transfer_basis, p.effective_from,
                 p.effective_until) for p in rows]


async def party(session, model, prefix: str):
    return (await session.exec(select(model).where(model.name.startswith(prefix)))).one()


async def moves(session) -> None:
    """Kumo moved to the US without a basis ten days ago; the banks to Singapore last month, with
    a basis recorded from 2026-11-01; the panel provider's basis cleared today."""
    kumo = await party(session, Subcontractor, "Kumo")
    await subcontractors.update_subcontractor(session, actor=ACTOR, id=kumo.id, expected_version=kumo.version,
                                              changes={"country": "US"}, today=TODAY,
                                              effective_on=TODAY - timedelta(days=10))
    panel = await party(session, Subcontractor, "Panelist")
    await subcontractors.update_subcontractor(session, actor=ACTOR, id=panel.id, expected_version=panel.version,
                                              changes={"foreign_transfer_basis": None}, today=TODAY)
    banks = await party(session, ThirdPartyRecipient, "Financial")
    await provisions.update_recipient(session, actor=ACTOR, id=banks.id, changes={"country": "SG"}, today=TODAY,
                                      effective_on=TODAY - timedelta(days=31))
    await provisions.update_recipient(session, actor=ACTOR, id=banks.id, today=TODAY, effective_on=date(2026, 11, 1),
                                      changes={"foreign_transfer_basis": ForeignTransferBasis.CONSENT_WITH_INFORMATION})


async def seeded(url: str, clock, *more) -> Database:
    migrate.upgrade(url)
    database = Database.connect(url)
    async with database.session(write=True) as session:
        assert await seed_demo(session, clock=clock)
        for write in more:
            await write(session)
    return database


async def test_down_to_0008_and_up_again_keeps_every_partys_history_and_every_answer(database_url, clock):
    database = await seeded(database_url, clock, moves)
    before, then = await periods(database), await answers(database)
    assert then != await answers(database, as_at_0008=True)  # the moves are dated in the past
    await database.dispose()
    assert len(before) == 10 + 1 + 4  # a period per party, and one more for each of the four moves

    migrate.downgrade(database_url, "0008")
    assert "party_jurisdiction" not in await columns(database_url)

    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    try:
        assert await periods(database) == before
        assert await answers(database) == then
        async with database.session(write=True) as session:  # the ids go on after the restored ones
            created = await provisions.create_recipient(session, actor=ACTOR, name="New", country="JP", kind="x")
        assert (await periods(database))[-1][:3] == (max(p[0] for p in before) + 1, None, created.id)
    finally:
        await database.dispose()


async def test_parties_with_no_recorded_history_hold_their_current_values_on_every_day(database_url, clock):
    """At 0008 Kumo is moved to the US without a basis (its update rewrote every past answer,
    as updates did then) and a recipient is added with no audit event: after the upgrade each
    has one period from 1900-01-01, and every answer is what 0008 gave; the others get back the
    history their writes recorded."""
    database = await seeded(database_url, clock)
    before = await periods(database)
    await database.dispose()
    migrate.downgrade(database_url, "0008")
    database = Database.connect(database_url)
    async with database.writer.begin() as conn:
        await conn.execute(sa.text("UPDATE subcontractor SET country = 'US' WHERE name LIKE 'Kumo%'"))
        await conn.execute(sa.text("INSERT INTO third_party_recipient (name, country, kind) "
                                   "VALUES ('Loaded', 'DE', 'loyalty programme')"))
    at_0008 = await answers(database, as_at_0008=True)
    await database.dispose()

    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    try:
        assert await answers(database) == at_0008
        async with database.session() as session:
            kumo = await party(session, Subcontractor, "Kumo")
            loaded = await party(session, ThirdPartyRecipient, "Loaded")
        after = await periods(database)
        assert [p[3:] for p in after if p[1] == kumo.id] == [("US", None, date(1900, 1, 1), None)]
        assert [p[3:] for p in after if p[2] == loaded.id] == [("DE", None, date(1900, 1, 1), None)]
        assert [p for p in after if p[1] != kumo.id and p[2] != loaded.id] == [
            p for p in before if p[1] != kumo.id]
    finally:
        await database.dispose()
