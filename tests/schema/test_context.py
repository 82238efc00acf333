"""The operation's session: one query at a time, closed only when no query is running on it."""

import asyncio

import pytest
import sqlalchemy as sa

from schema.context import Context


async def test_finish_waits_for_a_running_read_and_then_refuses_new_ones(db, clock):
    context = Context(database=db, clock=clock, caller=None)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_read(session):
        started.set()
        await release.wait()
        return (await session.exec(sa.select(sa.literal(1)))).one()

    reading = asyncio.create_task(context.run(slow_read))
    await started.wait()
    finishing = asyncio.create_task(context.finish())
    await asyncio.sleep(0)  # let finish() reach the lock
    assert not finishing.done()  # it waits: the session is in use
    release.set()
    assert await reading == (1,)
    await finishing
    with pytest.raises(asyncio.CancelledError):
        await context.run(slow_read)


async def test_reads_after_a_write_use_a_fresh_session(db, clock):
    context = Context(database=db, clock=clock, caller=None)
    first = await context.session()
    async with context.writing():
        pass
    assert await context.session() is not first
    await context.finish()
