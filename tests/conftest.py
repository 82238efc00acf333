"""Shared fixtures: a registry database of the test's own, a fixed clock.

The database is a SQLite file in the test's temporary folder, or a PostgreSQL database on the
server named by PI_GATEWAY_TEST_POSTGRES_URL when that is set (tests then run once per
backend). Building a registry is slow and copying one is quick, so a test using a fixture
named in TEMPLATE_OF starts on a copy of that fixture's template, built once per session and
backend: the models' tables for `db`, the migrated demo registry for `api`
(tests/gateway/conftest.py) and `demo`, a migrated empty registry for `migrated`. Any other test starts
on an empty database. The migrations have their own test proving they build the same schema
as the models."""

import asyncio
import os
import shutil
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, closing
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from registry import migrate, tokens
from registry.clock import Clock
from registry.db import Database, is_sqlite
from registry.demo import seed_demo
from registry.enums import Role
from registry.models import metadata

POSTGRES_URL = os.environ.get("PI_GATEWAY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]

# 2026-11-25 10:00 in Tokyo: the registry's "today" in every test unless a test moves it.
FIXED_NOW = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)
TEST_CLOCK = Clock(timezone="Asia/Tokyo", fixed=FIXED_NOW)
T = TypeVar("T")


@pytest.fixture
def clock() -> Clock:
    return Clock(timezone="Asia/Tokyo", fixed=FIXED_NOW)


async def create_tables(url: str) -> None:
    """The template of `db`: the models' tables, empty."""
    database = Database.connect(url)
    async with database.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await database.dispose()


async def demo_registry(url: str) -> dict[Role, str]:
    """The template of `api`: the migrated demo registry on TEST_CLOCK and one token per
    role; the tokens' secrets, which the database does not keep."""
    migrate.upgrade(url)
    database = Database.connect(url)
    async with database.session(write=True) as session:
        assert await seed_demo(session, clock=TEST_CLOCK)
        issued = {role: (await tokens.create_token(session, name=f"test-{role.lower()}", role=role))[1]
                  for role in Role}
    await database.dispose()
    return issued


async def migrated_registry(url: str) -> None:
    """The template of `migrated` (tests/registry/test_audit_append_only.py) and of the live
    server's database (tests/gateway/live.py): migrated, empty."""
    migrate.upgrade(url)


Build = Callable[[str], Awaitable]
# a test using one of these fixtures starts on a copy of its template (the first one listed)
TEMPLATE_OF = {"api": demo_registry, "migrated": migrated_registry, "db": create_tables, "demo": demo_registry}
COPIES_AHEAD = 2  # PostgreSQL copies of each template being made while earlier tests run


class Templates:
    """Template databases, each built once per session and backend by its `Build`, and the
    copies tests start on. A PostgreSQL copy (CREATE DATABASE ... TEMPLATE) takes longer than
    most tests, so copies are made ahead, and dropped after use, on worker threads."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.built: dict[tuple[str, Build], tuple[str, object]] = {}
        self.workers = ThreadPoolExecutor(max_workers=COPIES_AHEAD)
        self.ahead: dict[str | None, list[Future[str]]] = {}
        self.drops: list[Future[None]] = []

    async def get(self, backend: str, build: Build) -> tuple[str, object]:
        """The template's URL and what its build returned (built now when it is the first ask)."""
        if (backend, build) not in self.built:
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{self.folder / f'{build.__name__}.db'}"
            else:
                url = await create_postgres_database(POSTGRES_URL)
            result = await build(url)
            if backend == "sqlite":  # everything into the file itself, which is what gets copied
                with closing(sqlite3.connect(sa.make_url(url).database)) as conn:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.built[backend, build] = url, result
        return self.built[backend, build]

    @asynccontextmanager
    async def copy(self, backend: str, build: Build | None, sqlite_path: Path):
        """The URL of a new database on `backend`: a copy of `build`'s template, or empty."""
        template = (await self.get(backend, build))[0] if build else None
        if backend == "sqlite":
            if template:
                shutil.copy(sa.make_url(template).database, sqlite_path)
            yield f"sqlite+aiosqlite:///{sqlite_path}"
            return
        queue = self.ahead.setdefault(template, [])
        while len(queue) <= COPIES_AHEAD:
            queue.append(self.workers.submit(on_a_new_loop, create_postgres_database, POSTGRES_URL, template))
        url = await asyncio.wrap_future(queue.pop(0))
        try:
            yield url
        finally:
            self.drops.append(self.workers.submit(on_a_new_loop, drop_postgres_databases, POSTGRES_URL, [url]))

    def close(self) -> None:
        """Drop every PostgreSQL database made: the copies, those never used and the templates."""
        unused = [made.result() for queue in self.ahead.values() for made in queue if made.exception() is None]
        urls = unused + [url for url, _ in self.built.values() if not is_sqlite(url)]
        if urls:
            asyncio.run(drop_postgres_databases(POSTGRES_URL, urls))
        self.workers.shutdown()
        for dropped in self.drops:
            dropped.result()  # a copy that could not be dropped fails the session


def on_a_new_loop(work: Callable[..., Awaitable[T]], *args) -> T:
    return asyncio.run(work(*args))


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.close()


@pytest.fixture(params=BACKENDS)
async def database_url(request, tmp_path, templates):
    """A URL to a database of the test's own; yields once per backend (see the module docstring)."""
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL: set PI_GATEWAY_TEST_POSTGRES_URL to run this test on PostgreSQL")
    build = next((TEMPLATE_OF[name] for name in TEMPLATE_OF if name in request.fixturenames), None)
    async with templates.copy(request.param, build, tmp_path / "registry.db") as url:
        yield url


async def admin_execute(server_url: str, *statements: str) -> None:
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        async with admin.connect() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await admin.dispose()


async def create_postgres_database(server_url: str, template: str | None = None) -> str:
    """A new PostgreSQL database on the server of `server_url`, empty or a copy of the
    database at `template` (which must then have no connection open); its URL."""
    name = f"pigw_test_{uuid.uuid4().hex[:12]}"
    copy_of = f' TEMPLATE "{sa.make_url(template).database}"' if template else ""
    await admin_execute(server_url, f'CREATE DATABASE "{name}"{copy_of}')
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_databases(server_url: str, urls: list[str]) -> None:
    drops = (f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)' for url in urls)
    await admin_execute(server_url, *drops)


@asynccontextmanager
async def postgres_database(server_url: str, *, template: str | None = None):
    """A new PostgreSQL database (see `create_postgres_database`), dropped afterwards."""
    url = await create_postgres_database(server_url, template)
    try:
        yield url
    finally:
        await drop_postgres_databases(server_url, [url])


@pytest.fixture
async def demo(database_url):
    """A Database on a copy of the demo registry (the `api` fixture's template), per backend."""
    database = Database.connect(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def db(database_url):
    """A Database on an empty registry whose tables were created from the models."""
    database = Database.connect(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def session(db):
    async with db.session(write=True) as session:
        yield session
