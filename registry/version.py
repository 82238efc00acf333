"""The registry version: one number that every committed write raises by one.

Caches of registry data (the gateway's response cache, handling's business contexts) key on
it rather than on time, so a write through any worker or host invalidates every process's
cache with nothing to broadcast: a reader reads the version before anything else and ignores
what was cached under another one (issue 7).

The bump runs in the write's own transaction, as its last statement: the new rows and the
new version become visible together, so no reader sees new data under the old version, nor
old data under the new one. `registry/db.py` bumps on the commit of every writer session;
whoever writes on a bare connection (bulk loading) calls `bump` before committing.

Two reads of it. `current` is the version a session's snapshot sees. `SQLiteLatest` and
`PostgresLatest` read the newest committed version outside any session, for a cache lookup
that may need no session at all (a response-cache hit): it is at least every version
committed before the read began, and at most what any snapshot taken after it sees, so data
read after it is of that version or newer.
"""

import asyncio
import sqlite3
import urllib.parse
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registry.models import RegistryVersion

_TABLE = RegistryVersion.__table__
BUMP = _TABLE.update().where(_TABLE.c.id == 1).values(version=_TABLE.c.version + 1)
_MEMO = "registry_version"


class MissingVersionRow(RuntimeError):
    """The registry_version row is gone: writes would no longer invalidate any cache."""

    def __init__(self) -> None:
        super().__init__("registry_version holds no row: the database was not built by the migrations")


async def current(session: AsyncSession) -> int:
    """The version as the session's transaction sees it, read once per transaction.

    Whatever the transaction reads afterwards is at least that new (on SQLite it is exactly
    that snapshot), which is what makes it safe to cache under this number.
    """
    memo = session.info.get(_MEMO)
    transaction = session.sync_session.get_transaction()
    if memo is not None and transaction is not None and memo[0]() is transaction:
        return memo[1]
    value = (await session.exec(select(RegistryVersion.version).where(RegistryVersion.id == 1))).one()
    session.info[_MEMO] = (weakref.ref(session.sync_session.get_transaction()), value)
    return value


async def bump(connection: AsyncConnection) -> None:
    """Raise the version in `connection`'s transaction, for writes made without a writer session."""
    _require_row(await connection.execute(BUMP))


def bump_in(session: Session) -> None:
    """Raise the version in the transaction of a synchronous session (the writer's commit hook)."""
    _require_row(session.exec(BUMP))


def _require_row(result: CursorResult) -> None:
    if result.rowcount != 1:
        raise MissingVersionRow()


SELECT = "SELECT version FROM registry_version WHERE id = 1"


class SQLiteLatest:
    """The newest committed version of a SQLite file, read on a connection of its own.

    The read runs on the caller's thread, the event loop: an indexed row of a WAL database
    takes a few microseconds, where a trip through aiosqlite's thread takes some 200 of CPU.
    A WAL reader does not wait for writers, and the busy timeout of 0 turns the rare lock a
    reader can meet (the WAL being reset) into an immediate failure: `read` then answers None
    and the caller reads the version in its session instead.
    """

    def __init__(self, path: str):
        self._path = path
        self._connection: sqlite3.Connection | None = None

    async def read(self) -> int | None:
        try:
            if self._connection is None:
                # mode=rw: a missing file is an error here, never created empty
                self._connection = sqlite3.connect(f"file:{urllib.parse.quote(self._path)}?mode=rw", uri=True,
                                                   isolation_level=None, check_same_thread=False)
                self._connection.execute("PRAGMA busy_timeout = 0")
            row = self._connection.execute(SELECT).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresLatest:
    """The newest committed version of a PostgreSQL registry, read on an asyncpg connection of
    its own: one round trip and some 40 µs of CPU, where a session costs a pool check-out and
    its ping, BEGIN, the ORM's SELECT and ROLLBACK (about 1 ms of CPU).

    The connection runs one query at a time, so callers share reads: one that asks while a
    read runs waits for the next read, which starts after it asked (the running one may have
    started before a commit it must see), and so do all who asked meanwhile. A failed read
    answers None (the caller reads the version in its session) and drops the connection,
    which the next read opens afresh.
    """

    def __init__(self, connect: Callable[[], Awaitable[Any]]):
        self._connect = connect
        self._connection: Any = None
        self._lock = asyncio.Lock()
        self._started = self._done = 0
        self._value: int | None = None

    async def read(self) -> int | None:
        wanted = self._started + 1  # reads numbered from here on start after this call
        async with self._lock:
            if self._done >= wanted:
                return self._value
            self._started += 1
            number, value = self._started, await self._fetch()
            if value is not None:
                self._done, self._value = number, value
            return value

    async def _fetch(self) -> int | None:
        try:
            if self._connection is None:
                self._connection = await self._connect()
            return await self._connection.fetchval(SELECT)
        except BaseException as error:  # cancelled mid-read too: the connection's state is unknown
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.terminate()
            if isinstance(error, Exception):
                return None
            raise

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
