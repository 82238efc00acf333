"""Audit events are never updated or deleted, whatever the interface: the migrated database
itself refuses it (revision 0002), on SQLite and PostgreSQL."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from registry import migrate, subcontractors
from registry.db import Database, is_sqlite
from registry.models import AuditEvent

REFUSALS = {
    "update": "UPDATE audit_event SET actor = 'someone else'",
    "delete": "DELETE FROM audit_event",
}


@pytest.fixture
async def migrated(database_url):
    """A migrated registry holding one audit event (a subcontractor's creation)."""
    migrate.upgrade(database_url)
    database = Database.connect(database_url)
    async with database.session(write=True) as session:
        await subcontractors.create_subcontractor(session, actor="vendor-manager", name="Pay Co", country="JP")
    yield database
    await database.dispose()


async def stored_actors(database: Database) -> list[str]:
    async with database.reader.connect() as conn:
        return list((await conn.execute(sa.select(AuditEvent.actor))).scalars())


@pytest.mark.parametrize("statement", REFUSALS.values(), ids=REFUSALS.keys())
async def test_the_database_refuses_to_update_or_delete_an_audit_event(migrated, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        async with migrated.writer.begin() as conn:
            await conn.execute(sa.text(statement))
    assert await stored_actors(migrated) == ["vendor-manager"]


async def test_the_database_refuses_to_truncate_the_audit_trail_on_postgresql(migrated):
    if is_sqlite(migrated.url):
        pytest.skip("SQLite has no TRUNCATE; DELETE is refused instead")
    with pytest.raises(DBAPIError, match="append-only"):
        async with migrated.writer.begin() as conn:
            await conn.execute(sa.text("TRUNCATE audit_event"))
    assert await stored_actors(migrated) == ["vendor-manager"]


async def test_appending_audit_events_still_works_on_the_migrated_database(migrated):
    async with migrated.session(write=True) as session:
        await subcontractors.create_subcontractor(session, actor="second", name="Mail Co", country="JP")
    assert await stored_actors(migrated) == ["vendor-manager", "second"]


async def test_downgrading_below_0002_lifts_the_append_only_rule(migrated):
    await migrated.dispose()
    migrate.downgrade(migrated.url, "0001")
    async with migrated.writer.begin() as conn:
        await conn.execute(sa.text(REFUSALS["delete"]))
    assert await stored_actors(migrated) == []
    migrate.upgrade(migrated.url)
    async with migrated.session(write=True) as session:
        await subcontractors.create_subcontractor(session, actor="again", name="Mail Co", country="JP")
    with pytest.raises(DBAPIError, match="append-only"):
        async with migrated.writer.begin() as conn:
            await conn.execute(sa.text(REFUSALS["update"]))
    assert await stored_actors(migrated) == ["again"]
