"""Two pi-gateway processes on one PostgreSQL database, as behind a supergraph's gateway
(README "Behind a supergraph"): a write through one is never followed by a stale read through
the other. Each process keeps its own response cache; every write raises the registry version
in the database, and a process reuses an answer only under the version its read sees. The
reader's cache is warmed before every write, so an answer kept across the write would show.

Both tests fail when the response cache keys its answers on anything but the version the
database holds (tried: schema/cache.py keying every answer under version 0 fails the first on
its first round and the second on a write refused for a stale `expectedVersion`)."""

import httpx
import pytest

from registry.enums import Role
from tests.conftest import POSTGRES_URL
from tests.gateway.live import LiveServer, backend_database

READ = "query ($id: ID!) { subcontractor(id: $id) { name version } }"
WRITE = """mutation ($input: UpdateSubcontractorInput!) {
  updateSubcontractor(input: $input) { subcontractor { name version } errors { code } } }"""
ROUNDS = 40


@pytest.fixture
async def shared_database(tmp_path, templates):
    if not POSTGRES_URL:
        pytest.skip("two instances share one PostgreSQL database: set PI_GATEWAY_TEST_POSTGRES_URL")
    async with backend_database("postgresql", tmp_path, templates) as url:
        yield url


def test_a_write_through_one_instance_is_read_at_once_through_the_other(shared_database, tmp_path):
    first, second = LiveServer(shared_database, tmp_path / "a"), LiveServer(shared_database, tmp_path / "b")
    for server in (first, second):
        server.log_dir.mkdir()
    first.seed_demo()
    token = first.create_token(Role.ADMIN, "two-instances")
    first.start()
    try:
        second.start()
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as client:
            def ask(server, query, variables):
                body = client.post(f"{server.base_url}/graphql", json={"query": query, "variables": variables}).json()
                assert "errors" not in body, body
                return body["data"]

            sub_id = ask(first, "{ subcontractors(first: 1) { edges { node { id } } } }", {})[
                "subcontractors"]["edges"][0]["node"]["id"]
            for n in range(ROUNDS):
                writer, reader = (first, second) if n % 2 == 0 else (second, first)
                before = ask(reader, READ, {"id": sub_id})["subcontractor"]  # now in the reader's cache
                ask(writer, READ, {"id": sub_id})
                written = ask(writer, WRITE, {"input": {"id": sub_id, "expectedVersion": before["version"],
                                                        "name": f"Renamed {n} (fictional)"}})["updateSubcontractor"]
                assert written["errors"] == [], written
                assert ask(reader, READ, {"id": sub_id})["subcontractor"] == written["subcontractor"], n
    finally:
        second.stop()
        first.stop()


LOAD_SECONDS = 6.0
READERS = 4


def test_under_load_no_read_begun_after_a_write_answered_sees_an_older_version(shared_database, tmp_path):
    """Readers keep asking both instances while a writer alternates between them. Every read
    that began after a write had answered (by the test's monotonic clock) must see that write's
    version or a newer one, whichever instance it asked and whatever that instance had cached."""
    import threading
    import time

    first, second = LiveServer(shared_database, tmp_path / "a"), LiveServer(shared_database, tmp_path / "b")
    for server in (first, second):
        server.log_dir.mkdir()
    first.seed_demo()
    token = first.create_token(Role.ADMIN, "two-instances-load")
    headers = {"Authorization": f"Bearer {token}"}
    first.start()
    try:
        second.start()
        servers = (first, second)
        with httpx.Client(headers=headers, timeout=30.0) as client:
            sub_id = client.post(f"{first.base_url}/graphql", json={
                "query": "{ subcontractors(first: 1) { edges { node { id } } } }"}).json()[
                "data"]["subcontractors"]["edges"][0]["node"]["id"]
        writes: list[tuple[float, int]] = []  # (answered at, version written)
        reads: list[tuple[float, int, int]] = []  # (begun at, version seen, instance)
        failures: list[str] = []
        stop = threading.Event()

        def reader(n: int) -> None:
            with httpx.Client(headers=headers, timeout=30.0) as client:
                i = n
                while not stop.is_set():
                    server = servers[i % 2]
                    i += 1
                    begun = time.monotonic()
                    body = client.post(f"{server.base_url}/graphql",
                                       json={"query": READ, "variables": {"id": sub_id}}).json()
                    if "errors" in body:
                        failures.append(str(body["errors"])[:300])
                        return
                    reads.append((begun, body["data"]["subcontractor"]["version"], i % 2))

        threads = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
        for thread in threads:
            thread.start()
        try:
            with httpx.Client(headers=headers, timeout=30.0) as client:
                deadline, n = time.monotonic() + LOAD_SECONDS, 0
                while time.monotonic() < deadline and not failures:
                    writer = servers[n % 2]
                    version = client.post(f"{writer.base_url}/graphql", json={
                        "query": READ, "variables": {"id": sub_id}}).json()["data"]["subcontractor"]["version"]
                    body = client.post(f"{writer.base_url}/graphql", json={"query": WRITE, "variables": {"input": {
                        "id": sub_id, "expectedVersion": version, "name": f"Loaded {n} (fictional)"}}}).json()
                    payload = body["data"]["updateSubcontractor"]
                    assert payload["errors"] == [], payload
                    writes.append((time.monotonic(), payload["subcontractor"]["version"]))
                    n += 1
                    time.sleep(0.05)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert not failures, failures
        assert len(writes) >= 10 and len(reads) >= 100, (len(writes), len(reads))
        stale = [(begun, seen, instance) for begun, seen, instance in reads
                 for answered, written in writes if answered < begun and seen < written]
        assert not stale, f"{len(stale)} stale reads, e.g. {stale[:3]}"
        assert {instance for _, _, instance in reads} == {0, 1}
    finally:
        second.stop()
        first.stop()
