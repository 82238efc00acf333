"""The registry version: one number that every committed write raises by one.

Caches of registry data (the gateway's response cache, handling's business contexts) key on
it rather than on time, so a write through any worker or host invalidates every process's
cache with nothing to broadcast: a reader reads the version before anything else and ignores
what was cached under another one (issue 7).

The bump runs in the write's own transaction, as its last statement: the new rows and the
new version become visible together, so no reader sees new data under the old version, nor
old data under the new one. `registry/db.py` bumps on the commit of every writer session;
whoever writes on a bare connection (bulk loading) calls `bump` before committing.
"""

import weakref

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
