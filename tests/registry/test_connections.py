"""Pooled connections: every connection opened for operations running at once is kept for the
next ones (a connect per request otherwise); on PostgreSQL, taking one from the pool costs no
round trip to the server, and one the server has closed (a restart, a terminated backend) is
replaced, not handed out."""

import asyncio
import contextlib

import pytest
import sqlalchemy as sa

from registry.db import Database, is_sqlite
from tests.conftest import POSTGRES_URL, admin_execute


@pytest.fixture
async def postgres(database_url):
    if is_sqlite(database_url):
        pytest.skip("PostgreSQL's pool: SQLite has no server to lose")
    database = Database.connect(database_url)
    yield database
    await database.dispose()


async def driver_connection(session):
    """The asyncpg connection under a session's connection."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


async def read_one(database: Database) -> int:
    async with database.session() as session:
        return (await session.exec(sa.select(sa.literal(1)))).one()[0]


async def test_the_connections_of_operations_run_at_once_are_all_kept_for_the_next(db):
    async with contextlib.AsyncExitStack() as running:
        for _ in range(8):
            session = await running.enter_async_context(db.session())
            await session.connection()
    assert db.reader.pool.checkedin() == 8


async def test_a_read_session_sends_no_statement_besides_its_transaction_and_its_reads(postgres):
    async with postgres.session() as session:
        pooled = await driver_connection(session)
    sent: list[str] = []  # asyncpg logs the statements it sends as text; its prepared reads are not among them
    pooled.add_query_logger(lambda record: sent.append(record.query.split()[0].upper()))
    assert await read_one(postgres) == 1
    assert sent == ["BEGIN", "ROLLBACK;"]


async def test_a_connection_the_server_closed_is_replaced_when_taken_from_the_pool(postgres):
    async with postgres.session() as session:
        pooled = await driver_connection(session)
    name = postgres.reader.url.database
    await admin_execute(POSTGRES_URL, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
    for _ in range(100):  # the driver notices the closed socket as the event loop runs
        if pooled.is_closed():
            break
        await asyncio.sleep(0.02)
    assert pooled.is_closed()
    assert await read_one(postgres) == 1
