"""Database engines and sessions.

`Database` holds two engines on the same URL: a reader and a writer. On SQLite the
writer starts every transaction with BEGIN IMMEDIATE, so concurrent writers queue on the
busy timeout instead of failing when a read lock cannot be upgraded, and readers never
wait on each other (WAL). On PostgreSQL both are one engine. Foreign keys are enforced on
SQLite (they are off by default there).

A session opened with `write=True` is a `WriterSession`: its commit raises the registry
version (registry/version.py) in the same transaction, so every cache keyed on the version
is invalidated by the write itself, whichever service made it and however it failed to say so.
`Database.latest_version` reads the newest committed version without a session.

`Database.one_transaction` is a writer's session whose commits are held: the registry's write
functions each commit their own write, and there a commit only flushes, so several of them make
one transaction, committed once at the end or rolled back whole (`pi-gateway apply`).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from registry import version

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connections an engine opens at most, and keeps once opened: a connection beyond the pool's
# size would be closed after each use and opened again by the next, a connect per request
# whenever more operations than that run at once.
POOL_SIZE = 15


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_in_memory(url: str) -> bool:
    return ":memory:" in url or "mode=memory" in url


def create_engine(url: str, *, immediate: bool = False, echo: bool = False) -> AsyncEngine:
    """An async engine for `url`; on SQLite, `immediate` makes every transaction a writer's.

    Statement parameters are kept out of SQLAlchemy's error messages and logs: they are the
    registry's input, a customer's name or email among them, and no log may hold those."""
    if not is_sqlite(url):
        return _postgres_engine(url, echo=echo)
    in_memory = is_in_memory(url)
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        # an in-memory database lives in one connection: share it
        **(dict(poolclass=sa.pool.StaticPool) if in_memory else dict(pool_size=POOL_SIZE, max_overflow=0)),
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


def _postgres_engine(url: str, *, echo: bool) -> AsyncEngine:
    """A pooled connection the server has closed (a restart, an idle timeout, a terminated
    backend) is replaced when it is checked out, with no statement sent: its socket was closed,
    which the driver notices as the event loop runs. A connection that dies unnoticed fails its
    first statement, and that disconnect retires every connection pooled before it."""
    engine = create_async_engine(url, echo=echo, hide_parameters=True, pool_size=POOL_SIZE, max_overflow=0)

    @sa.event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection, _record, _proxy):
        if dbapi_connection.driver_connection.is_closed():
            raise sa.exc.DisconnectionError("the server closed this pooled connection")

    return engine


def latest_reader(url: str, engine: AsyncEngine) -> version.SQLiteLatest | version.PostgresLatest | None:
    """What reads the newest version on `url` outside the engine's sessions; None in memory,
    where the database is the engine's one connection."""
    if is_sqlite(url):
        return None if is_in_memory(url) else version.SQLiteLatest(engine.url.database)
    _, options = engine.dialect.create_connect_args(engine.url)
    for sqlalchemy_only in ("prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"):
        options.pop(sqlalchemy_only, None)

    async def connect():
        import asyncpg

        return await asyncpg.connect(**options)

    return version.PostgresLatest(connect)


HOLD_COMMITS = "registry.db.hold_commits"  # the session.info key of `Database.one_transaction`


class WriterSession(Session):
    """The synchronous half of a writer's session; see `_bump_on_commit`.

    While its `info` holds HOLD_COMMITS, `commit` only flushes: the caller who set it commits
    the transaction once, or rolls it back (`Database.one_transaction`)."""

    def commit(self) -> None:
        if self.info.get(HOLD_COMMITS):
            self.flush()
            return
        super().commit()


@sa.event.listens_for(WriterSession, "before_commit")
def _bump_on_commit(session: WriterSession) -> None:
    """Every committed write transaction raises the registry version, as its last statement.

    The pending changes are flushed first: on PostgreSQL the version row is then locked only
    for the commit itself, and never while this writer still waits for a row another writer
    holds (which could deadlock with that writer waiting for the version row). A savepoint's
    commit is part of an outer transaction, which bumps when it commits.
    """
    if session.in_nested_transaction():
        return
    session.flush()
    version.bump_in(session)


def writes(session: AsyncSession) -> bool:
    """Whether `session` is a writer's: what it reads may include its own uncommitted changes."""
    return isinstance(session.sync_session, WriterSession)


@dataclass
class Database:
    """The reader and writer engines of one registry database.

    A read session sees one snapshot of the registry from its first statement on: SQLite
    (WAL) does so anyway, PostgreSQL does at REPEATABLE READ, which read sessions use there
    (its default, READ COMMITTED, lets each statement see newer commits). So everything one
    GraphQL operation reads, the registry version included, is of one moment.
    """

    url: str
    reader: AsyncEngine
    writer: AsyncEngine
    _makers: dict[bool, async_sessionmaker[AsyncSession]] = field(init=False, repr=False)
    _latest: version.SQLiteLatest | version.PostgresLatest | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        snapshots = self.reader if is_sqlite(self.url) else self.reader.execution_options(
            isolation_level="REPEATABLE READ")
        self._makers = {
            write: async_sessionmaker(
                self.writer if write else snapshots, class_=AsyncSession, expire_on_commit=False,
                sync_session_class=WriterSession if write else Session,
            )
            for write in (False, True)
        }
        self._latest = latest_reader(self.url, self.reader)

    @classmethod
    def connect(cls, url: str, *, echo: bool = False) -> "Database":
        if is_sqlite(url) and is_in_memory(url):
            # one in-memory database must be one engine, or each would see its own
            engine = create_engine(url, immediate=True, echo=echo)
            return cls(url, engine, engine)
        reader = create_engine(url, echo=echo)
        writer = create_engine(url, immediate=True, echo=echo) if is_sqlite(url) else reader
        return cls(url, reader, writer)

    def sessions(self, *, write: bool) -> async_sessionmaker[AsyncSession]:
        return self._makers[write]

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        async with self.sessions(write=write)() as session:
            yield session

    @asynccontextmanager
    async def one_transaction(self) -> AsyncIterator[AsyncSession]:
        """A writer's session in which the commits of the registry's write functions are held
        (they flush), so everything the block writes commits once when it ends, raising the
        registry version once, or, when it raises, is rolled back whole: no row, no audit event,
        no version."""
        async with self.session(write=True) as session:
            session.sync_session.info[HOLD_COMMITS] = True
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            del session.sync_session.info[HOLD_COMMITS]
            await session.commit()

    async def latest_version(self) -> int | None:
        """The newest committed registry version, read without a session (registry/version.py);
        None when it cannot be read so (an in-memory database, a failed read): a session can."""
        return await self._latest.read() if self._latest else None

    async def ping(self) -> None:
        async with self.reader.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        if self._latest:
            await self._latest.close()
        await self.reader.dispose()
        if self.writer is not self.reader:
            await self.writer.dispose()
