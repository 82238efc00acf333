"""The response cache through HTTP: a read after a write never answers from before the write,
in the gateway that wrote or in any other on the same registry; every write path raises the
registry version, a refused write does not."""

import asyncio
import json
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.cli import app as cli
from gateway.graphql_view import GraphQLView
from gateway.settings import load_settings
from registry import tokens, version
from registry.db import Database
from registry.enums import Role

SUBCONTRACTORS = "{ subcontractors(first: 50) { edges { node { id name version } } } }"
HANDLINGS = """query Handlings($ref: String!) {
  customerByRef(businessCode: "loveinn-japan", externalRef: $ref) {
    displayName
    handlings { contract { id reference version } }
  }
}"""
UPDATE = """mutation Rename($input: UpdateSubcontractorInput!) {
  updateSubcontractor(input: $input) { subcontractor { name } errors { code } }
}"""
SUSPEND = """mutation Suspend($input: TransitionContractInput!) {
  transitionContract(input: $input) { contract { status } errors { code } }
}"""


@asynccontextmanager
async def gateway(database_url: str, clock, **settings):
    """Another gateway process on the same registry: its own engines, its own cache."""
    database = Database.connect(database_url)
    app = create_app(load_settings(database_url=database_url, **settings), database=database, clock=clock)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client, app.state.response_cache
    finally:
        await database.dispose()


async def data(client: httpx.AsyncClient, token: str, query: str, variables: dict | None = None) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def registry_version(database: Database) -> int:
    async with database.session() as session:
        return await version.current(session)


async def first_subcontractor(client, token) -> dict:
    return (await data(client, token, SUBCONTRACTORS))["subcontractors"]["edges"][0]["node"]


async def rename(client, token, sub: dict, name: str) -> dict:
    variables = {"input": {"id": sub["id"], "expectedVersion": sub["version"], "name": name}}
    return (await data(client, token, UPDATE, variables))["updateSubcontractor"]


async def test_a_read_after_a_write_shows_the_write(api, database_url, clock):
    token = api.tokens[Role.ADMIN]
    async with gateway(database_url, clock) as (client, cache):
        sub = await first_subcontractor(client, token)
        assert await first_subcontractor(client, token) == sub
        assert cache.stats().hits == 1
        assert (await rename(client, token, sub, "Renamed K.K."))["errors"] == []
        assert (await first_subcontractor(client, token))["name"] == "Renamed K.K."


async def test_a_write_through_one_gateway_is_read_through_another_that_had_cached_the_answer(
    api, database_url, clock
):
    token = api.tokens[Role.ADMIN]
    async with gateway(database_url, clock) as (one, _), gateway(database_url, clock) as (other, other_cache):
        sub = await first_subcontractor(other, token)
        await first_subcontractor(other, token)
        assert other_cache.stats().hits == 1
        assert (await rename(one, token, sub, "Written Elsewhere K.K."))["errors"] == []
        assert (await first_subcontractor(other, token))["name"] == "Written Elsewhere K.K."


async def test_handlings_follow_a_contract_suspended_through_another_gateway(api, database_url, clock):
    token = api.tokens[Role.ADMIN]
    async with gateway(database_url, clock) as (one, _), gateway(database_url, clock) as (other, _):
        found = (await data(other, token, HANDLINGS, {"ref": "LIJ-0001"}))["customerByRef"]["handlings"]
        payment = next(h["contract"] for h in found if h["contract"] and h["contract"]["reference"] == "LIJ-PAY-001")
        suspend = {"input": {"id": payment["id"], "expectedVersion": payment["version"], "to": "SUSPENDED"}}
        assert (await data(one, token, SUSPEND, suspend))["transitionContract"]["errors"] == []
        found = (await data(other, token, HANDLINGS, {"ref": "LIJ-0001"}))["customerByRef"]["handlings"]
        assert "LIJ-PAY-001" not in [h["contract"]["reference"] for h in found if h["contract"]]


async def test_a_mutation_raises_the_version_by_one_and_a_refused_one_not_at_all(api):
    sub = await first_subcontractor(api.client, api.tokens[Role.ADMIN])
    before = await registry_version(api.database)
    stale = {**sub, "version": sub["version"] + 5}
    assert (await rename(api.client, api.tokens[Role.ADMIN], stale, "Stale K.K."))["errors"][0]["code"] == "VERSION_CONFLICT"
    forbidden = await api.gql(UPDATE, {"input": {"id": sub["id"], "expectedVersion": sub["version"], "name": "X"}},
                              role=Role.VIEWER)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await registry_version(api.database) == before
    assert (await rename(api.client, api.tokens[Role.ADMIN], sub, "Renamed K.K."))["errors"] == []
    assert await registry_version(api.database) == before + 1


async def test_personal_data_stays_null_for_a_role_without_it_after_an_admin_cached_the_query(api):
    variables = {"ref": "LIJ-0001"}
    admin = await api.data(HANDLINGS, variables, role=Role.ADMIN)
    viewer = await api.data(HANDLINGS, variables, role=Role.VIEWER)
    assert admin["customerByRef"]["displayName"] == "Hanako Yamada (fictional)"
    assert viewer["customerByRef"]["displayName"] is None
    assert viewer["customerByRef"]["handlings"] == admin["customerByRef"]["handlings"]


async def test_viewer_answers_belong_to_their_token(api):
    async with api.database.session(write=True) as session:
        alice = (await tokens.create_token(session, name="alice", role=Role.VIEWER))[1]
        bob = (await tokens.create_token(session, name="bob", role=Role.VIEWER))[1]
    for token, name in [(alice, "alice"), (bob, "bob"), (alice, "alice")]:
        assert (await data(api.client, token, "{ viewer { name } }"))["viewer"]["name"] == name


async def test_an_answer_with_errors_is_answered_afresh_each_time(api, database_url, clock):
    query = "{ subcontractors(first: 100000) { totalCount } }"  # a page size refused by the registry
    async with gateway(database_url, clock) as (client, cache):
        for _ in range(2):
            response = await client.post("/graphql", json={"query": query},
                                         headers={"Authorization": f"Bearer {api.tokens[Role.ADMIN]}"})
            assert response.json()["errors"]
        assert cache.stats().hits == 0 and cache.stats().entries == 0


async def test_a_zero_megabyte_cache_is_no_cache(api, database_url, clock):
    async with gateway(database_url, clock, response_cache_mb=0) as (client, cache):
        for _ in range(2):
            await first_subcontractor(client, api.tokens[Role.ADMIN])
        assert cache.stats() == cache.stats().__class__(hits=0, misses=0, entries=0, bytes=0, max_bytes=0)


def test_the_cache_size_cannot_be_negative():
    with pytest.raises(ValidationError, match="response_cache_mb"):
        load_settings(response_cache_mb=-1)


async def test_a_hit_keeps_the_graphql_response_media_type(api):
    headers = {"Authorization": f"Bearer {api.tokens[Role.ADMIN]}", "Accept": "application/graphql-response+json"}
    answers = [await api.client.post("/graphql", json={"query": SUBCONTRACTORS}, headers=headers) for _ in range(2)]
    assert [a.headers["content-type"] for a in answers] == ["application/graphql-response+json; charset=utf-8"] * 2
    assert answers[0].content == answers[1].content


def test_what_orjson_refuses_is_still_answered_as_json():
    view = object.__new__(GraphQLView)  # encoding needs no schema
    body = {"errors": [{"message": "echoed: \ud800"}]}  # a lone surrogate, as json.loads lets through
    assert json.loads(view.encode_json(body)) == body
    assert view.encode_json({"data": {"ok": True}}) == b'{"data":{"ok":true}}'


# --- The command line -------------------------------------------------------------------


def test_every_cli_write_raises_the_version(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()

    def after(*args: str) -> int:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output

        async def read() -> int:
            database = Database.connect(url)
            try:
                return await registry_version(database)
            finally:
                await database.dispose()

        return asyncio.run(read())

    assert after("migrate") == 0
    seeded = after("seed", "--demo")
    assert seeded > 0
    assert after("token", "create", "--role", "viewer", "--name", "cli") == seeded + 1
    assert after("token", "revoke", "1") == seeded + 2
    assert after("purge-records") == seeded + 3
