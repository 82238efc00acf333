"""Database engines and sessions.

`Database` holds two engines on the same URL: a reader and a writer. On SQLite the
writer starts every transaction with BEGIN IMMEDIATE, so concurrent writers queue on the
busy timeout instead of failing when a read lock cannot be upgraded, and readers never
wait on each other (WAL). On PostgreSQL both are one engine. Foreign keys are enforced on
SQLite (they are off by default there).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, immediate: bool = False, echo: bool = False) -> AsyncEngine:
    """An async engine for `url`; on SQLite, `immediate` makes every transaction a writer's."""
    if not is_sqlite(url):
        return create_async_engine(url, echo=echo, pool_pre_ping=True)
    in_memory = ":memory:" in url or "mode=memory" in url
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        # an in-memory database lives in one connection: share it
        poolclass=sa.pool.StaticPool if in_memory else None,
    )
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(begin)

    return engine


@dataclass
class Database:
    """The reader and writer engines of one registry database."""

    url: str
    reader: AsyncEngine
    writer: AsyncEngine

    @classmethod
    def connect(cls, url: str, *, echo: bool = False) -> "Database":
        if is_sqlite(url) and (":memory:" in url or "mode=memory" in url):
            # one in-memory database must be one engine, or each would see its own
            engine = create_engine(url, immediate=True, echo=echo)
            return cls(url, engine, engine)
        reader = create_engine(url, echo=echo)
        writer = create_engine(url, immediate=True, echo=echo) if is_sqlite(url) else reader
        return cls(url, reader, writer)

    def sessions(self, *, write: bool) -> async_sessionmaker[AsyncSession]:
        return async_sessionmaker(
            self.writer if write else self.reader, class_=AsyncSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        async with self.sessions(write=write)() as session:
            yield session

    async def ping(self) -> None:
        async with self.reader.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.reader.dispose()
        if self.writer is not self.reader:
            await self.writer.dispose()
