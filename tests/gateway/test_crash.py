"""Crash safety: a server killed with SIGKILL mid-stream loses no acknowledged write and
leaves no write half-done (issue 3: one mutation is one transaction).

Clients stream registerCustomer and createSubcontractor writes, a few at a time, to a live
server; another task SIGKILLs the server once KILL_AFTER writes were acknowledged (HTTP 200
with the object returned), while others are in flight. The server is restarted on the same
database, which must then pass its integrity check, hold every acknowledged write with its
audit event and related rows, and hold no write in part: each customer or subcontractor row
has exactly its create event (and a customer its data items), and no event names a missing
entity. Writes in flight at the kill may have landed or not, but only whole.
"""

import asyncio
import sqlite3
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa

from registry.db import Database, is_sqlite
from registry.enums import Role
from tests.gateway.live import live_database_url, live_server  # noqa: F401  (fixtures)

CLIENTS = 4  # writers in flight at once
MAX_WRITES = 400  # the stream stops here even if the kill never came
KILL_AFTER = 60  # acknowledged writes before the kill
REQUEST_TIMEOUT = 60.0
ITEMS = ["name", "email"]
ACTOR = "crash-writer"

REGISTER = """
mutation ($ref: String!, $items: [String!]!) {
  registerCustomer(input: {businessCode: "loveinn-japan", externalRef: $ref, email: "c@example.jp",
    dataItemCodes: $items}) { customer { id externalRef } errors { code field message } }
}"""
CREATE_SUB = """
mutation ($name: String!) {
  createSubcontractor(input: {name: $name, country: "JP"}) { subcontractor { id name } errors { code message } }
}"""


@dataclass
class Stream:
    """What the clients sent and what the server acknowledged before it died."""

    sent: set[str] = field(default_factory=set)
    acknowledged: set[str] = field(default_factory=set)
    failed: list[str] = field(default_factory=list)  # transport errors: the server died under them
    next_n: int = 0
    kill_now: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self) -> int | None:
        if self.next_n >= MAX_WRITES:
            return None
        self.next_n += 1
        return self.next_n


def write_of(n: int) -> tuple[str, str, dict, str]:
    """The n-th write: (its key, query, variables, payload field); customers and subcontractors alternate."""
    if n % 2:
        return f"CRASH-{n:04d}", REGISTER, {"ref": f"CRASH-{n:04d}", "items": ITEMS}, "registerCustomer"
    return f"Crash Sub {n:04d}", CREATE_SUB, {"name": f"Crash Sub {n:04d}"}, "createSubcontractor"


async def writer(client: httpx.AsyncClient, stream: Stream) -> None:
    while (n := stream.take()) is not None:
        key, query, variables, payload_field = write_of(n)
        stream.sent.add(key)
        try:
            response = await client.post("/graphql", json={"query": query, "variables": variables})
        except httpx.TransportError as error:
            stream.failed.append(f"{key}: {type(error).__name__}")
            return
        assert response.status_code == 200, response.text
        payload = response.json()["data"][payload_field]
        assert payload["errors"] == [], payload
        assert next(v for k, v in payload.items() if k != "errors") is not None
        stream.acknowledged.add(key)
        if len(stream.acknowledged) >= KILL_AFTER:
            stream.kill_now.set()


async def killer(server, stream: Stream) -> int:
    """SIGKILL the server once enough writes were acknowledged; how many were, at that moment."""
    await stream.kill_now.wait()
    acknowledged = len(stream.acknowledged)
    server.kill()
    return acknowledged


async def run_stream(server, token: str) -> tuple[Stream, int]:
    stream = Stream()
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_TIMEOUT,
    ) as client:
        writers = [asyncio.create_task(writer(client, stream)) for _ in range(CLIENTS)]
        kill = asyncio.create_task(killer(server, stream))
        await asyncio.gather(*writers)
        stream.kill_now.set()  # bounded: if the stream ran out first, the kill still happens
        return stream, await kill


async def stored_state(url: str) -> dict:
    """What the restarted database holds of the stream, read directly."""
    database = Database.connect(url)
    try:
        async with database.reader.connect() as conn:
            async def rows(sql: str) -> list:
                return list((await conn.execute(sa.text(sql))).all())

            return {
                "customers": await rows(
                    "SELECT c.external_ref, c.id,"
                    " (SELECT count(*) FROM customer_data_item i WHERE i.customer_id = c.id),"
                    " (SELECT count(*) FROM audit_event e WHERE e.entity_type = 'Customer' AND e.entity_id = c.id"
                    "  AND e.action = 'customer.register' AND e.actor = 'crash-writer')"
                    " FROM customer c WHERE c.external_ref LIKE 'CRASH-%'"
                ),
                "subcontractors": await rows(
                    "SELECT s.name, s.id, 0,"
                    " (SELECT count(*) FROM audit_event e WHERE e.entity_type = 'Subcontractor' AND e.entity_id = s.id"
                    "  AND e.action = 'subcontractor.create' AND e.actor = 'crash-writer')"
                    " FROM subcontractor s WHERE s.name LIKE 'Crash Sub %'"
                ),
                "events_per_entity": await rows(
                    "SELECT entity_type, entity_id, count(*) FROM audit_event WHERE actor = 'crash-writer'"
                    " GROUP BY entity_type, entity_id"
                ),
                "orphan_events": await rows(
                    "SELECT e.id FROM audit_event e WHERE"
                    " (e.entity_type = 'Customer' AND NOT EXISTS (SELECT 1 FROM customer c WHERE c.id = e.entity_id))"
                    " OR (e.entity_type = 'Subcontractor'"
                    "     AND NOT EXISTS (SELECT 1 FROM subcontractor s WHERE s.id = e.entity_id))"
                ),
                "orphan_items": await rows(
                    "SELECT i.customer_id FROM customer_data_item i"
                    " WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.id = i.customer_id)"
                ),
            }
    finally:
        await database.dispose()


def integrity_check(url: str) -> str:
    """SQLite's own verdict on the database file (WAL replayed on open)."""
    path = sa.make_url(url).database
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


async def database_answers(url: str) -> bool:
    database = Database.connect(url)
    try:
        async with database.reader.connect() as conn:
            return (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
    finally:
        await database.dispose()


async def test_a_killed_server_loses_no_acknowledged_write_and_leaves_none_half_written(live_server):
    live_server.seed_demo()
    token = live_server.create_token(Role.ADMIN, name=ACTOR)

    stream, acknowledged_at_kill = await run_stream(live_server, token)
    assert acknowledged_at_kill >= KILL_AFTER, "the stream ended before the kill: raise MAX_WRITES"
    live_server.start()  # same database, same port

    url = live_server.database_url
    if is_sqlite(url):
        assert integrity_check(url) == "ok"
    else:
        assert await database_answers(url)
    ready = httpx.get(f"{live_server.base_url}/readyz", timeout=REQUEST_TIMEOUT)
    assert ready.status_code == 200, ready.text

    state = await stored_state(url)
    found = {row[0]: row for row in state["customers"] + state["subcontractors"]}
    in_flight = stream.sent - stream.acknowledged
    backend = "sqlite" if is_sqlite(url) else "postgresql"
    print(
        f"\n[crash {backend}] writes sent {len(stream.sent)}; acknowledged when the kill was sent "
        f"{acknowledged_at_kill}, acknowledged in all {len(stream.acknowledged)} (answers already on the wire); "
        f"in flight at the kill {len(in_flight)}; found after restart {len(found)}: acknowledged found "
        f"{len(stream.acknowledged & found.keys())}, in-flight landed whole {len(in_flight & found.keys())}"
    )

    assert stream.acknowledged <= found.keys(), sorted(stream.acknowledged - found.keys())
    assert found.keys() <= stream.sent
    customers_whole = {row[0]: (row[2], row[3]) for row in state["customers"]}
    assert set(customers_whole.values()) <= {(len(ITEMS), 1)}, customers_whole
    assert {row[3] for row in state["subcontractors"]} <= {1}
    assert {row[2] for row in state["events_per_entity"]} == {1}
    assert len(state["events_per_entity"]) == len(found)
    assert state["orphan_events"] == [] and state["orphan_items"] == []

    # the restarted server takes writes again
    async with httpx.AsyncClient(base_url=live_server.base_url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=REQUEST_TIMEOUT) as client:
        response = await client.post("/graphql", json={"query": CREATE_SUB, "variables": {"name": "After restart"}})
    assert response.json()["data"]["createSubcontractor"]["errors"] == []
