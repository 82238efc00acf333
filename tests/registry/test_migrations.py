"""The migrations build exactly the schema of registry/models.py, on SQLite and PostgreSQL."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from registry import migrate
from registry.models import metadata


async def schema_differences(url: str) -> list:
    """What autogenerate would still have to write to bring `url` to the models' schema."""
    engine = create_async_engine(url, poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync_conn: compare_metadata(
                    MigrationContext.configure(sync_conn, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_async_engine(url, poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrating_an_empty_database_builds_exactly_the_models_schema(database_url):
    assert migrate.current(database_url) is None
    migrate.upgrade(database_url)
    assert migrate.current(database_url) == migrate.head()
    assert await schema_differences(database_url) == []
    assert await table_names(database_url) == set(metadata.tables) | {"alembic_version"}


async def test_upgrading_a_database_already_at_head_changes_nothing(database_url):
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)
    assert migrate.current(database_url) == migrate.head()
    assert await schema_differences(database_url) == []


async def test_downgrading_to_base_removes_every_table_and_upgrading_rebuilds_them(database_url):
    migrate.upgrade(database_url)
    migrate.downgrade(database_url, "base")
    assert migrate.current(database_url) is None
    assert await table_names(database_url) == {"alembic_version"}
    migrate.upgrade(database_url)
    assert await schema_differences(database_url) == []


def test_migrations_run_from_sync_code_with_no_event_loop(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'sync.db'}"
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
