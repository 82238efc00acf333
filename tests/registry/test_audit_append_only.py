"""Audit events are never updated or deleted, whatever the interface: the migrated database
itself refuses it (revision 0002), on SQLite and PostgreSQL. The one exception (revision
0005) is the erasure's redaction: a Customer or DataSubjectRequest event's personal fields
may be replaced by the marker, and nothing else of any event may change."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from registry import customers, migrate, requests, subcontractors
from registry.audit import REDACTED
from registry.db import Database, is_sqlite
from registry.enums import RequestKind, RequestStatus
from registry.models import AuditEvent
from tests import factories
from tests.conftest import TEST_CLOCK

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


# --- the erasure's redaction, the one update allowed (revision 0005) ------------------------

NAME = "Erase Me"
CUSTOMER_EVENT = "WHERE entity_type = 'Customer'"
REDACT = f"UPDATE audit_event SET after = replace(after, '{NAME}', '{REDACTED}') {CUSTOMER_EVENT}"
NOT_A_REDACTION = {
    "actor of a customer event": f"UPDATE audit_event SET actor = 'someone else' {CUSTOMER_EVENT}",
    "redaction that also moves the event": f"UPDATE audit_event SET entity_id = entity_id + 1, "
    f"after = replace(after, '{NAME}', '{REDACTED}') {CUSTOMER_EVENT}",
    "other field of a customer event": f"UPDATE audit_event SET after = replace(after, 'ERASE-1', 'ERASE-2') "
    f"{CUSTOMER_EVENT}",
    "personal field to another value": f"UPDATE audit_event SET after = replace(after, '{NAME}', 'Someone') "
    f"{CUSTOMER_EVENT}",
    "personal field nulled, not marked": f"UPDATE audit_event SET after = replace(after, '\"{NAME}\"', 'null') "
    f"{CUSTOMER_EVENT}",
    "customer document dropped": f"UPDATE audit_event SET after = NULL {CUSTOMER_EVENT}",
    "documents of a subcontractor event": "UPDATE audit_event SET after = replace(after, 'Pay Co', "
    f"'{REDACTED}') WHERE entity_type = 'Subcontractor'",
    "delete of a customer event": f"DELETE FROM audit_event {CUSTOMER_EVENT}",
}


@pytest.fixture
async def with_customer(migrated):
    """The migrated registry with a customer's registration in its trail too."""
    async with migrated.session(write=True) as session:
        business = await factories.business(session)
        await session.commit()
        await customers.register_customer(
            session, actor="po", business_code=business.code, external_ref="ERASE-1", display_name=NAME,
            email="erase@example.test", data_item_codes=["name"], registered_on=factories.SINCE,
            today=TEST_CLOCK.today(),
        )
    return migrated


async def stored_documents(database: Database) -> list[tuple]:
    """Every stored event, every column, in id order."""
    async with database.reader.connect() as conn:
        return [tuple(row) for row in await conn.execute(sa.select(AuditEvent.__table__).order_by(AuditEvent.id))]


@pytest.mark.parametrize("statement", NOT_A_REDACTION.values(), ids=NOT_A_REDACTION.keys())
async def test_the_database_refuses_every_update_that_is_not_a_redaction(with_customer, statement):
    stored = await stored_documents(with_customer)
    with pytest.raises(DBAPIError, match="append-only"):
        async with with_customer.writer.begin() as conn:
            await conn.execute(sa.text(statement))
    assert await stored_documents(with_customer) == stored


async def test_the_database_lets_a_customer_events_personal_field_be_redacted_and_never_restored(with_customer):
    async with with_customer.writer.begin() as conn:
        await conn.execute(sa.text(REDACT))
    stored = await stored_documents(with_customer)
    assert NAME not in str(stored) and REDACTED in str(stored)
    with pytest.raises(DBAPIError, match="append-only"):
        async with with_customer.writer.begin() as conn:
            await conn.execute(sa.text(f"UPDATE audit_event SET after = replace(after, '{REDACTED}', '{NAME}') "
                                       f"{CUSTOMER_EVENT}"))
    assert await stored_documents(with_customer) == stored


async def test_a_completed_deletion_redacts_the_trail_of_the_migrated_database(with_customer, clock):
    async with with_customer.session(write=True) as session:
        [customer] = (await customers.list_customers(session)).items
        request = await requests.submit_request(
            session, actor="po", customer_id=customer.id, kind=RequestKind.DELETION, clock=clock, detail=NAME
        )
        for status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED):
            await requests.transition_request(session, actor="po", id=request.id, to=status, clock=clock)
    stored = await stored_documents(with_customer)
    assert NAME not in str(stored)
    assert stored[-1][AuditEvent.__table__.columns.keys().index("action")] == "audit.redact"


async def test_downgrading_to_0004_refuses_the_redaction_again(with_customer):
    await with_customer.dispose()
    migrate.downgrade(with_customer.url, "0004")
    with pytest.raises(DBAPIError, match="append-only"):
        async with with_customer.writer.begin() as conn:
            await conn.execute(sa.text(REDACT))
    assert NAME in str(await stored_documents(with_customer))
    migrate.upgrade(with_customer.url)
    async with with_customer.writer.begin() as conn:
        await conn.execute(sa.text(REDACT))
    assert NAME not in str(await stored_documents(with_customer))
