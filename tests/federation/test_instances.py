"""Two pi-gateway processes on one PostgreSQL database, as behind a supergraph's gateway
(README "Behind a supergraph"): a write through one is never followed by a stale read through
the other. Each process keeps its own response cache; every write raises the registry version
in the database, and a process reuses an answer only under the version its read sees. The
reader's cache is warmed before every write, so an answer kept across the write would show."""

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
