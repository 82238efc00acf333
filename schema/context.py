"""The typed context of one GraphQL operation.

It carries the caller (already authenticated by the gateway), the registry's clock and
policy values, and one database session opened lazily on first use and closed when the
operation ends. Writes run in their own write session; after each write the read
session and the DataLoader caches are dropped, so what a mutation returns is read fresh.
The registry version (registry/version.py) is the newest committed one, read without a
session, while the operation has no read session yet, else the one its session sees (read at
most once per read session, and afresh after a write, since the write raised it).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from registry import version
from registry.access import Capability, can
from registry.clock import Clock
from registry.db import Database
from registry.enums import Role
from registry.handling import BusinessContexts


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role

    def can(self, capability: Capability) -> bool:
        return can(self.role, capability)


@dataclass(frozen=True)
class Policy:
    """Values the registry's rules take from settings."""

    request_due_days: int = 14
    max_page_size: int = 1000


@dataclass
class Context:
    database: Database
    clock: Clock
    caller: Caller | None
    policy: Policy = field(default_factory=Policy)
    business_contexts: BusinessContexts | None = None  # the app's, shared by its operations; None: read afresh
    request: Any = None
    response: Any = None
    _session: AsyncSession | None = None
    _loaders: Any = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _finished: bool = False

    @property
    def loaders(self):
        if self._loaders is None:
            from schema.loaders import Loaders

            self._loaders = Loaders(self)
        return self._loaders

    async def session(self) -> AsyncSession:
        if self._finished:
            # a sibling field still running after the answer was decided: open nothing new
            raise asyncio.CancelledError("the operation has ended")
        if self._session is None:
            self._session = self.database.sessions(write=False)()
        return self._session

    async def registry_version(self) -> int:
        """A registry version at least as new as every write committed before this call, and no
        newer than what the operation reads: before the read session opens, the newest committed
        one (the session's snapshot, taken later, is of that version or newer); after, the one
        the session sees."""
        if self._session is None:
            latest = await self.database.latest_version()
            if latest is not None:
                return latest
        return await self.run(version.current)

    async def run(self, read: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Call a registry read with the operation's session, one query at a time."""
        async with self._lock:
            return await read(await self.session(), *args, **kwargs)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A write session for one registry write; reads after it start afresh."""
        await self.close()
        async with self.database.session(write=True) as session:
            yield session
        self._loaders = None

    async def close(self) -> None:
        """Drop the read session, after any query running on it has finished."""
        async with self._lock:
            if self._session is not None:
                session, self._session = self._session, None
                await session.close()
            self._loaders = None

    async def abandon(self) -> None:
        """After the operation was cancelled (its timeout): end the read session whatever
        state the cancellation left it in, and open no other. A query cut off mid-way leaves
        its connection in an unknown state (asyncpg: "unknown protocol state"), so the
        connection is invalidated, closed outright rather than returned to the pool."""
        self._finished = True
        session, self._session, self._loaders = self._session, None, None
        if session is not None:
            # After the read still running on it, if any, has ended (the timeout cancelled it,
            # so it ends at once): that read's cancellation closes the connection too, and two
            # closes of one aiosqlite connection at a time never return.
            async with self._lock:
                with contextlib.suppress(Exception):  # the answer (TIMEOUT) is decided already
                    await session.invalidate()

    async def finish(self) -> None:
        """End of the operation: close the session and refuse to open another."""
        self._finished = True
        await self.close()

    @property
    def actor(self) -> str:
        return self.caller.name if self.caller else "anonymous"
