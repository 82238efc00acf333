"""Shared fixtures: a fresh registry database per test, a fixed clock.

The database is a SQLite file in the test's temporary folder, or a fresh schema in the
PostgreSQL database named by PI_GATEWAY_TEST_POSTGRES_URL when that is set (tests then
run once per backend). Tables come from the models here; the migrations have their own
test proving they build the same schema.
"""

import os
import uuid
from datetime import datetime, timezone

from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from registry.clock import Clock
from registry.db import Database
from registry.models import metadata

POSTGRES_URL = os.environ.get("PI_GATEWAY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]

# 2026-11-25 10:00 in Tokyo: the registry's "today" in every test unless a test moves it.
FIXED_NOW = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock(timezone="Asia/Tokyo", fixed=FIXED_NOW)


@pytest.fixture(params=BACKENDS)
async def database_url(request, tmp_path):
    """A URL to an empty database; yields once per backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL: set PI_GATEWAY_TEST_POSTGRES_URL to run this test on PostgreSQL")
    async with postgres_database(POSTGRES_URL) as url:
        yield url


@asynccontextmanager
async def postgres_database(server_url: str):
    """A new, empty PostgreSQL database on the server of `server_url`, dropped afterwards."""
    name = f"pigw_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def db(database_url):
    """A Database on an empty registry whose tables are created from the models."""
    database = Database.connect(database_url)
    async with database.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
async def session(db):
    async with db.session(write=True) as session:
        yield session
