"""Creating and upgrading the registry's schema with its Alembic migrations.

The schema of a real database is only ever built by these migrations (DESIGN.md: never
`create_all` outside tests). The Alembic configuration is built here, with the scripts found
beside this module, so it works from an installed package with no alembic.ini. Every entry
point is synchronous, for the CLI; called while an event loop is running (a test, a notebook)
it does its work on a helper thread, since Alembic drives the async engine with asyncio.run.

For a new revision after a model change (review what it generates before committing):
    python -m registry.migrate revision sqlite+aiosqlite:///./scratch.db "add x to y"
"""

import asyncio
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

SCRIPTS = Path(__file__).parent / "migrations"
T = TypeVar("T")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["url"] = url  # not a main option: "%" in a password would be interpolation
    return config


def _off_the_loop(work: Callable[[], T]) -> T:
    """Run `work` here, or on a helper thread when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`; a database already there is left as it is."""
    _off_the_loop(lambda: command.upgrade(alembic_config(url), revision))


def downgrade(url: str, revision: str) -> None:
    """Take the database at `url` back to `revision` ("base": no registry tables at all)."""
    _off_the_loop(lambda: command.downgrade(alembic_config(url), revision))


def head() -> str:
    """The revision the code expects: the newest migration."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current(url: str) -> str | None:
    """The revision the database at `url` is at; None for a database never migrated."""

    async def read() -> str | None:
        engine = create_async_engine(url, poolclass=sa.pool.NullPool)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
                )
        finally:
            await engine.dispose()

    return _off_the_loop(lambda: asyncio.run(read()))


def revision(url: str, message: str) -> None:
    """Autogenerate a new revision from the difference between the models and `url`'s schema."""
    _off_the_loop(lambda: command.revision(alembic_config(url), message=message, autogenerate=True))


if __name__ == "__main__":  # developer entry point, see the module docstring
    if len(sys.argv) != 4 or sys.argv[1] != "revision":
        sys.exit('usage: python -m registry.migrate revision DATABASE_URL "message"')
    upgrade(sys.argv[2])
    revision(sys.argv[2], sys.argv[3])
