"""The newest committed registry version, read without a session: it follows every commit, and
a read shared by several callers always started after each of them asked."""

import asyncio

from registry import version
from registry.db import Database
from tests import factories as f
from tests.statements import Statements


async def test_the_latest_version_follows_every_commit_without_a_session(db):
    with Statements(db.reader, db.writer) as statements:
        assert await db.latest_version() == 0
    assert statements.count == 0
    async with db.session(write=True) as session:
        await f.subcontractor(session)
        await session.commit()
    assert await db.latest_version() == 1


async def test_an_in_memory_database_has_no_latest_version_to_read():
    database = Database.connect("sqlite+aiosqlite:///:memory:")
    try:
        assert await database.latest_version() is None
    finally:
        await database.dispose()


async def test_a_missing_sqlite_file_is_not_read_nor_created(tmp_path):
    path = tmp_path / "absent.db"
    latest = version.SQLiteLatest(str(path))
    assert await latest.read() is None
    assert not path.exists()


class FakeConnection:
    """A connection to a registry whose version moves when the test says: a read sees the
    version committed when it starts, and waits at `gate` before answering."""

    def __init__(self, registry: dict):
        self.registry = registry
        self.reads = 0
        self.closed = False

    async def fetchval(self, _sql: str) -> int:
        self.reads += 1
        seen = self.registry["version"]
        if self.registry.get("fail"):
            raise ConnectionResetError("the server went away")
        await self.registry["gate"].wait()
        return seen

    def terminate(self) -> None:
        self.closed = True

    async def close(self) -> None:
        self.closed = True


def fake_postgres(registry: dict) -> tuple[version.PostgresLatest, list[FakeConnection]]:
    made: list[FakeConnection] = []

    async def connect() -> FakeConnection:
        made.append(FakeConnection(registry))
        return made[-1]

    return version.PostgresLatest(connect), made


async def test_callers_asking_during_a_read_share_the_next_one_which_sees_what_committed_before_they_asked():
    registry = {"version": 0, "gate": asyncio.Event()}
    latest, made = fake_postgres(registry)
    first = asyncio.create_task(latest.read())
    await asyncio.sleep(0)  # the first read has started, at version 0
    registry["version"] = 1  # a commit, before the next two callers ask
    later = [asyncio.create_task(latest.read()) for _ in range(2)]
    await asyncio.sleep(0)
    registry["gate"].set()
    assert [await first, *[await t for t in later]] == [0, 1, 1]
    assert made[0].reads == 2


async def test_a_failed_read_answers_none_and_the_next_one_reconnects():
    registry = {"version": 3, "gate": asyncio.Event(), "fail": True}
    registry["gate"].set()
    latest, made = fake_postgres(registry)
    assert await latest.read() is None
    registry["fail"] = False
    assert await latest.read() == 3
    assert len(made) == 2 and made[0].closed and not made[1].closed
    await latest.close()
    assert made[1].closed
